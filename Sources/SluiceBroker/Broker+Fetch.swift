import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

extension Broker {
    /// Reads whole batches from every requested partition; waits up to `maxWaitMs` until `minBytes`
    /// are there. Fetch sessions are declined (session id 0): every request is a full fetch.
    func fetch(_ request: FetchRequest, version: Int16) async -> FetchResponse {
        let isolation: IsolationLevel = request.isolationLevel == 1 ? .readCommitted : .readUncommitted
        let deadline = ContinuousClock.now + .milliseconds(Int(max(0, request.maxWaitMs)))
        let responseBytesMax = Int(min(max(request.maxBytes, 1), self.config.fetchResponseBytesMax))
        while true {
            var response = FetchResponse()
            var totalBytes = 0
            var waitOn: [(Partition, Int64)] = []
            var sawError = false
            for topic in request.topics {
                var name = topic.topic
                if version >= 13 {
                    name = self.topicName(for: topic.topicId) ?? ""
                }
                var topicResponse = FetchResponse.FetchableTopicResponse(topic: topic.topic, topicId: topic.topicId)
                for requested in topic.partitions {
                    var data = FetchResponse.PartitionData(partitionIndex: requested.partition)
                    data.records = ByteBuffer()
                    data.abortedTransactions = isolation == .readCommitted ? [] : nil
                    do {
                        if name.isEmpty {
                            throw SluiceError(.unknownTopic, "unknown topic id \(topic.topicId)")
                        }
                        let partition = try self.log.partition(TopicPartition(name, requested.partition))
                        let budget = totalBytes == 0 ? Int(max(requested.partitionMaxBytes, 1))
                                                     : min(Int(max(requested.partitionMaxBytes, 0)), responseBytesMax - totalBytes)
                        if budget > 0 {
                            let result = try partition.read(from: requested.fetchOffset, maxBytes: budget, isolation: isolation)
                            data.highWatermark = result.highWatermark
                            data.lastStableOffset = result.lastStableOffset
                            data.logStartOffset = result.logStartOffset
                            if isolation == .readCommitted {
                                data.abortedTransactions = result.abortedTransactions.map { .init(producerId: $0.producerId, firstOffset: $0.firstOffset) }
                            }
                            data.records = result.records
                            totalBytes += result.records.readableBytes
                            if result.records.readableBytes == 0 { waitOn.append((partition, requested.fetchOffset)) }
                        } else {
                            data.highWatermark = partition.highWatermark
                            data.lastStableOffset = partition.lastStableOffset
                            data.logStartOffset = partition.startOffset
                        }
                    } catch {
                        sawError = true
                        var code = Self.errorCode(for: error)
                        if code == .unknownTopicOrPartition && version >= 13 && name.isEmpty { code = .unknownTopicId }
                        data.errorCode = code.rawValue
                        data.highWatermark = -1
                        data.logStartOffset = -1
                    }
                    topicResponse.partitions.append(data)
                }
                response.responses.append(topicResponse)
            }
            if totalBytes >= Int(request.minBytes) || sawError || waitOn.isEmpty || ContinuousClock.now >= deadline {
                return response
            }
            await withTaskGroup(of: Void.self) { group in
                for (partition, offset) in waitOn {
                    group.addTask { await partition.waitForData(beyond: offset, isolation: isolation, deadline: deadline) }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    func listOffsets(_ request: ListOffsetsRequest, version: Int16) -> ListOffsetsResponse {
        let isolation: IsolationLevel = request.isolationLevel == 1 ? .readCommitted : .readUncommitted
        var response = ListOffsetsResponse()
        for topic in request.topics {
            var topicResponse = ListOffsetsResponse.ListOffsetsTopicResponse(name: topic.name)
            for requested in topic.partitions {
                var answer = ListOffsetsResponse.ListOffsetsPartitionResponse(partitionIndex: requested.partitionIndex)
                do {
                    let partition = try self.log.partition(TopicPartition(topic.name, requested.partitionIndex))
                    switch requested.timestamp {
                    case -1:  // latest
                        answer.offset = isolation == .readCommitted ? partition.lastStableOffset : partition.highWatermark
                    case -2:  // earliest
                        answer.offset = partition.startOffset
                    case -3:  // the record with the largest timestamp (KIP-734)
                        let found = try self.maxTimestampOffset(partition)
                        answer.offset = found?.offset ?? -1
                        answer.timestamp = found?.timestamp ?? -1
                    default:
                        if let found = try partition.offset(forTimestamp: requested.timestamp) {
                            answer.offset = found.offset
                            answer.timestamp = found.timestamp
                        } else {
                            answer.offset = -1
                            answer.timestamp = -1
                        }
                    }
                    if requested.timestamp < 0 && requested.timestamp != -3 { answer.timestamp = -1 }
                    if version >= 4 { answer.leaderEpoch = 0 }
                    if version == 0 {
                        // Version 0 answers with a list of offsets only.
                        answer.oldStyleOffsets = answer.offset >= 0 ? [answer.offset] : []
                        answer.offset = -1
                        answer.timestamp = -1
                    }
                } catch {
                    answer.errorCode = Self.errorCode(for: error).rawValue
                }
                topicResponse.partitions.append(answer)
            }
            response.topics.append(topicResponse)
        }
        return response
    }

    /// The first record with the partition's largest timestamp.
    private func maxTimestampOffset(_ partition: Partition) throws -> (offset: Int64, timestamp: Int64)? {
        var best: (offset: Int64, timestamp: Int64)?
        var offset = partition.startOffset
        while true {
            let (records, next) = try partition.readRecords(from: offset, maxBytes: 1 << 20)
            if next == offset { break }
            for record in records where best == nil || record.timestamp > best!.timestamp { best = (record.offset, record.timestamp) }
            offset = next
        }
        return best
    }

    func offsetForLeaderEpoch(_ request: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse {
        var response = OffsetForLeaderEpochResponse()
        for topic in request.topics {
            var result = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult(topic: topic.topic)
            for requested in topic.partitions {
                var answer = OffsetForLeaderEpochResponse.EpochEndOffset(partition: requested.partition)
                do {
                    let partition = try self.log.partition(TopicPartition(topic.topic, requested.partition))
                    // One leader, epoch 0, for the whole life of the partition.
                    answer.leaderEpoch = 0
                    answer.endOffset = requested.leaderEpoch <= 0 ? partition.logEndOffset : partition.logEndOffset
                } catch {
                    answer.errorCode = Self.errorCode(for: error).rawValue
                }
                result.partitions.append(answer)
            }
            response.topics.append(result)
        }
        return response
    }

    func deleteRecords(_ request: DeleteRecordsRequest) -> DeleteRecordsResponse {
        var response = DeleteRecordsResponse()
        for topic in request.topics {
            var result = DeleteRecordsResponse.DeleteRecordsTopicResult(name: topic.name)
            for requested in topic.partitions {
                var answer = DeleteRecordsResponse.DeleteRecordsPartitionResult(partitionIndex: requested.partitionIndex)
                do {
                    let partition = try self.log.partition(TopicPartition(topic.name, requested.partitionIndex))
                    let target = requested.offset == -1 ? partition.highWatermark : requested.offset
                    try partition.deleteRecords(before: target)
                    answer.lowWatermark = partition.startOffset
                } catch {
                    answer.errorCode = Self.errorCode(for: error).rawValue
                    answer.lowWatermark = -1
                }
                result.partitions.append(answer)
            }
            response.topics.append(result)
        }
        return response
    }
}
