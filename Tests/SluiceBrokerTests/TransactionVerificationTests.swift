import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog
import Testing
import _SluiceTestSupport
@testable import SluiceBroker

/// KIP-890's produce verification: a transactional batch is appended only to a partition added to
/// the producer's ongoing transaction; anything else would open a transaction nobody closes.
@Suite struct TransactionVerificationTests {
    @Test func transactionalBatchesNeedTheirPartitionInTheOngoingTransaction() async throws {
        try await withDirectBroker("sluice-txn-verify", topics: ["t": 2]) { exchange, log in
            var initRequest = InitProducerIdRequest()
            initRequest.transactionalId = "tx"
            initRequest.transactionTimeoutMs = 60_000
            let initialized = try await exchange.send(initRequest, version: 4, as: InitProducerIdResponse.self)
            #expect(initialized.errorCode == 0)
            let (producerId, epoch) = (initialized.producerId, initialized.producerEpoch)

            func produce(partition: Int32, sequence: Int32, epoch: Int16 = epoch) async throws -> Int16 {
                var request = ProduceRequest(transactionalId: "tx", acks: -1, timeoutMs: 30_000, topicData: [])
                request.topicData = [.init(name: "t", partitionData: [.init(
                    index: partition,
                    records: Batches.producer(id: producerId, epoch: epoch, sequence: sequence, values: ["v\(sequence)"], transactional: true).buffer)])]
                let response = try await exchange.send(request, version: 9, as: ProduceResponse.self)
                return response.responses[0].partitionResponses[0].errorCode
            }
            func addPartition(_ partition: Int32) async throws {
                var request = AddPartitionsToTxnRequest()
                request.v3AndBelowTransactionalId = "tx"
                request.v3AndBelowProducerId = producerId
                request.v3AndBelowProducerEpoch = epoch
                request.v3AndBelowTopics = [.init(name: "t", partitions: [partition])]
                let response = try await exchange.send(request, version: 3, as: AddPartitionsToTxnResponse.self)
                #expect(response.resultsByTopicV3AndBelow.flatMap(\.resultsByPartition).allSatisfy { $0.partitionErrorCode == 0 })
            }

            // Before AddPartitionsToTxn: refused, and nothing reaches the log.
            #expect(try await produce(partition: 0, sequence: 0) == KafkaErrorCode.invalidTxnState.rawValue)
            #expect(try log.partition(TopicPartition("t", 0)).logEndOffset == 0)
            try await addPartition(0)
            #expect(try await produce(partition: 0, sequence: 0) == 0)
            // Partition 1 was not added to this transaction.
            #expect(try await produce(partition: 1, sequence: 0) == KafkaErrorCode.invalidTxnState.rawValue)

            var end = EndTxnRequest()
            end.transactionalId = "tx"
            end.producerId = producerId
            end.producerEpoch = epoch
            end.committed = true
            #expect(try await exchange.send(end, version: 3, as: EndTxnResponse.self).errorCode == 0)
            // A late retry after the commit: refused, so no transaction is left open on the partition.
            #expect(try await produce(partition: 0, sequence: 1) == KafkaErrorCode.invalidTxnState.rawValue)
            let partition = try log.partition(TopicPartition("t", 0))
            #expect(partition.lastStableOffset == partition.logEndOffset)

            // A new instance bumps the epoch (no transaction was open, so no marker told the partition):
            // the old instance is fenced all the same.
            initRequest.producerId = producerId
            initRequest.producerEpoch = epoch
            let bumped = try await exchange.send(initRequest, version: 4, as: InitProducerIdResponse.self)
            #expect(bumped.errorCode == 0 && bumped.producerEpoch == epoch + 1)
            #expect(try await produce(partition: 0, sequence: 1) == KafkaErrorCode.invalidProducerEpoch.rawValue)
            #expect(partition.lastStableOffset == partition.logEndOffset)
        }
    }
}
