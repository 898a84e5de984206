import SluiceCore
import SluiceLog
import SluiceStreams
import Testing
import _SluiceTestSupport

/// Micro-batch mode: each interval's input is processed and committed as one batch, numbered from 0;
/// results are those of continuous processing.
@Suite struct MicroBatchTests {
    @Test func microBatchesCommitNumberedBatchesWithTheSameResults() throws {
        var random = SeededRandom()
        let directory = TemporaryDirectory(prefix: "sluice-micro-batch")
        defer { directory.remove() }
        let log = try Log(directory: directory.path + "/data", options: LogOptions(durability: .osManaged))
        defer { try? log.close() }
        let records = WindowSemanticsTests.input(count: 4_000, keys: 10, random: &random)
        try produce(records, to: "in", partitionCount: 2, log: log, random: &random)
        try log.createTopic("out", config: TopicConfig.keepingAll(partitionCount: 1))

        var expected: [String: [Int64]] = [:]
        for partition in Int32(0)..<2 {
            let mine = records.filter { Murmur2.partition(forKey: Array($0.key.utf8), partitionCount: 2) == partition }
            expected.merge(WindowOracle(windows: .tumbling(size: 1_000), disorderMs: WindowSemanticsTests.disorderMs, latenessMs: 0).run(mine).emitted) { $0 + $1 }
        }

        let builder = StreamsBuilder()
        builder.stream("in", key: .string, value: .int64, outOfOrdernessMs: WindowSemanticsTests.disorderMs)
            .groupByKey(key: .string, value: .int64)
            .windowedBy(.tumbling(size: 1_000))
            .aggregate(.sum { $0 })
            .toStream()
            .to("out", key: .windowed(.string), value: .int64)
        var settings = StreamsSettings(applicationId: "micro", stateDirectory: directory.path + "/state")
        settings.microBatch = MicroBatchSettings(intervalMs: 2)
        settings.fetchBytesMax = 500
        settings.taskBatchBytesMax = 500
        settings.stopAtEnd = true
        let client = EmbeddedLogClient(log: log)
        try StreamsApplication(topology: try builder.build(), client: client, settings: settings).run()

        #expect(try windowResults("out", log: log) == expected, "micro-batches give the continuous results (seed \(random.seed))")
        let commits = try client.committedRecords(offsetsTopic: settings.offsetsTopic)
        let batchId = commits.compactMap(\.batchId).max() ?? -1
        #expect(batchId >= 2, "the input took several micro-batches, the last numbered \(batchId)")
    }

    @Test func anAdaptiveIntervalStaysWithinItsBounds() throws {
        let settings = MicroBatchSettings(intervalMs: 100, targetLatencyMs: 50)
        #expect(throws: Never.self) { try StreamsApplication(topology: try Self.trivialTopology(), client: MemoryLogClient(), settings: {
            var streams = StreamsSettings(applicationId: "adaptive", stateDirectory: "/tmp/unused")
            streams.microBatch = settings
            streams.guarantee = .atLeastOnce
            return streams
        }()) }
        var invalid = StreamsSettings(applicationId: "adaptive", stateDirectory: "/tmp/unused")
        invalid.microBatch = MicroBatchSettings(intervalMs: 0)
        #expect(throws: StreamsError.self) { try StreamsApplication(topology: try Self.trivialTopology(), client: MemoryLogClient(), settings: invalid) }
    }

    static func trivialTopology() throws -> Topology {
        let builder = StreamsBuilder()
        builder.stream("in", key: .string, value: .string).to("out", key: .string, value: .string)
        return try builder.build()
    }
}
