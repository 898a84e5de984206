import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

extension TransactionError {
    /// The code for a request of `version`: PRODUCER_FENCED replaced INVALID_PRODUCER_EPOCH in the
    /// versions that know it (KIP-588).
    func kafkaCode(fencedKnown: Bool = true) -> KafkaErrorCode {
        switch self {
        case .invalidProducerIdMapping: .invalidProducerIdMapping
        case .producerFenced: fencedKnown ? .producerFenced : .invalidProducerEpoch
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .concurrentTransactions: .concurrentTransactions
        case .invalidTransactionState: .invalidTxnState
        case .invalidTransactionTimeout: .invalidTransactionTimeout
        case .coordinatorNotAvailable: .coordinatorNotAvailable
        case .unknownServerError: .unknownServerError
        }
    }
}

extension Broker {
    func initProducerId(_ request: InitProducerIdRequest, version: Int16) async -> InitProducerIdResponse {
        var response = InitProducerIdResponse()
        switch await self.transactions.initProducerId(transactionalId: request.transactionalId, timeoutMs: request.transactionTimeoutMs,
                                                       producerId: request.producerId, producerEpoch: request.producerEpoch) {
        case .success(let (id, epoch)):
            response.producerId = id
            response.producerEpoch = epoch
        case .failure(let error):
            response.errorCode = error.kafkaCode(fencedKnown: version >= 4).rawValue
        }
        return response
    }

    func addPartitionsToTxn(_ request: AddPartitionsToTxnRequest, version: Int16) async -> AddPartitionsToTxnResponse {
        var response = AddPartitionsToTxnResponse()
        func add(_ transactionalId: String, _ producerId: Int64, _ epoch: Int16, _ topics: [AddPartitionsToTxnRequest.AddPartitionsToTxnTopic])
            async -> [AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult] {
            var unknown: Set<TopicPartition> = []
            var partitions: [TopicPartition] = []
            for topic in topics {
                for index in topic.partitions {
                    let partition = TopicPartition(topic.name, index)
                    if (try? self.log.partition(partition)) == nil { unknown.insert(partition) } else { partitions.append(partition) }
                }
            }
            var error: KafkaErrorCode?
            if !unknown.isEmpty {
                error = .operationNotAttempted
            } else if let failure = await self.transactions.addPartitions(transactionalId: transactionalId, producerId: producerId,
                                                                          producerEpoch: epoch, partitions: partitions) {
                error = failure.kafkaCode(fencedKnown: version >= 2)
            }
            return topics.map { topic in
                .init(name: topic.name, resultsByPartition: topic.partitions.map { index in
                    let partition = TopicPartition(topic.name, index)
                    let code = unknown.contains(partition) ? KafkaErrorCode.unknownTopicOrPartition : (error ?? .noError)
                    return .init(partitionIndex: index, partitionErrorCode: code.rawValue)
                })
            }
        }
        if version <= 3 {
            response.resultsByTopicV3AndBelow = await add(request.v3AndBelowTransactionalId, request.v3AndBelowProducerId,
                                                          request.v3AndBelowProducerEpoch, request.v3AndBelowTopics)
        } else {
            for transaction in request.transactions {
                let results = await add(transaction.transactionalId, transaction.producerId, transaction.producerEpoch, transaction.topics)
                response.resultsByTransaction.append(.init(transactionalId: transaction.transactionalId, topicResults: results))
            }
        }
        return response
    }

    func addOffsetsToTxn(_ request: AddOffsetsToTxnRequest, version: Int16) async -> AddOffsetsToTxnResponse {
        var response = AddOffsetsToTxnResponse()
        if let error = await self.transactions.addOffsets(transactionalId: request.transactionalId, producerId: request.producerId,
                                                          producerEpoch: request.producerEpoch, groupId: request.groupId) {
            response.errorCode = error.kafkaCode(fencedKnown: version >= 2).rawValue
        }
        return response
    }

