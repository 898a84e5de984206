import NIOCore
import SluiceCore
import SluiceLog
import SluiceStreams
import Testing
import _SluiceTestSupport

/// Grouping by a new key goes through a repartition topic into a second sub-topology; event time
/// crosses with it (watermark records per upstream task), so windows downstream complete as they would
/// upstream, whatever the thread count.
@Suite struct RepartitionTests {
    @Test(arguments: [1, 3])
    func windowsAfterARepartitionCompleteWithTheUpstreamWatermarks(threads: Int) throws {
        var random = SeededRandom()
        let directory = TemporaryDirectory(prefix: "sluice-repartition")
        defer { directory.remove() }
        let log = try Log(directory: directory.path + "/data", options: LogOptions(durability: .osManaged))
        defer { try? log.close() }
        // Disorder within the bound only: nothing is late anywhere, so every window's single result is its full sum.
        var records: [InputRecord] = []
        var clock: Int64 = 2_000_000
        for index in 0..<20_000 {
            clock += Int64.random(in: 0...5, using: &random)
            records.append(InputRecord(key: "user-\(index % 97)", value: Int64.random(in: 1...50, using: &random),
                                       timestamp: clock - Int64.random(in: 0...100, using: &random)))
        }
        try produce(records, to: "clicks", partitionCount: 4, log: log, random: &random)
        try log.createTopic("per-region", config: TopicConfig.keepingAll(partitionCount: 2))

        let builder = StreamsBuilder()
        builder.stream("clicks", key: .string, value: .int64, outOfOrdernessMs: 100)
            .groupBy({ key, _ in "region-\(Int(key.dropFirst(5))! % 5)" }, key: .string, value: .int64)
            .windowedBy(.tumbling(size: 2_000))
            .aggregate(.sum { $0 })
            .toStream()
            .to("per-region", key: .windowed(.string), value: .int64)
        let topology = try builder.build()
        #expect(topology.description.contains("Sub-topology 1"), "the grouping cut the topology in two:\n\(topology.description)")
        var settings = StreamsSettings(applicationId: "regions-\(threads)", stateDirectory: directory.path + "/state")
        settings.threadCount = threads
        settings.stopAtEnd = true
        // Many small commits: the repartition topic is purged between the upstream tasks' transactions,
        // so the log forgets their producers there and they must start their sequences again.
        settings.commitIntervalMs = 5
        settings.fetchBytesMax = 4_096
        settings.taskBatchBytesMax = 4_096
        let app = try StreamsApplication(topology: topology, client: EmbeddedLogClient(log: log), settings: settings)
        try app.run()

        var expected: [String: [Int64]] = [:]
        var sums: [String: Int64] = [:]
        for record in records {
            let region = "region-\(Int(record.key.dropFirst(5))! % 5)"
            let start = record.timestamp - record.timestamp % 2_000
            sums["\(region)[\(start), \(start + 2_000))", default: 0] += record.value
        }
        for (name, sum) in sums { expected[name] = [sum] }
        let actual = try windowResults("per-region", log: log)
        #expect(actual == expected, "\(actual.count) windows, expected \(expected.count) (seed \(random.seed))")
        #expect(app.metrics.lateRecords.value == 0)
        // Read to the end: what may be left is the commit marker of each upstream thread's last
        // transaction in each repartition partition (Kafka's lag counts markers too).
        #expect(app.metrics.lagRecords <= Int64(4 * threads), "the inputs were read to their end, lag \(app.metrics.lagRecords)")
        #expect(app.metrics.commits.value > 0)
        #expect(app.metrics.changelogRecords.value > 0, "the window store wrote its changelog")
        // What the downstream tasks committed to having read was deleted from the repartition topic.
        let repartitionTopics = log.topicNames.filter { $0.hasPrefix("regions-\(threads)-") && $0.hasSuffix("-repartition") }
        #expect(repartitionTopics.count == 1)
        for topic in repartitionTopics {
            for partition in try log.partitions(of: topic) {
                #expect(partition.startOffset > 0 && partition.startOffset <= partition.logEndOffset, "\(partition.topicPartition) purged up to its committed offset")
            }
        }
        #expect(app.metrics.recordsIn.value == 2 * records.count, "each record read once from the input and once from the repartition topic")
    }
}
