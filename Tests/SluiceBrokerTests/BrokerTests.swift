import Logging
import NIOCore
import NIOPosix
import SluiceCore
import SluiceKafkaClient
import SluiceKafkaProtocol
import SluiceLog
import Testing
import _SluiceTestSupport
@testable import SluiceBroker

/// A broker on an ephemeral port over a log in a temporary directory, for one test.
func withBroker(frameBytesMax: Int = 1 << 20, connectionIdleLimit: TimeAmount? = nil,
                _ body: (KafkaClient, Log, Int) async throws -> Void) async throws {
    let directory = TemporaryDirectory(prefix: "sluice-broker")
    defer { directory.remove() }
    var options = LogOptions()
    options.runsMaintenance = false
    let log = try Log(directory: directory.path, options: options)
    var config = BrokerConfig()
    config.groupInitialRebalanceDelayMs = 0
    let broker = try await Broker(log: log, config: config, clusterId: "test-cluster", logger: Logger(label: "test"))
    let server = KafkaServer(host: "127.0.0.1", port: 0, processor: broker, frameBytesMax: frameBytesMax,
                             connectionIdleLimit: connectionIdleLimit, logger: Logger(label: "test"))
    let (portStream, portContinuation) = AsyncStream<Int>.makeStream()
    let serving = Task { try await server.run { address in portContinuation.yield(address.port ?? 0) } }
    var ports = portStream.makeAsyncIterator()
    let port = try #require(await ports.next())
    let client = try await KafkaClient(bootstrap: "127.0.0.1:\(port)")
    do {
        try await body(client, log, port)
    } catch {
        await client.close()
        server.drain()
        serving.cancel()
        try? log.close()
        throw error
    }
    await client.close()
    server.drain()
    _ = try? await serving.value
    try log.close()
}

@Suite struct BrokerTests {
    @Test func produceFetchAndListOffsetsThroughTheProtocol() async throws {
        try await withBroker { client, log, _ in
            try log.createTopic("events", config: TopicConfig(partitionCount: 2))
            #expect(try await client.partitionCount(of: "events") == 2)
            let batch = Batches.strings(["a", "b", "c"], keys: ["1", "2", "3"], timestamp: 5_000, compression: .lz4)
            let offsets = try await client.produce(topic: "events", batches: [1: batch])
            #expect(offsets[1] == 0)
            let again = try await client.produce(topic: "events", batches: [1: Batches.strings(["d"], timestamp: 9_000)])
            #expect(again[1] == 3)
            let fetched = try await client.fetch(topic: "events", positions: [0: 0, 1: 1], readCommitted: false)
            #expect(fetched[1]?.records.map(\.valueString) == ["b", "c", "d"])
            #expect(fetched[1]?.nextOffset == 4)
            #expect(fetched[0]?.records.isEmpty == true)
            let latest = try await client.listOffsets(topic: "events", partitions: [0, 1], timestamp: KafkaClient.latest, readCommitted: false)
            #expect(latest == [0: 0, 1: 4])
            let byTime = try await client.listOffsets(topic: "events", partitions: [1], timestamp: 6_000, readCommitted: false)
            #expect(byTime[1] == 3)
            await #expect(throws: SluiceError.self) { try await client.partitionCount(of: "missing") }
        }
    }

