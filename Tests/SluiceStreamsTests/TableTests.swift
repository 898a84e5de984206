import NIOCore
import SluiceCore
import SluiceLog
import SluiceStreams
import Testing
import _SluiceTestSupport

/// Tables as views of streams: a topic read as a table keeps the latest value per key, tombstones
/// delete, the table survives a restart through its changelog, and its changes flow on as a stream.
@Suite struct TableTests {
    @Test func aTopicReadAsATableKeepsTheLatestValuePerKey() throws {
        let directory = TemporaryDirectory(prefix: "sluice-table")
        defer { directory.remove() }
        let log = try Log(directory: directory.path + "/data", options: LogOptions(durability: .osManaged))
        defer { try? log.close() }
        try log.createTopic("prices", config: TopicConfig.keepingAll(partitionCount: 2))
        try log.createTopic("price-changes", config: TopicConfig.keepingAll(partitionCount: 1))
        /// The latest value per key, "deleted" after a tombstone.
        var latest: [String: String] = [:]
        var random = SeededRandom()
        func write(_ count: Int) throws {
            for _ in 0..<count {
                let key = "item-\(Int.random(in: 0..<20, using: &random))"
                let value: String? = Int.random(in: 0..<6, using: &random) == 0 ? nil : "\(Int.random(in: 1...999, using: &random))"
                latest[key] = value ?? "deleted"
                let partition = Murmur2.partition(forKey: Array(key.utf8), partitionCount: 2)
                _ = try log.partition(TopicPartition("prices", partition)).append(
                    try RecordBatchBuilder.batch([ProducerRecord(key: Array(key.utf8), value: value.map { Array($0.utf8) }, timestamp: 1_000)]))
            }
        }
        func run() throws {
            let builder = StreamsBuilder()
            builder.table("prices", key: .string, value: .string, named: "prices")
                .toStream()
                .to("price-changes", key: .string, value: .optionalString)
            var settings = StreamsSettings(applicationId: "tables", stateDirectory: directory.path + "/state")
            settings.stopAtEnd = true
            try StreamsApplication(topology: try builder.build(), client: EmbeddedLogClient(log: log), settings: settings).run()
        }
        try write(300)
        try run()
        try write(200)
        try run()  // restores the table from its changelog, then goes on

        // The changes stream: one change per input record, so its last value per key is the table's.
        var changes: [String: String] = [:]
        var changeCount = 0
        for (_, records) in try readAll("price-changes", log: log) {
            for record in records {
                changes[String(buffer: record.key!)] = record.value.map { String(buffer: $0) } ?? "deleted"
                changeCount += 1
            }
        }
        #expect(changeCount == 500)
        #expect(changes == latest)
        // The materialised table, as its changelog holds it: the latest value per key, deleted keys absent.
        var table: [String: String] = [:]
        for (_, records) in try readAll("tables-prices-changelog", log: log) {
            for record in records {
                let key = String(buffer: record.key!)
                table[key] = record.value.map { String(buffer: $0) }
            }
        }
        #expect(table == latest.filter { $0.value != "deleted" })
    }
}
