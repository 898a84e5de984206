import ArgumentParser
import Foundation
import NIOCore
import SluiceCore
import SluiceLog
import SluiceNexmark
import SluiceStreams

/// `sluice nexmark`: runs one of the reference Nexmark queries over generated events, from a
/// JSON-lines file (in memory) or a topic of the embedded log, to a file or a topic.
struct NexmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexmark", abstract: "Run a Nexmark query over events made by `sluice datagen nexmark`.",
        discussion: """
            Queries: \(NexmarkQuery.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: "; ")).
            Rows are JSON objects named as the reference SQL names its columns, plus window_start and window_end \
            (epoch milliseconds) for windowed queries. Event time is the bid's dateTime with 4 s of disorder.
            A file input is read into memory and run at-least-once (nothing to recover); a topic input runs on \
            the embedded log with the chosen guarantee.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "The query: \(NexmarkQuery.allCases.map(\.rawValue).joined(separator: ", ")).") var query: String
    @Option(help: "Read events from this JSON-lines file.") var input: String?
    @Option(help: "Read events from this topic of the embedded log.") var topic: String?
    @Option(help: "Write result rows to this JSON-lines file ('-' for stdout).") var output: String?
    @Option(help: "Write result rows to this topic (created with 1 partition if absent).") var outputTopic: String?
    @Option(help: "Stream threads.") var threads: Int = 1
    @Option(help: "Partitions a file's events are spread over (tasks per sub-topology).") var partitions: Int32 = 2
    @Option(help: "exactly-once or at-least-once (topic input only).") var guarantee: String = "exactly-once"
    @Option(help: "Milliseconds between commits.") var commitIntervalMs: Int64 = 100
    @Option(help: "Micro-batch mode: milliseconds per batch.") var microBatchMs: Int64?
    @Option(help: "The application id (internal topic names, commits).") var applicationId: String?
    @Option(help: "Where stores keep snapshots (default: <data-dir>/streams-state).") var stateDir: String?
    @Flag(help: "Print one JSON object of figures (events, seconds, CPU seconds, peak RSS) as the last line.") var reportJson = false

    func run() throws {
        guard let query = NexmarkQuery(rawValue: self.query) else {
            throw ValidationError("unknown query \(self.query); choose one of \(NexmarkQuery.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (self.input == nil) != (self.topic == nil) else { throw ValidationError("give exactly one of --input FILE or --topic T") }
        guard (self.output == nil) != (self.outputTopic == nil) else { throw ValidationError("give exactly one of --output FILE or --output-topic T") }
        guard let guarantee = StreamsSettings.Guarantee(rawValue: self.guarantee) else {
            throw ValidationError("--guarantee must be exactly-once or at-least-once")
        }
        guard self.partitions >= 1 else { throw ValidationError("--partitions must be at least 1") }
        try reportingErrorsSync {
            let application = self.applicationId ?? "nexmark-\(query.rawValue)"
            var settings = StreamsSettings(applicationId: application, stateDirectory: self.stateDir ?? self.data.dataDir + "/streams-state")
            settings.threadCount = self.threads
            settings.commitIntervalMs = self.commitIntervalMs
            if let interval = self.microBatchMs { settings.microBatch = MicroBatchSettings(intervalMs: interval) }
            let client: any LogClient
            var log: Log?
            var eventCount = 0
            let outputTopic = self.outputTopic ?? "\(application)-results"
            if let input = self.input {
                let memory = MemoryLogClient()
                guard let bytes = FileManager.default.contents(atPath: input) else { throw StreamsError(.invalidConfiguration, "cannot read \(input)") }
                eventCount = try NexmarkRunner.loadLines(Array(bytes), into: memory, topic: "events", partitionCount: self.partitions)
                try memory.ensureTopic(outputTopic, partitionCount: 1, compacted: false)
                settings.guarantee = .atLeastOnce
                client = memory
            } else {
                let opened = try self.data.openLog(maintenance: true)
                log = opened
                let embedded = EmbeddedLogClient(log: opened)
                guard let count = try embedded.partitionCount(of: self.topic!) else {
                    throw StreamsError(.invalidConfiguration, "topic \(self.topic!) does not exist")
                }
                for partition in 0..<count {
                    let offsets = try embedded.offsets(of: TopicPartition(self.topic!, partition))
                    eventCount += Int(offsets.highWatermark - offsets.start)
                }
                try embedded.ensureTopic(outputTopic, partitionCount: 1, compacted: false)
                settings.guarantee = guarantee
                client = embedded
            }
            let cpuBefore = processCPUSeconds()
            let started = Date()
            let app = try NexmarkRunner.run(query, client: client, input: self.input == nil ? self.topic! : "events", sink: .topic(outputTopic),
                                            settings: settings)
            let seconds = Date().timeIntervalSince(started)
            let cpuSeconds = processCPUSeconds() - cpuBefore
            if let output = self.output { try self.writeRows(from: client, topic: outputTopic, to: output) }
            try log?.close()
            let summary = "\(query.rawValue): \(eventCount) events in \(String(format: "%.2f", seconds)) s, \(app.metrics.recordsOut.value) rows"
            printError(summary)
            if self.reportJson {
                printFlushed("{\"events\":\(eventCount),\"seconds\":\(jsonNumber(seconds)),\"cpu_seconds\":\(jsonNumber(cpuSeconds)),"
                             + "\"records_out\":\(app.metrics.recordsOut.value),\"peak_rss_mb\":\(jsonNumber(peakResidentMegabytes()))}")
            }
        }
    }

    private func writeRows(from client: any LogClient, topic: String, to path: String) throws {
        let handle: FileHandle
        if path == "-" {
            handle = FileHandle.standardOutput
        } else {
            guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
                throw StreamsError(.invalidConfiguration, "cannot write \(path)")
            }
            handle = file
        }
        var chunk: [UInt8] = []
        for partition in 0..<(try client.partitionCount(of: topic) ?? 0) {
            let topicPartition = TopicPartition(topic, partition)
            var offset = try client.offsets(of: topicPartition).start
            let end = try client.offsets(of: topicPartition).lastStable
            while offset < end {
                let fetched = try client.fetch(topicPartition, from: offset, maxBytes: 1 << 20, isolation: .readCommitted)
                var next = offset
                var batches = RecordBatchSequence(fetched.records)
                while let batch = try batches.next() {
                    next = batch.nextOffset
                    if batch.isControl { continue }
                    var reader = try batch.recordReader()
                    while let record = try reader.next() {
                        guard record.offset >= offset else { continue }
                        if let value = record.value { chunk.append(contentsOf: value.readableBytesView) }
                        chunk.append(UInt8(ascii: "\n"))
                    }
                }
                if chunk.count > 1 << 20 {
                    handle.write(Data(chunk))
                    chunk.removeAll(keepingCapacity: true)
                }
                if next == offset { break }
                offset = next
            }
        }
        handle.write(Data(chunk))
        if path != "-" { try handle.close() }
    }
}

/// Synchronous `reportingErrors`: Sluice's errors as one line and exit code 1.
func reportingErrorsSync<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw reported(error)
    }
}

/// CPU seconds the whole process used (every thread, the group-commit flusher's included).
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// The process's peak resident set (VmHWM), megabytes.
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
    return kilobytes / 1024
}
