import Dispatch
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

extension Broker {
    /// Enqueues every partition's batches on its append lane now (in the connection's order; the
    /// partitions of the request append in parallel) and answers per `acks`: 0 never, 1 once
    /// appended, -1 once the appended data is durable.
    func produce(_ request: ProduceRequest, frame: KafkaRequestFrame) throws -> PendingResponse {
        var response = ProduceResponse()
        let outcomes = NIOLockedValueBox<[(topic: Int, partition: Int, log: Partition, result: Result<AppendResult, any Error>)]>([])
        let appended = DispatchGroup()
        let validAcks = request.acks == 0 || request.acks == 1 || request.acks == -1
        for topicData in request.topicData {
            var topicResponse = ProduceResponse.TopicProduceResponse(name: topicData.name)
            for partitionData in topicData.partitionData {
                var partitionResponse = ProduceResponse.PartitionProduceResponse(index: partitionData.index)
                partitionResponse.baseOffset = -1
                if !validAcks {
                    partitionResponse.errorCode = KafkaErrorCode.invalidRequiredAcks.rawValue
                } else if InternalTopics.coordinatorTopics.contains(topicData.name) {
                    // Kafka's rule: clients never write the coordinators' topics, whose records the
                    // coordinators replay at start.
                    partitionResponse.errorCode = KafkaErrorCode.invalidTopicException.rawValue
                    partitionResponse.errorMessage = "\(topicData.name) is an internal topic: clients cannot produce to it"
                } else {
                    do {
                        let partition = try self.log.partition(TopicPartition(topicData.name, partitionData.index))
                        let (topicIndex, partitionIndex) = (response.responses.count, topicResponse.partitionResponses.count)
                        let (records, transactionalId) = (partitionData.records, request.transactionalId)
                        appended.enter()
                        self.appendLanes.enqueue(partition.topicPartition) {
                            let result = Result { () throws -> AppendResult in try self.append(records, to: partition, transactionalId: transactionalId) }
                            outcomes.withLockedValue { $0.append((topicIndex, partitionIndex, partition, result)) }
                            appended.leave()
                        }
                    } catch {
                        self.refuse(&partitionResponse, topicData.name, partitionData.index, error)
                    }
                }
                topicResponse.partitionResponses.append(partitionResponse)
            }
            response.responses.append(topicResponse)
        }
        guard request.acks != 0 else {
            // No answer, but the connection still waits for the appends in its turn, so that its
            // requests in flight (`KafkaServer.requestsInFlightMax`) bound what the lanes hold.
            return .later(Task {
                await appended.finished()
                return .none
            })
        }
        let unfinished = response
        let acks = request.acks
        return .later(Task {
            await appended.finished()
            var response = unfinished
            for outcome in outcomes.withLockedValue({ $0 }) {
                let topicName = response.responses[outcome.topic].name
                var partitionResponse = response.responses[outcome.topic].partitionResponses[outcome.partition]
                switch outcome.result {
                case .success(let result):
                    partitionResponse.baseOffset = result.baseOffset
                    partitionResponse.logAppendTimeMs = result.logAppendTime
                    partitionResponse.logStartOffset = result.logStartOffset
                    if acks == -1 {
                        do {
                            try await outcome.log.waitUntilDurable(result.lastOffset + 1)
                        } catch {
                            partitionResponse.errorCode = Self.errorCode(for: error).rawValue
                        }
                    }
                case .failure(let error):
                    self.refuse(&partitionResponse, topicName, partitionResponse.index, error)
                }
                response.responses[outcome.topic].partitionResponses[outcome.partition] = partitionResponse
            }
            do { return .ready(try self.respond(response, to: frame)) } catch { return .close(reason: "cannot encode a produce response: \(error)") }
        })
    }

    /// Fills in a partition's refusal; unusual ones are logged.
    private func refuse(_ partitionResponse: inout ProduceResponse.PartitionProduceResponse, _ topic: String, _ partition: Int32, _ error: any Error) {
        let code = Self.errorCode(for: error)
        partitionResponse.errorCode = code.rawValue
        partitionResponse.errorMessage = (error as? SluiceError)?.message
        if code != .unknownTopicOrPartition && code != .outOfOrderSequenceNumber {
            self.logger.info("produce to \(topic)-\(partition) refused: \(error)")
        }
    }

    /// Appends the batches of one partition's records; the result of the first with the last offset of the last.
    private func append(_ records: ByteBuffer?, to partition: Partition, transactionalId: String?) throws -> AppendResult {
        guard let records, records.readableBytes > 0 else {
            throw SluiceError(.corruptData, "produce request without record batches")
        }
        var batches = RecordBatchSequence(records)
        var first: AppendResult?
        var last: AppendResult?
        while let batch = try batches.next() {
            guard batch.magic == RecordBatch.currentMagic else {
                throw SluiceError(.corruptData, "record batch magic \(batch.magic) is not supported; only v2 batches are")
            }
            if batch.isTransactional {
                guard transactionalId != nil else {
                    throw SluiceError(.invalidTransactionState, "a transactional batch in a produce request without a transactional id")
                }
                switch self.transactions.partitions.verdict(producerId: batch.producerId, epoch: batch.producerEpoch, partition: partition.topicPartition) {
                case .allowed:
                    break
                case .fenced:
                    throw SluiceError(.producerFenced, "producer \(batch.producerId) epoch \(batch.producerEpoch) was fenced by a newer epoch")
                case .notInTransaction:
                    throw SluiceError(.invalidTransactionState,
                                      "\(partition.topicPartition) is not in an ongoing transaction of producer \(batch.producerId) (epoch \(batch.producerEpoch)): add it with AddPartitionsToTxn first")
                }
            }
            let result = try partition.append(batch)
            if first == nil { first = result }
            last = result
        }
        guard var combined = first, let last else { throw SluiceError(.corruptData, "produce request without record batches") }
        combined.lastOffset = last.lastOffset
        return combined
    }
}

extension DispatchGroup {
    /// Returns once every work item entered so far has left.
    fileprivate func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.notify(queue: .global()) { continuation.resume() }
        }
    }
}
