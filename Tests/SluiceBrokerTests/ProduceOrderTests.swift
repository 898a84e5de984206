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
        let directory = TemporaryDirectory(prefix: "sluice-produce-order")
        defer { directory.remove() }
        var options = LogOptions()
        options.runsMaintenance = false
        let log = try Log(directory: directory.path, options: options)
        defer { try? log.close() }
        try log.createTopic("t", config: TopicConfig(partitionCount: 3))
        let broker = try await Broker(log: log, config: BrokerConfig(), clusterId: "test", logger: Logger(label: "test"))
        let connection = ConnectionContext(id: 1, remoteAddress: "test")
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
            var frame = ByteBufferAllocator().buffer(capacity: 256)
            try KafkaRequestFrame.write(request, version: 9, correlationId: Int32(index), clientId: "order-test", into: &frame)
            frame.moveReaderIndex(forwardBy: 4)  // The size prefix, which the frame assembler strips.
            pending.append(broker.start(frame: frame, connection: connection))
        }
        for (index, response) in pending.enumerated() {
            guard case .later(let task) = response, case .ready(var frame) = await task.value else {
                Issue.record("request \(index) got no response")
                continue
            }
            frame.moveReaderIndex(forwardBy: 4)  // The size prefix, written to the socket as it is.
            let parsed = try KafkaResponseFrame(parsing: frame, headerVersion: ApiKey.produce.responseHeaderVersion(for: 9))
            frame = parsed.body
            let decoded = try ProduceResponse(decoding: frame, version: 9)
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

/// Every record of a partition, in offset order.
private func readAll(_ partition: Partition) throws -> [Record] {
    var records: [Record] = []
    var next = partition.startOffset
    while true {
        let result = try partition.read(from: next, maxBytes: 1 << 20)
        guard result.records.readableBytes > 0 else { break }
        var batches = RecordBatchSequence(result.records)
        while let batch = try batches.next() { next = batch.nextOffset }
        records += try decodeRecords(result.records, aborted: [])
    }
    return records
}