    /// A produce request of megabytes arrives over many socket reads, most of them into the buffer
    /// the frame assembler lends: the records come back intact, and so do small requests after it.
    @Test func aLargeProduceRequestArrivesWhole() async throws {
        try await withBroker(frameBytesMax: 8 << 20) { client, log, _ in
            try log.createTopic("big", config: TopicConfig(partitionCount: 3))
            var random = SeededRandom()
            let values = (0..<3).map { _ in (0..<900).map { _ in String(decoding: random.bytes(1_000).map { 0x41 + $0 % 26 }, as: UTF8.self) } }
            for round in 0..<3 {
                let batches = Dictionary(uniqueKeysWithValues: (0..<3).map { (Int32($0), Batches.strings(values[$0])) })
                let offsets = try await client.produce(topic: "big", batches: batches)
                #expect(offsets == [0: Int64(round * 900), 1: Int64(round * 900), 2: Int64(round * 900)])
                #expect(try await client.partitionCount(of: "big") == 3)
            }
            for partition in 0..<3 {
                let records = try readAll(log.partition(TopicPartition("big", Int32(partition))))
                #expect(records.count == 2_700)
                #expect(records.prefix(900).map { String(decoding: $0.value!.readableBytesView, as: UTF8.self) } == values[partition])
            }
            // Clients cannot write the coordinators' own topics.
            do {
                _ = try await client.produce(topic: "__consumer_offsets", batches: [0: Batches.strings(["x"], keys: ["\u{2}"])])
                Issue.record("a produce to __consumer_offsets was accepted")
            } catch let error as SluiceError {
                #expect(error.message.contains("INVALID_TOPIC_EXCEPTION"), "\(error)")
            }
        }
    }