    func endTxn(_ request: EndTxnRequest, version: Int16) async -> EndTxnResponse {
        var response = EndTxnResponse()
        if let error = await self.transactions.endTransaction(transactionalId: request.transactionalId, producerId: request.producerId,
                                                              producerEpoch: request.producerEpoch, commit: request.committed) {
            response.errorCode = error.kafkaCode(fencedKnown: version >= 2).rawValue
        }
        return response
    }

    func txnOffsetCommit(_ request: TxnOffsetCommitRequest, version: Int16) async -> TxnOffsetCommitResponse {
        var offsets: [TopicPartition: CommittedOffset] = [:]
        let now = currentTimeMillis()
        for topic in request.topics {
            for partition in topic.partitions {
                offsets[TopicPartition(topic.name, partition.partitionIndex)] = CommittedOffset(
                    offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch, metadata: partition.committedMetadata,
                    commitTimestampMs: now)
            }
        }
        var code: Int16 = 0
        if let error = await self.transactions.validateGroupInTransaction(transactionalId: request.transactionalId, producerId: request.producerId,
                                                                          producerEpoch: request.producerEpoch, groupId: request.groupId) {
            code = error.kafkaCode(fencedKnown: version >= 2).rawValue
        } else {
            code = await self.groups.transactionalCommit(
                groupId: request.groupId, producerId: request.producerId, producerEpoch: request.producerEpoch, memberId: request.memberId,
                generationId: request.generationId, groupInstanceId: request.groupInstanceId, offsets: offsets).code
        }
        var response = TxnOffsetCommitResponse()
        response.topics = request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: code) })
        }
        return response
    }

    func describeProducers(_ request: DescribeProducersRequest) -> DescribeProducersResponse {
        var response = DescribeProducersResponse()
        for topic in request.topics {
            var result = DescribeProducersResponse.TopicResponse(name: topic.name)
            for index in topic.partitionIndexes {
                var answer = DescribeProducersResponse.PartitionResponse(partitionIndex: index)
                do {
                    let partition = try self.log.partition(TopicPartition(topic.name, index))
                    answer.activeProducers = partition.activeProducers.map {
                        .init(producerId: $0.producerId, producerEpoch: Int32($0.epoch), lastSequence: $0.lastSequence ?? -1,
                              lastTimestamp: $0.lastTimestamp, coordinatorEpoch: $0.coordinatorEpoch,
                              currentTxnStartOffset: $0.currentTransactionFirstOffset ?? -1)
                    }
                } catch {
                    answer.errorCode = Self.errorCode(for: error).rawValue
                }
                result.partitions.append(answer)
            }
            response.topics.append(result)
        }
        return response
    }

    func describeTransactions(_ request: DescribeTransactionsRequest) async -> DescribeTransactionsResponse {
        var response = DescribeTransactionsResponse()
        let all = Dictionary(uniqueKeysWithValues: await self.transactions.list().map { ($0.transactionalId, $0) })
        for id in request.transactionalIds {
            guard let listing = all[id] else {
                response.transactionStates.append(.init(errorCode: KafkaErrorCode.transactionalIdNotFound.rawValue, transactionalId: id))
                continue
            }
            response.transactionStates.append(.init(
                errorCode: 0, transactionalId: id, transactionState: listing.state, transactionTimeoutMs: listing.timeoutMs,
                transactionStartTimeMs: listing.startTimestampMs, producerId: listing.producerId, producerEpoch: listing.producerEpoch,
                topics: Dictionary(grouping: listing.partitions, by: \.topic).sorted { $0.key < $1.key }.map {
                    .init(topic: $0.key, partitions: $0.value.map(\.partition).sorted())
                }))
        }
        return response
    }

    func listTransactions(_ request: ListTransactionsRequest) async -> ListTransactionsResponse {
        var response = ListTransactionsResponse()
        let states = Set(request.stateFilters)
        let producers = Set(request.producerIdFilters)
        response.transactionStates = await self.transactions.list().filter {
            (states.isEmpty || states.contains($0.state)) && (producers.isEmpty || producers.contains($0.producerId))
        }.map { .init(transactionalId: $0.transactionalId, producerId: $0.producerId, transactionState: $0.state) }
        return response
    }
}
