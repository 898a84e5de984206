import ArgumentParser
import Foundation
import NIOCore
import SluiceCore
import SluiceLog
import SluiceNexmark
import SluiceStreams

/// `sluice bench nexmark`: the engine's throughput on the Nexmark queries. Events are generated into
/// memory first (not timed); each query then runs over all of them to a discarding sink (timed:
/// decoding, processing, sink). The baseline is the same records only decoded, in the same run.
/// q5 also runs end to end with exactly-once, from a topic of the embedded log to another, in a
/// child process whose peak resident memory is q5's own. Prints one JSON object last.
struct NexmarkBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nexmark", abstract: "Benchmark the engine on the Nexmark queries.")

    @Option(help: "Events generated (and processed by each query).") var events: Int64 = 10_000_000
    @Option(help: "Partitions the events are spread over: tasks per sub-topology.") var partitions: Int32 = 2
    @Option(help: "Stream threads.") var threads: Int = 2
    @Option(help: "Queries to run, comma-separated (default all).") var queries: String?
    @Option(help: "Milliseconds between commits.") var commitIntervalMs: Int64 = 1_000
    @Option(help: "A scratch directory for the exactly-once run's log (emptied first).") var dataDir: String = "/tmp/sluice-bench-nexmark"
    @Flag(help: "Skip the exactly-once run (and so the peak memory figure).") var skipExactlyOnce = false

    func run() throws {
        #if DEBUG
        printError("warning: this is a debug build; run `swift run -c release sluice bench nexmark` for real figures")
        #endif
        let selected = try self.queries.map { list in
            try list.split(separator: ",").map { name in
                guard let query = NexmarkQuery(rawValue: String(name)) else { throw ValidationError("unknown query \(name)") }
                return query
            }
        } ?? NexmarkQuery.allCases
        try reportingErrorsSync {
            var figures: [(String, Double)] = []
            let client = MemoryLogClient()
            let generated = Date()
            try NexmarkRunner.load(NexmarkGenerator(seed: 42), count: self.events, into: client, topic: "events", partitionCount: self.partitions)
            printError("bench-nexmark: \(self.events) events generated in \(String(format: "%.1f", Date().timeIntervalSince(generated))) s")

            // The baseline: every record decoded as q0 decodes it, on one thread.
            let decode = try self.decodeOnly(client)
            figures.append(("decode_only_events_s", decode))
            printError("bench-nexmark: decode only: \(Int(decode)) events/s")

            for query in selected {
                let (eventsPerSecond, perCore) = try self.measure(query, client: client, microBatch: nil)
                figures.append(("\(query.rawValue)_events_s", eventsPerSecond))
                figures.append(("\(query.rawValue)_events_s_per_core", perCore))
                figures.append(("\(query.rawValue)_vs_decode_only", perCore / decode))
                printError("bench-nexmark: \(query.rawValue): \(Int(eventsPerSecond)) events/s, \(Int(perCore)) per core")
            }
            if selected.contains(.q5) {
                let (microBatch, _) = try self.measure(.q5, client: client, microBatch: MicroBatchSettings(intervalMs: 100))
                figures.append(("q5_micro_batch_events_s", microBatch))
                printError("bench-nexmark: q5 micro-batch (100 ms): \(Int(microBatch)) events/s")
            }

            if !self.skipExactlyOnce && selected.contains(.q5) {
                let (eventsPerSecond, peak) = try self.exactlyOnceQ5(client)
                figures.append(("q5_exactly_once_events_s", eventsPerSecond))
                figures.append(("q5_peak_rss_mb", peak))
                if let discard = figures.first(where: { $0.0 == "q5_events_s" }) {
                    figures.append(("q5_exactly_once_vs_discarding", eventsPerSecond / discard.1))
                }
            }
            figures.append(("events", Double(self.events)))
            figures.append(("threads", Double(self.threads)))
            print("{" + figures.map { "\"\($0.0)\":\(jsonNumber($0.1))" }.joined(separator: ",") + "}")
        }
    }

    /// Events per second of decoding alone (records read in place, bids decoded as q0 decodes them), one thread.
    private func decodeOnly(_ client: MemoryLogClient) throws -> Double {
        var decoder = BidDecoder([.auction, .bidder, .price, .dateTime, .extra])
        var checksum: Int64 = 0
        var count = 0
        let started = processCPUSeconds()
        for partition in 0..<self.partitions {
            let topicPartition = TopicPartition("events", partition)
            var offset: Int64 = 0
            let end = try client.offsets(of: topicPartition).highWatermark
            while offset < end {
                let fetched = try client.fetch(topicPartition, from: offset, maxBytes: 1 << 20, isolation: .readUncommitted)
                var batches = RecordBatchSequence(fetched.records)
                while let batch = try batches.next() {
                    offset = batch.nextOffset
                    // Read in place, as the engine's sources read.
                    try batch.forEachRecordView(inPayload: { record, payload in
                        let bid = try decoder.decode(record.value!, in: payload, at: record.valueByteOffset)
                        checksum &+= bid?.price ?? 0
                        count += 1
                    })
                }
            }
        }
        let seconds = processCPUSeconds() - started
        if checksum == 42 { printError("") }  // keeps the decoding from being optimised away
        return Double(count) / seconds
    }

    /// Events per second (wall clock) and per CPU-second of one query over all events.
    private func measure(_ query: NexmarkQuery, client: MemoryLogClient, microBatch: MicroBatchSettings?) throws -> (Double, Double) {
        var settings = StreamsSettings(applicationId: "bench-\(query.rawValue)-\(UUID().uuidString.prefix(8))",
                                       stateDirectory: NSTemporaryDirectory() + "sluice-bench-state-\(UUID())")
        settings.guarantee = .atLeastOnce
        settings.threadCount = self.threads
        settings.commitIntervalMs = self.commitIntervalMs
        settings.snapshotIntervalMs = Int64.max
        settings.microBatch = microBatch
        let counter = MetricCounter.standalone()
        let cpu = processCPUSeconds()
        let started = Date()
        try NexmarkRunner.run(query, client: client, input: "events", sink: .discard(counter), settings: settings)
        let seconds = Date().timeIntervalSince(started)
        let cpuSeconds = processCPUSeconds() - cpu
        try? FileManager.default.removeItem(atPath: settings.stateDirectory)
        return (Double(self.events) / seconds, Double(self.events) / cpuSeconds)
    }

    /// q5 with exactly-once from a log topic to a log topic, in a child process: events per second and peak RSS (MB).
    private func exactlyOnceQ5(_ client: MemoryLogClient) throws -> (Double, Double) {
        try? FileManager.default.removeItem(atPath: self.dataDir)
        do {
            let log = try Log(directory: self.dataDir)
            try log.createTopic("events", config: TopicConfig(partitionCount: self.partitions))
            for partition in 0..<self.partitions {
                let target = try log.partition(TopicPartition("events", partition))
                var offset: Int64 = 0
                let end = try client.offsets(of: TopicPartition("events", partition)).highWatermark
                while offset < end {
                    let fetched = try client.fetch(TopicPartition("events", partition), from: offset, maxBytes: 1, isolation: .readUncommitted)
                    var batches = RecordBatchSequence(fetched.records)
                    while let batch = try batches.next() {
                        _ = try target.append(batch)
                        offset = batch.nextOffset
                    }
                }
            }
            try log.close()
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["nexmark", "--query", "q5", "--data-dir", self.dataDir, "--topic", "events", "--output-topic", "q5-results",
                             "--threads", "\(self.threads)", "--guarantee", "exactly-once", "--commit-interval-ms", "100", "--report-json"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let seconds = object["seconds"] as? Double, let peak = object["peak_rss_mb"] as? Double else {
            throw StreamsError(.invalidConfiguration, "the exactly-once q5 run failed (status \(process.terminationStatus))")
        }
        printError("bench-nexmark: q5 exactly-once from the log: \(Int(Double(self.events) / seconds)) events/s, peak RSS \(Int(peak)) MB")
        try? FileManager.default.removeItem(atPath: self.dataDir)
        return (Double(self.events) / seconds, peak)
    }
}