    @Test func aCorruptBatchGetsCorruptMessageAndOtherConnectionsCarryOn() async throws {
        try await withBroker { client, log, port in
            try log.createTopic("t", config: TopicConfig())
            var bytes = Array(Batches.strings(["payload"]).buffer.readableBytesView)
            bytes[bytes.count - 2] ^= 0xFF
            await #expect(throws: SluiceError.self) {
                _ = try await client.produce(topic: "t", batches: [0: RecordBatch(unchecked: ByteBuffer(bytes: bytes))])
            }
            do {
                _ = try await client.produce(topic: "t", batches: [0: RecordBatch(unchecked: ByteBuffer(bytes: bytes))])
            } catch let error as SluiceError {
                #expect(error.message.contains("CORRUPT_MESSAGE"))
            }
            // A garbage frame closes only its own connection.
            let rogue = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            var garbage = ByteBufferAllocator().buffer(capacity: 16)
            garbage.writeInteger(Int32(6))
            garbage.writeBytes([0x7F, 0x7F, 0, 1, 2, 3])
            try await rogue.writeAndFlush(garbage)
            try await rogue.closeFuture.get()
            // An oversized frame length too.
            let big = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
            var huge = ByteBufferAllocator().buffer(capacity: 4)
            huge.writeInteger(Int32.max)
            try await big.writeAndFlush(huge)
            try await big.closeFuture.get()
            let fine = try await client.produce(topic: "t", batches: [0: Batches.strings(["ok"])])
            #expect(fine[0] == 0)
        }
    }

    /// More requests than `KafkaServer.requestsInFlightMax`, written at once on one socket and mixing
    /// answers ready at once (ApiVersions), decided by a task (Metadata) and by an append lane
    /// (Produce): every one is answered, in request order, and the appends are in order too.
    @Test func pipelinedRequestsBeyondTheBoundAreAllAnsweredInOrder() async throws {
        try await withBroker { _, log, port in
            try log.createTopic("t", config: TopicConfig(partitionCount: 2))
            let requestCount = KafkaServer.requestsInFlightMax * 3 + 5
            var frames = ByteBufferAllocator().buffer(capacity: 64 * 1024)
            var produced: [String] = []
            for index in 0..<requestCount {
                let correlationId = Int32(index)
                switch index % 3 {
                case 0:
                    try KafkaRequestFrame.write(ApiVersionsRequest(), version: 3, correlationId: correlationId, clientId: "pipe", into: &frames)
                case 1:
                    var request = MetadataRequest()
                    request.topics = [.init(name: "t")]
                    try KafkaRequestFrame.write(request, version: 12, correlationId: correlationId, clientId: "pipe", into: &frames)
                default:
                    let value = "v\(index)"
                    produced.append(value)
                    let request = ProduceRequest(transactionalId: nil, acks: index % 2 == 0 ? 1 : -1, timeoutMs: 30_000, topicData: [
                        // Two partitions: the first appended on its lane, the last on the event loop
                        // when its lane is idle; each keeps the requests' order either way.
                        .init(name: "t", partitionData: [
                            .init(index: 0, records: Batches.strings([value]).buffer),
                            .init(index: 1, records: Batches.strings([value + "b"]).buffer),
                        ]),
                    ])
                    try KafkaRequestFrame.write(request, version: 9, correlationId: correlationId, clientId: "pipe", into: &frames)
                }
            }
            let (responses, continuation) = AsyncStream<ByteBuffer>.makeStream()
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([KafkaFrameHandler(), FrameCollector(continuation)])
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            try await channel.writeAndFlush(frames)
            var correlationIds: [Int32] = []
            for await frame in responses {
                correlationIds.append(try #require(frame.getInteger(at: frame.readerIndex, as: Int32.self)))
                if correlationIds.count == requestCount { break }
            }
            try await channel.close()
            #expect(correlationIds == (0..<Int32(requestCount)).map { $0 })
            #expect(try readAll(try log.partition(TopicPartition("t", 0))).map(\.valueString) == produced)
            #expect(try readAll(try log.partition(TopicPartition("t", 1))).map(\.valueString) == produced.map { $0 + "b" })
        }
    }

    /// connections.max.idle.ms: a connection that sends nothing is closed once the limit passes,
    /// one that keeps asking is not, and neither is one whose request the broker still works on.
    /// Bounds hold under a loaded machine: closes are awaited, not timed, and the busy connection
    /// is judged only if its own requests came closer together than the limit.
    @Test func silentConnectionsAreClosedOnceIdleAndBusyOnesAreNot() async throws {
        let limit = Duration.seconds(1)
        try await withBroker(connectionIdleLimit: .seconds(1)) { _, log, port in
            try log.createTopic("t", config: TopicConfig())
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(KafkaFrameHandler()) }
                }
            let polling = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
            // A fetch that waits 4 s for data that never comes: the broker owes it an answer all along.
            let pollWait = Duration.seconds(4)
            var fetch = FetchRequest()
            fetch.replicaId = -1
            fetch.maxWaitMs = 4_000
            fetch.minBytes = 1
            fetch.maxBytes = 1 << 20
            fetch.topics = [.init(topic: "t", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20)])]
            var frame = ByteBufferAllocator().buffer(capacity: 256)
            try KafkaRequestFrame.write(fetch, version: 12, correlationId: 1, clientId: "poll", into: &frame)
            let connected = ContinuousClock.now
            // A write that fails found the connection closed already: this test was held up past
            // the limit, and the connection is not judged.
            let pollSent = (try? await polling.writeAndFlush(frame)) != nil
            let polled = ContinuousClock.now
            let pollJudged = pollSent && polled - connected < limit * 0.5
            let silent = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
            let chatty = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
            var last = ContinuousClock.now
            var widestGap = Duration.zero
            for round in 0..<25 {
                var request = ByteBufferAllocator().buffer(capacity: 64)
                try KafkaRequestFrame.write(ApiVersionsRequest(), version: 3, correlationId: Int32(round), clientId: "chatty", into: &request)
                let sent = (try? await chatty.writeAndFlush(request)) != nil
                widestGap = max(widestGap, ContinuousClock.now - last)
                last = ContinuousClock.now
                guard sent else { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            if widestGap < limit * 0.8 {
                #expect(chatty.isActive, "a connection that sent a request every 100 ms was closed")
            }
            #expect(try await brokerCloses(silent, within: .seconds(20)), "a silent connection stayed open")
            // Once the poll is answered the broker owes it nothing, and it goes idle too; never before.
            let pollClosed = try await brokerCloses(polling, within: .seconds(30))
            if pollJudged {
                #expect(pollClosed, "the connection stayed open after its long poll")
                #expect(ContinuousClock.now - polled >= pollWait, "a connection waiting on a long poll was closed")
            }
            chatty.close(promise: nil)
        }
    }

    /// A client that sends requests and never reads their answers: the answers fill the socket, the
    /// broker stops reading it, nothing moves, and the idle limit closes it instead of holding its
    /// responses for ever.
    @Test func aClientThatNeverReadsIsClosedOnceIdle() async throws {
        try await withBroker(connectionIdleLimit: .seconds(1)) { _, log, port in
            try log.createTopic("t", config: TopicConfig())
            var random = SeededRandom()
            let partition = try log.partition(TopicPartition("t", 0))
            for _ in 0..<4 {
                let values = (0..<900).map { _ in String(decoding: random.bytes(1_000).map { 0x41 + $0 % 26 }, as: UTF8.self) }
                _ = try partition.append(Batches.strings(values))
            }
            let deaf = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.autoRead, value: false)
                .connect(host: "127.0.0.1", port: port).get()
            var frames = ByteBufferAllocator().buffer(capacity: 64 * 1024)
            let requestCount = 8
            for index in 0..<requestCount {
                var fetch = FetchRequest()
                fetch.replicaId = -1
                fetch.maxBytes = 4 << 20
                fetch.topics = [.init(topic: "t", partitions: [.init(partition: 0, fetchOffset: 0, partitionMaxBytes: 4 << 20)])]
                try KafkaRequestFrame.write(fetch, version: 12, correlationId: Int32(index), clientId: "deaf", into: &frames)
            }
            _ = try? await deaf.writeAndFlush(frames)
            // Megabytes of answers wait unread well past the limit; then the client reads after all.
            try await Task.sleep(for: .seconds(3))
            let (responses, continuation) = AsyncStream<ByteBuffer>.makeStream()
            try await deaf.eventLoop.submit {
                try deaf.pipeline.syncOperations.addHandlers([KafkaFrameHandler(), FrameCollector(continuation)])
                deaf.read()
                _ = deaf.setOption(.autoRead, value: true)
            }.get()
            let counting = Task {
                var answered = 0
                for await _ in responses { answered += 1 }
                return answered
            }
            #expect(try await brokerCloses(deaf, within: .seconds(10)), "the broker kept a connection whose client never read")
            // Closed before all were sent: the answers that did not fit the sockets were dropped.
            #expect(await counting.value < requestCount)
        }
    }

    @Test func apiVersionsAdvertisesKafkaRangesAndFallsBackForUnknownVersions() async throws {
        try await withBroker { client, _, _ in
            let response = try await client.connection.send(ApiVersionsRequest(), version: 3, as: ApiVersionsResponse.self)
            let produce = try #require(response.apiKeys.first { $0.apiKey == ApiKey.produce.rawValue })
            #expect(produce.minVersion == 0 && produce.maxVersion == 11)
            let fetch = try #require(response.apiKeys.first { $0.apiKey == ApiKey.fetch.rawValue })
            #expect(fetch.maxVersion == 17)
            #expect(try client.connection.version(of: .metadata) == 12)
        }
    }
}

/// Whether the broker closed `channel` within `limit`; the test closes it otherwise, so that no
/// wait hangs.
private func brokerCloses(_ channel: any Channel, within limit: TimeAmount) async throws -> Bool {
    let timeout = channel.eventLoop.scheduleTask(in: limit) { () -> Bool in
        channel.close(promise: nil)
        return true
    }
    try? await channel.closeFuture.get()
    timeout.cancel()
    // A timeout cancelled before it ran (the broker closed first) fails its future.
    return (try? await timeout.futureResult.get()) == nil
}

/// Passes each frame a test's connection reads to an async stream.
private final class FrameCollector: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    private let continuation: AsyncStream<ByteBuffer>.Continuation

    init(_ continuation: AsyncStream<ByteBuffer>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.continuation.yield(Self.unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.continuation.finish()
    }
}
