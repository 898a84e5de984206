import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

extension Broker {
    /// Appends every partition's batches now (in the connection's order) and answers per `acks`:
    /// 0 never, 1 once appended, -1 once the appended data is durable.
    func produce(_ request: ProduceRequest, frame: KafkaRequestFrame) throws -> PendingResponse {
        var response = ProduceResponse()
        var pendingDurability: [(topic: Int, partition: Int, log: Partition, nextOffset: Int64)] = []
        let validAcks = request.acks == 0 || request.acks == 1 || request.acks == -1
        for topicData in request.topicData {
            var topicResponse = ProduceResponse.TopicProduceResponse(name: topicData.name)
            for partitionData in topicData.partitionData {
                var partitionResponse = ProduceResponse.PartitionProduceResponse(index: partitionData.index)
                partitionResponse.baseOffset = -1
                if !validAcks {
                    partitionResponse.errorCode = KafkaErrorCode.invalidRequiredAcks.rawValue
                } else {
                    do {
                        let partition = try self.log.partition(TopicPartition(topicData.name, partitionData.index))
                        let (result, count) = try self.append(partitionData.records, to: partition, transactionalId: request.transactionalId)
                        partitionResponse.baseOffset = result.baseOffset
                        partitionResponse.logAppendTimeMs = result.logAppendTime
                        partitionResponse.logStartOffset = result.logStartOffset
                        _ = count
                        pendingDurability.append((response.responses.count, topicResponse.partitionResponses.count, partition, result.lastOffset + 1))
                    } catch {
                        let code = Self.errorCode(for: error)
                        partitionResponse.errorCode = code.rawValue
                        partitionResponse.errorMessage = (error as? SluiceError)?.message
                        if code != .unknownTopicOrPartition && code != .outOfOrderSequenceNumber {
                            self.logger.info("produce to \(topicData.name)-\(partitionData.index) refused: \(error)")
                        }
                    }
                }
                topicResponse.partitionResponses.append(partitionResponse)
            }
            response.responses.append(topicResponse)
        }
        switch request.acks {
        case 0:
            return .none
        case -1:
            let finished = response
            return .later(Task {
                var response = finished
                for pending in pendingDurability {
                    do {
                        try await pending.log.waitUntilDurable(pending.nextOffset)
                    } catch {
                        response.responses[pending.topic].partitionResponses[pending.partition].errorCode = Self.errorCode(for: error).rawValue
                    }
                }
                do { return .ready(try self.respond(response, to: frame)) } catch { return .close(reason: "cannot encode a produce response: \(error)") }
            })
        default:
            return .ready(try self.respond(response, to: frame))
        }
    }

    /// Appends the batches of one partition's records; the result of the first with the last offset of the last.
    private func append(_ records: ByteBuffer?, to partition: Partition, transactionalId: String?) throws -> (AppendResult, Int) {
        guard let records, records.readableBytes > 0 else {
            throw SluiceError(.corruptData, "produce request without record batches")
        }
        var batches = RecordBatchSequence(records)
        var first: AppendResult?
        var last: AppendResult?
        var count = 0
        while let batch = try batches.next() {
            guard batch.magic == RecordBatch.currentMagic else {
                throw SluiceError(.corruptData, "record batch magic \(batch.magic) is not supported; only v2 batches are")
            }
            if batch.isTransactional && transactionalId == nil {
                throw SluiceError(.invalidTransactionState, "a transactional batch in a produce request without a transactional id")
            }
            let result = try partition.append(batch)
            if first == nil { first = result }
            last = result
            count += 1
        }
        guard var combined = first, let last else { throw SluiceError(.corruptData, "produce request without record batches") }
        combined.lastOffset = last.lastOffset
        return (combined, count)
    }
}
