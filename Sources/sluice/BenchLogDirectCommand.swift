import ArgumentParser
import NIOCore
import SluiceCore
import SluiceLog

#if canImport(Glibc)
import Glibc
#endif

/// `sluice bench log-direct`: the baseline of the broker benchmark (scripts/bench-broker). Appends the
/// batches a Kafka producer sends, straight into the embedded log with acks=all semantics
/// (`appendDurably` under group commit, several batches in flight per partition), so that the broker's
/// produce throughput reads as a fraction of what the log alone does with the same work. The batches
/// are non-idempotent (producer id -1), as the benchmark's producer sends them by default. Prints one
/// JSON object last; MB are 10^6 bytes of record values, as the producer's figures count them.
struct LogDirectBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-direct",
        abstract: "Baseline of scripts/bench-broker: producer-shaped durable appends straight into the log.",
        shouldDisplay: false)

    @Option(help: "A scratch directory (emptied first, removed after).")
    var dataDir: String = "/tmp/sluice-bench-log-direct"
    @Option(help: "Seconds of appending.")
    var seconds: Double = 5
    @Option(help: "Partitions of the topic, appended to concurrently.")
    var partitions: Int = 4
    @Option(help: "Bytes of each record's value.")
    var recordBytes: Int = 1024
    @Option(help: "Bytes per encoded batch, as a producer's batch.size (ignored with --batch-records).")
    var batchBytes: Int = 1024 * 1024
    @Option(help: "Records per batch, as the producer actually sent them (overrides --batch-bytes).")
    var batchRecords: Int?
    @Option(help: "Batches in flight (awaiting durability) per partition.")
    var inFlight: Int = 8
    @Option(help: "Least milliseconds between two group-commit syncs (0, as `sluice serve` by default).")
    var groupCommitMs: Int = 0
    @Option(help: "Megabytes at the end of each partition kept in the page cache once synced ('all': the OS decides), as `sluice serve`.")
    var pageCacheTailMb: PageCacheTail = .streaming

    /// The framing of one record with no key and no headers around its value, in bytes (about a dozen
    /// for a 1 KiB value: attributes, varint timestamp and offset deltas, key and value lengths).
    static let recordOverheadBytes = 12

    func validate() throws {
        guard self.seconds > 0, self.partitions >= 1, self.recordBytes >= 1, self.inFlight >= 1,
              (self.batchRecords ?? 1) >= 1 else {
            throw ValidationError("--seconds, --partitions, --record-bytes, --in-flight and --batch-records must be positive")
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
            options.pageCacheTailBytes = self.pageCacheTailMb.bytes
            options.runsMaintenance = false
            let log = try Log(directory: self.dataDir, options: options)
            try log.createTopic("bench", config: TopicConfig(partitionCount: Int32(self.partitions)))
            let partitions = try log.partitions(of: "bench")

            let recordsPerBatch = self.batchRecords
                ?? max(1, (self.batchBytes - RecordBatch.headerByteCount) / (self.recordBytes + Self.recordOverheadBytes))
            let batches = try Self.makeBatches(count: 16, recordsPerBatch: recordsPerBatch, recordBytes: self.recordBytes)
            let batchByteCount = batches[0].byteCount
            printError("log-direct: \(self.partitions) partitions × \(self.inFlight) in flight, "
                + "batches of \(recordsPerBatch) records (\(batchByteCount) bytes), \(format(self.seconds)) s")

            let syncsBefore = partitions.reduce(0) { $0 + $1.syncRoundCount }
            let cpuBefore = processCPUSeconds()
            let start = ContinuousClock.now
            let deadline = start + .milliseconds(Int(self.seconds * 1000))
            var appendedBatchCount = 0
            try await withThrowingTaskGroup(of: Int.self) { group in
                for (partitionIndex, partition) in partitions.enumerated() {
                    for worker in 0..<self.inFlight {
                        group.addTask {
                            var batchCount = 0
                            var batchIndex = partitionIndex * self.inFlight + worker
                            while ContinuousClock.now < deadline {
                                _ = try await partition.appendDurably(batches[batchIndex % batches.count])
                                batchCount += 1
                                batchIndex += 1
                            }
                            return batchCount
                        }
                    }
                }
                for try await batchCount in group { appendedBatchCount += batchCount }
            }
            let elapsed = secondsOf(ContinuousClock.now - start)
            let cpuSeconds = processCPUSeconds() - cpuBefore
            let syncs = partitions.reduce(0) { $0 + $1.syncRoundCount } - syncsBefore
            try log.close()

            let recordCount = appendedBatchCount * recordsPerBatch
            let valueMegabytes = Double(recordCount * self.recordBytes) / 1_000_000
            let batchMegabytes = Double(appendedBatchCount * batchByteCount) / 1_000_000
            printError("log-direct: \(format(valueMegabytes / elapsed)) MB/s of values "
                + "(\(format(batchMegabytes / elapsed)) MB/s of batches), \(format(Double(recordCount) / elapsed)) records/s, "
                + "\(format(Double(syncs) / elapsed)) syncs/s, \(format(cpuSeconds / elapsed)) cores busy")
            let figures: [(String, Double)] = [
                ("log_direct_mb_s", valueMegabytes / elapsed),
                ("log_direct_batch_mb_s", batchMegabytes / elapsed),
                ("log_direct_records_s", Double(recordCount) / elapsed),
                ("log_direct_batch_bytes", Double(batchByteCount)),
                ("log_direct_batch_records", Double(recordsPerBatch)),
                ("log_direct_syncs_s", Double(syncs) / elapsed),
                ("log_direct_cpu_cores", cpuSeconds / elapsed),
                // CPU per MB of values: what the broker adds on top shows against it.
                ("log_direct_cpu_ms_per_mb", cpuSeconds * 1000 / valueMegabytes),
            ]
            print("{" + figures.map { "\"\($0.0)\": \(jsonNumber($0.1))" }.joined(separator: ", ") + "}")
        }
    }

    /// Distinct batches of random values, built once. Values are cut at varying offsets from one random
    /// pool, as the benchmark's Kafka client does, so that nothing repeats within a batch.
    static func makeBatches(count: Int, recordsPerBatch: Int, recordBytes: Int) throws(SluiceError) -> [RecordBatch] {
        var random = SystemRandomNumberGenerator()
        let poolByteCount = max(4 << 20, 2 * recordBytes)
        var pool = [UInt8](repeating: 0, count: poolByteCount)
        pool.withUnsafeMutableBytes { raw in
            for offset in stride(from: 0, to: raw.count - 7, by: 8) {
                raw.storeBytes(of: random.next() as UInt64, toByteOffset: offset, as: UInt64.self)
            }
        }
        var batches: [RecordBatch] = []
        var recordIndex = 0
        for _ in 0..<count {
            var builder = RecordBatchBuilder()
            let now = currentTimeMillis()
            for _ in 0..<recordsPerBatch {
                let start = (recordIndex &* 4099) % (poolByteCount - recordBytes)
                builder.append(ProducerRecord(key: nil, value: Array(pool[start..<start + recordBytes]), timestamp: now))
                recordIndex += 1
            }
            batches.append(try builder.build())
        }
        return batches
    }
}
