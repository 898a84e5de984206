import ArgumentParser
import Foundation
import NIOCore
import SluiceBroker
import SluiceCore
import SluiceLog
import SluiceNexmark
import SluiceStreams

/// `sluice demo`: the engine live on the embedded log. Nexmark events are generated into a topic at a
/// steady rate with event time following the wall clock; q5 (hot items) and q11 (user sessions) run
/// on them exactly-once, and their results are printed as they are committed, until Ctrl-C.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Generate Nexmark events live and print the results of q5 and q11 until Ctrl-C.")

    @OptionGroup var data: DataOptions
    @Option(help: "Events per second.") var rate: Int64 = 10_000
    @Option(help: "Stop after this many seconds (default: at Ctrl-C or SIGTERM).") var seconds: Double?
    @Option(help: "Stream threads per query.") var threads: Int = 1

    static let eventsTopic = "demo-events"
    static let queries: [(NexmarkQuery, String)] = [(.q5, "demo-q5"), (.q11, "demo-q11")]
    /// How often events are appended and results looked for (ms).
    static let tickMs: Int64 = 50

    func run() throws {
        guard self.rate > 0 && self.rate <= 1_000_000 else { throw ValidationError("--rate must be in 1...1000000") }
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM])
        try reportingErrorsSync {
            let log = try self.data.openLog(maintenance: true)
            let client = EmbeddedLogClient(log: log)
            try client.ensureTopic(Self.eventsTopic, partitionCount: 2, compacted: false)
            for (_, topic) in Self.queries { try client.ensureTopic(topic, partitionCount: 1, compacted: false) }
            var apps: [StreamsApplication] = []
            for (query, topic) in Self.queries {
                let builder = StreamsBuilder()
                NexmarkQueries.build(query, input: Self.eventsTopic, sink: .topic(topic), builder: builder)
                var settings = StreamsSettings(applicationId: "demo-\(query.rawValue)", stateDirectory: self.data.dataDir + "/streams-state")
                settings.threadCount = self.threads
                let app = try StreamsApplication(topology: try builder.build(), client: client, settings: settings)
                try app.start()
                apps.append(app)
            }
            printError("demo: \(self.rate) Nexmark events/s into \(Self.eventsTopic); q5 and q11 results follow (Ctrl-C stops)")

            var config = NexmarkConfig()
            config.baseTime = currentTimeMillis()
            config.firstEventRate = self.rate
            var generator = NexmarkGenerator(seed: UInt64(config.baseTime), config: config)
            var generated: Int64 = 0
            var positions = Self.queries.map { entry in try? client.offsets(of: TopicPartition(entry.1, 0)).lastStable }
            let started = monotonicNanoseconds() / 1_000_000
            var encoded: [UInt8] = []
            while signals.received == nil {
                let elapsed = monotonicNanoseconds() / 1_000_000 - started
                if let seconds = self.seconds, Double(elapsed) >= seconds * 1000 { break }
                // Append the events due by now, in one batch per partition.
                let due = elapsed * self.rate / 1000
                var builders = [RecordBatchBuilder(), RecordBatchBuilder()]
                while generated < due, let event = generator.next() {
                    encoded.removeAll(keepingCapacity: true)
                    NexmarkJSON.append(event, to: &encoded)
                    builders[Int(generated % 2)].append(ProducerRecord(key: nil, value: encoded, timestamp: event.dateTime))
                    generated += 1
                }
                for (partition, builder) in builders.enumerated() where builder.recordCount > 0 {
                    _ = try log.partition(TopicPartition(Self.eventsTopic, Int32(partition))).append(try builder.build())
                }
                for (index, (query, topic)) in Self.queries.enumerated() {
                    positions[index] = try self.printNew(topic: topic, label: query.rawValue, from: positions[index] ?? 0, client: client)
                }
                if let failed = apps.first(where: { $0.failure != nil }) {
                    for app in apps { app.stop() }
                    throw failed.failure!
                }
                Thread.sleep(forTimeInterval: Double(Self.tickMs) / 1000)
            }
            for app in apps { app.stop() }
            for app in apps { try app.awaitTermination() }
            for (index, (query, topic)) in Self.queries.enumerated() {
                _ = try self.printNew(topic: topic, label: query.rawValue, from: positions[index] ?? 0, client: client)
            }
            try log.close()
            printError("demo: stopped after \(generated) events")
        }
    }

    /// Prints the committed results of `topic` from `offset` on; returns where to look next.
    private func printNew(topic: String, label: String, from offset: Int64, client: EmbeddedLogClient) throws -> Int64 {
        let topicPartition = TopicPartition(topic, 0)
        var next = offset
        while true {
            let fetched = try client.fetch(topicPartition, from: next, maxBytes: 1 << 20, isolation: .readCommitted)
            guard fetched.records.readableBytes > 0 else { return next }
            var batches = RecordBatchSequence(fetched.records)
            let start = next
            while let batch = try batches.next() {
                next = batch.nextOffset
                if batch.isControl { continue }
                var reader = try batch.recordReader()
                while let record = try reader.next() {
                    guard record.offset >= start, let value = record.value else { continue }
                    printFlushed("\(label)  \(String(buffer: value))")
                }
            }
            if next == start { return next }
        }
    }
}

