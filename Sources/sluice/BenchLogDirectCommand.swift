import ArgumentParser
import NIOCore
import SluiceCore
import SluiceLog

/// `sluice bench log-direct`: the broker benchmark's baseline (scripts/bench-broker). Appends the
/// batches a Kafka producer would send, straight into the embedded log with acks=all semantics
/// (`appendDurably` under group commit, several batches in flight per partition), so that the broker's
/// produce throughput can be read as a fraction of what the log alone does with the same work.
/// Prints one JSON object last.
struct LogDirectBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-direct", abstract: "Baseline of scripts/bench-broker: producer-shaped durable appends straight into the log.",
        shouldDisplay: false)

    @Option(help: "A scratch directory (emptied first).") var dataDir: String = "/tmp/sluice-bench-log-direct"
    @Option(help: "Seconds of appending.") var seconds: Double = 5
    @Option(help: "Partitions of the topic, appended to concurrently.") var partitions: Int = 4
    @Option(help: "Bytes of each record's value.") var recordBytes: Int = 1024
    @Option(help: "Bytes per encoded batch, as a producer's batch.size (ignored with --batch-records).") var batchBytes: Int = 1024 * 1024
    @Option(help: "Records per batch, as the producer actually sent them (overrides --batch-bytes).") var batchRecords: Int?
    @Option(help: "Batches in flight (awaiting durability) per partition.") var inFlight: Int = 8
    @Option(help: "Least milliseconds between two group-commit syncs (the broker's default is 0).") var groupCommitMs: Int = 0

    func validate() throws {
        guard self.seconds > 0, self.partitions >= 1, self.recordBytes >= 1, self.inFlight >= 1 else {
            throw ValidationError("--seconds, --partitions, --record-bytes and --in-flight must be positive")
        }
    }

    func run() async throws {
        try await reportingErrors {
            #if DEBUG
            printError("warning: this is a debug build; build with -c release for real figures")
            #endif
            shell("rm -rf '\(self.dataDir)'")
            defer { shell("rm -rf '\(self.dataDir)'") }
            var options = LogOptions(durability: .groupCommit(interval: .milliseconds(self.groupCommitMs)))
            options.runsMaintenance = false
            let log = try Log(directory: self.dataDir, options: options)
            try log.createTopic("bench", config: TopicConfig(partitionCount: Int32(self.partitions)))
            let partitions = try log.partitions(of: "bench")

            // The record framing of a 1 KiB value with no key is about a dozen bytes.
            let recordsPerBatch = self.batchRecords ?? max(1, (self.batchBytes - RecordBatch.headerByteCount) / (self.recordBytes + 12))
            let batches = try Self.makeBatches(count: 16, recordsPerBatch: recordsPerBatch, recordBytes: self.recordBytes)
            let batchByteCount = batches[0].byteCount
            printError("log-direct: \(self.partitions) partitions × \(self.inFlight) in flight, batches of \(recordsPerBatch) records "
                + "(\(batchByteCount) bytes), \(format(self.seconds)) s")

            let syncsBefore = partitions.reduce(0) { $0 + $1.syncRoundCount }
            let start = ContinuousClock.now
            let deadline = start + .milliseconds(Int(self.seconds * 1000))
            var appendedBatches = 0
            try await withThrowingTaskGroup(of: Int.self) { group in
                for (partitionIndex, partition) in partitions.enumerated() {
                    for worker in 0..<self.inFlight {
                        group.addTask {
                            var count = 0
                            var index = partitionIndex * self.inFlight + worker
                            while ContinuousClock.now < deadline {
                                _ = try await partition.appendDurably(batches[index % batches.count])
                                count += 1
                                index += 1
                            }
                            return count
                        }
                    }
                }
                for try await count in group { appendedBatches += count }
            }
            let elapsed = secondsOf(ContinuousClock.now - start)
            let syncs = partitions.reduce(0) { $0 + $1.syncRoundCount } - syncsBefore
            try log.close()

            // Record values, as the producer's figure counts them (delivery reports carry value lengths).
            let records = appendedBatches * recordsPerBatch
            let valueMegabytesPerSecond = Double(records * self.recordBytes) / elapsed / 1_000_000
            let batchMegabytesPerSecond = Double(appendedBatches * batchByteCount) / elapsed / 1_000_000
            printError("log-direct: \(format(valueMegabytesPerSecond)) MB/s of values (\(format(batchMegabytesPerSecond)) MB/s of batches), "
                + "\(format(Double(records) / elapsed)) records/s, \(format(Double(syncs) / elapsed)) syncs/s")
            let figures: [(String, Double)] = [
                ("log_direct_mb_s", valueMegabytesPerSecond),
                ("log_direct_batch_mb_s", batchMegabytesPerSecond),
                ("log_direct_records_s", Double(records) / elapsed),
                ("log_direct_batch_bytes", Double(batchByteCount)),
                ("log_direct_batch_records", Double(recordsPerBatch)),
                ("log_direct_syncs_s", Double(syncs) / elapsed),
            ]
            print("{" + figures.map { "\"\($0.0)\": \(jsonNumber($0.1))" }.joined(separator: ", ") + "}")
        }
    }

    /// Distinct batches of random values, built once, as a non-idempotent producer sends them.
    static func makeBatches(count: Int, recordsPerBatch: Int, recordBytes: Int) throws(SluiceError) -> [RecordBatch] {
        var random = SystemRandomNumberGenerator()
        var batches: [RecordBatch] = []
        for _ in 0..<count {
            var builder = RecordBatchBuilder()
            let now = currentTimeMillis()
            for _ in 0..<recordsPerBatch {
                let value = (0..<recordBytes).map { _ in UInt8.random(in: 0...255, using: &random) }
                builder.append(ProducerRecord(key: nil, value: value, timestamp: now))
            }
            batches.append(try builder.build())
        }
        return batches
    }
}
