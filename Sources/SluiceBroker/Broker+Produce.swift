import Logging
import NIOConcurrencyHelpers
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

extension Broker {
    /// Enqueues every partition's batches on its append lane now (in the connection's order; the
    /// partitions of the request append in parallel), the last one appended right here when its
    /// lane is idle (`AppendLanes.runOrEnqueue`), and answers per `acks`: 0 never, 1 once
    /// appended, -1 once the appended data is durable.
    func produce(_ request: ProduceRequest, frame: KafkaRequestFrame) throws -> PendingResponse {
        var response = ProduceResponse()
        let acks = request.acks
        let completion = ProduceCompletion()
        let validAcks = acks == 0 || acks == 1 || acks == -1
        var appends: [(TopicPartition, @Sendable () -> Void)] = []
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
                        completion.begin()
                        appends.append((partition.topicPartition, {
                            let result = Result { () throws -> AppendResult in try self.append(records, to: partition, transactionalId: transactionalId) }
                            let outcome = ProduceCompletion.Outcome(topic: topicIndex, partition: partitionIndex, result: result)
                            guard acks == -1, case .success(let appended) = result else { return completion.end(outcome) }
                            // Answered from the thread that syncs: no task wakes up in between.
                            partition.whenDurable(appended.lastOffset + 1) { synced in
                                var durable = outcome
                                if case .failure(let error) = synced { durable.syncError = error }
                                completion.end(durable)
                            }
                        }))
                    } catch {
                        self.refuse(&partitionResponse, topicData.name, partitionData.index, error)
                    }
                }
                topicResponse.partitionResponses.append(partitionResponse)
            }
            response.responses.append(topicResponse)
        }
        // The others start on their lanes first, so that they append in parallel with the last.
        if let last = appends.popLast() {
            for (topicPartition, append) in appends { self.appendLanes.enqueue(topicPartition, append) }
            self.appendLanes.runOrEnqueue(last.0, last.1)
        }
        let slot = ResponseSlot()
        let unfinished = response
        // Not the frame: its buffer (a request of up to a MiB) is let go once the lanes have appended
        // its batches, rather than on the thread that answers, after the sync.
        let (version, correlationId) = (frame.apiVersion, frame.correlationId)
        completion.endSetup { outcomes in
            // With acks=0 no answer, but the connection still waits for the appends in its turn, so
            // that its requests in flight (`KafkaServer.requestsInFlightMax`) bound what the lanes hold.
            guard acks != 0 else { return slot.fulfill(.none) }
            var response = unfinished
            for outcome in outcomes {
                let topicName = response.responses[outcome.topic].name
                var partitionResponse = response.responses[outcome.topic].partitionResponses[outcome.partition]
                switch outcome.result {
                case .success(let result):
                    partitionResponse.baseOffset = result.baseOffset
                    partitionResponse.logAppendTimeMs = result.logAppendTime
                    partitionResponse.logStartOffset = result.logStartOffset
                    if let error = outcome.syncError { partitionResponse.errorCode = Self.errorCode(for: error).rawValue }
                case .failure(let error):
                    self.refuse(&partitionResponse, topicName, partitionResponse.index, error)
                }
                response.responses[outcome.topic].partitionResponses[outcome.partition] = partitionResponse
            }
            do { slot.fulfill(.ready(try self.respond(response, version: version, correlationId: correlationId))) } catch {
                slot.fulfill(.close(reason: "cannot encode a produce response: \(error)"))
            }
        }
        return .awaiting(slot)
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

/// The parts of one produce request still under way: one per partition enqueued, done once its
/// append (and with acks=-1 its sync) is, and one for the request's setup, done once every partition
/// is enqueued. Whichever part ends last, on whatever thread, answers the request.
private final class ProduceCompletion: Sendable {
    struct Outcome: Sendable {
        var topic: Int
        var partition: Int
        var result: Result<AppendResult, any Error>
        /// Why the appended data did not become durable (acks=-1).
        var syncError: (any Error)?
    }

    private let state = NIOLockedValueBox<(pending: Int, outcomes: [Outcome], answer: (@Sendable ([Outcome]) -> Void)?)>((1, [], nil))

    /// A partition enqueued.
    func begin() {
        self.state.withLockedValue { $0.pending += 1 }
    }

    /// A partition done.
    func end(_ outcome: Outcome) {
        self.finish { $0.outcomes.append(outcome) }
    }

    /// Every partition enqueued: `answer` runs once all are done (now, if they are).
    func endSetup(answer: @escaping @Sendable ([Outcome]) -> Void) {
        self.finish { $0.answer = answer }
    }

    private func finish(_ update: (inout (pending: Int, outcomes: [Outcome], answer: (@Sendable ([Outcome]) -> Void)?)) -> Void) {
        let ready = self.state.withLockedValue { state -> (answer: @Sendable ([Outcome]) -> Void, outcomes: [Outcome])? in
            update(&state)
            state.pending -= 1
            guard state.pending == 0, let answer = state.answer else { return nil }
            return (answer, state.outcomes)
        }
        if let ready { ready.answer(ready.outcomes) }
    }
}
