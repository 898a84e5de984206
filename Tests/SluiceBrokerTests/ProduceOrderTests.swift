import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog
import Testing
import _SluiceTestSupport
@testable import SluiceBroker

/// Produce appends run on a lane per partition: requests started one after another on a connection
/// (pipelined, none answered yet) must still append to each partition in their order, which an
/// idempotent producer's sequence numbers check strictly.
@Suite struct ProduceOrderTests {
    @Test func pipelinedRequestsAppendInOrderOnEveryPartition() async throws {
        try await withDirectBroker("sluice-produce-order", topics: ["t": 3]) { exchange, log in
            let producerId: Int64 = 7
            let requestCount = 200
            var pending: [PendingResponse] = []
            for index in 0..<requestCount {
                // Every request writes to every partition; partition 2 gets two batches per request.
                var request = ProduceRequest(transactionalId: nil, acks: index % 3 == 0 ? 1 : -1, timeoutMs: 30_000, topicData: [])
                request.topicData = [.init(name: "t", partitionData: (0..<3).map { partition in
                    var records = Batches.producer(id: producerId, epoch: 0, sequence: Int32(index * (partition == 2 ? 2 : 1)),
                                                   values: ["r\(index)-p\(partition)-a"]).buffer
                    if partition == 2 {
                        var second = Batches.producer(id: producerId, epoch: 0, sequence: Int32(index * 2 + 1),
                                                      values: ["r\(index)-p\(partition)-b"]).buffer
                        records.writeBuffer(&second)
                    }
                    return .init(index: Int32(partition), records: records)
                })]
                pending.append(try exchange.start(request, version: 9, correlationId: Int32(index)))
            }
            for (index, response) in pending.enumerated() {
                let decoded = try await exchange.response(to: response, apiKey: .produce, version: 9, as: ProduceResponse.self)
                for partition in decoded.responses[0].partitionResponses {
                    #expect(partition.errorCode == 0, "request \(index), partition \(partition.index): error \(partition.errorCode)")
                    #expect(partition.baseOffset == Int64(index * (partition.index == 2 ? 2 : 1)))
                }
            }
            for partition in 0..<Int32(3) {
                let values = try readAll(try log.partition(TopicPartition("t", partition))).map(\.valueString)
                let expected = (0..<requestCount).flatMap { index in
                    partition == 2 ? ["r\(index)-p2-a", "r\(index)-p2-b"] : ["r\(index)-p\(partition)-a"]
                }
                #expect(values == expected, "partition \(partition)")
            }
        }
    }

    /// acks=-1 under every durability policy: answered once durable, also with a sync per append
    /// (no group-commit flusher), where nothing but the produce itself syncs.
    @Test(.timeLimit(.minutes(1)), arguments: [DurabilityPolicy.fsyncPerAppend, .groupCommit(interval: .zero), .osManaged])
    func acksAllIsAnsweredUnderEveryDurabilityPolicy(_ durability: DurabilityPolicy) async throws {
        try await withDirectBroker("sluice-produce-durability", topics: ["t": 2], durability: durability) { exchange, log in
            for index in 0..<3 {
                var request = ProduceRequest(transactionalId: nil, acks: -1, timeoutMs: 30_000, topicData: [])
                request.topicData = [.init(name: "t", partitionData: (0..<2).map { partition in
                    .init(index: Int32(partition), records: Batches.strings(["r\(index)-p\(partition)"]).buffer)
                })]
                let response = try await exchange.send(request, version: 9, as: ProduceResponse.self)
                for partition in response.responses[0].partitionResponses {
                    #expect(partition.errorCode == 0)
                    #expect(partition.baseOffset == Int64(index))
                }
            }
            for partition in 0..<Int32(2) {
                let values = try readAll(try log.partition(TopicPartition("t", partition))).map(\.valueString)
                #expect(values == (0..<3).map { "r\($0)-p\(partition)" })
            }
        }
    }
}
