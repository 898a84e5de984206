import ArgumentParser
import Foundation
import NIOCore
import SluiceCore
import SluiceLog

#if canImport(Glibc)
import Glibc
#endif

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks; build with -c release.", subcommands: [LogBench.self, LogDirectBench.self, NexmarkBench.self, CDCBench.self])
}

/// `sluice bench log`: appends under group commit against raw disk writes with the same fsync
/// cadence, page-cache reads, and recovery after an unclean stop. Prints one JSON object last.
struct LogBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Benchmark the embedded log.")

    @Option(help: "A scratch directory (emptied first).") var dataDir: String = "/tmp/sluice-bench-log"
    @Option(help: "Seconds of appending for each run.") var seconds: Double = 4
    @Option(help: "Bytes per batch, as a producer's batch.size.") var batchBytes: Int = 64 * 1024
    @Option(help: "Batches in flight (awaiting durability) at once, as many producers or partitions would have.") var inFlight: Int = 32
    @Option(help: "Least milliseconds between two group-commit syncs.") var groupCommitMs: Int = 0
    @Option(help: "Runs of each measurement; medians are reported.") var repetitions: Int = 3
    @Option(help: "The log's drop-behind, megabytes of each partition's tail kept in the page cache ('all', the library's default: the OS decides); the disk baseline does the same.")
    var pageCacheTailMb: PageCacheTail = .all

    struct AppendFigures {
        var megabytesPerSecond: Double
        var recordsPerSecond: Double
        var bytes: Int64
        var syncRounds: Int
        var seconds: Double
    }

    func run() async throws {
        try await reportingErrors {
            #if DEBUG
            printError("warning: this is a debug build; run `swift run -c release sluice bench log` for real figures")
            #endif
            shell("rm -rf '\(self.dataDir)'")
            var figures: [(String, Double)] = []
            var oneK: AppendFigures?
            var baselineOneK = 0.0
            for recordBytes in [100, 1024] {
                // Repeated and interleaved, medians reported: the disk of a shared machine drifts.
                var appends: [AppendFigures] = []
                var baselines: [Double] = []
                var serials: [Double] = []
                for repetition in 0..<self.repetitions {
                    let directory = "\(self.dataDir)/append-\(recordBytes)"
                    shell("rm -rf '\(directory)'")
                    let append = try await self.measureAppend(directory: directory, recordBytes: recordBytes)
                    // The same bytes, written plainly with the same number of fdatasyncs.
                    let path = "\(self.dataDir)/baseline-\(recordBytes).bin"
                    baselines.append(try self.measureDisk(path: path, bytes: append.bytes, syncs: append.syncRounds, overlapped: true))
                    serials.append(try self.measureDisk(path: path, bytes: append.bytes, syncs: append.syncRounds, overlapped: false))
                    shell("rm -f '\(path)'")
                    appends.append(append)
                    printError("\(recordBytes)-byte records, run \(repetition + 1): \(format(append.megabytesPerSecond)) MB/s, \(format(append.recordsPerSecond)) records/s, \(append.syncRounds) fsyncs; disk baseline \(format(baselines.last!)) MB/s (serial write-then-sync \(format(serials.last!)) MB/s)")
                }
                let append = appends.sorted { $0.megabytesPerSecond < $1.megabytesPerSecond }[appends.count / 2]
                let baseline = median(baselines)
                let label = recordBytes == 100 ? "100b" : "1k"
                figures.append(("append_mb_s_\(label)", append.megabytesPerSecond))
                figures.append(("append_records_s_\(label)", append.recordsPerSecond))
                figures.append(("disk_baseline_mb_s_\(label)", baseline))
                figures.append(("disk_serial_mb_s_\(label)", median(serials)))
                figures.append(("fsyncs_per_s_\(label)", Double(append.syncRounds) / append.seconds))
                if recordBytes == 1024 {
                    oneK = append
                    baselineOneK = baseline
                }
            }
            figures.append(("disk_baseline_mb_s", baselineOneK))
            figures.append(("append_vs_disk", oneK!.megabytesPerSecond / baselineOneK))
            let readFigure = try self.measureRead(directory: "\(self.dataDir)/append-1024")
            figures.append(("read_mb_s", readFigure))
            printError("reads from the page cache: \(format(readFigure)) MB/s")
            let recovery = try self.measureRecovery(directory: "\(self.dataDir)/append-1024")
            figures.append(("recovery_s_per_gb", recovery.secondsPerGigabyte))
            figures.append(("recovery_gb", recovery.gigabytes))
            printError("recovery of \(format(recovery.gigabytes)) GB after an unclean stop: \(format(recovery.secondsPerGigabyte)) s/GB")
            shell("rm -rf '\(self.dataDir)'")
            print("{" + figures.map { "\"\($0.0)\": \(jsonNumber($0.1))" }.joined(separator: ", ") + "}")
        }
    }

    /// Appends pre-encoded batches to one partition for `seconds`, `inFlight` at a time, each
    /// acknowledged only once durable under group commit.
    func measureAppend(directory: String, recordBytes: Int) async throws -> AppendFigures {
        var options = LogOptions(durability: .groupCommit(interval: .milliseconds(self.groupCommitMs)))
        options.runsMaintenance = false
        options.pageCacheTailBytes = self.pageCacheTailMb.bytes
        let log = try Log(directory: directory, options: options)
        try log.createTopic("bench", config: TopicConfig(partitionCount: 1))
        let partition = try log.partition(TopicPartition("bench", 0))
        let recordsPerBatch = max(1, self.batchBytes / (recordBytes + 12))
        // A few distinct batches, built once, as producers would send them.
        var random = SystemRandomNumberGenerator()
        let batches: [RecordBatch] = try (0..<16).map { _ in
            var builder = RecordBatchBuilder()
            for _ in 0..<recordsPerBatch {
                builder.append(ProducerRecord(key: nil, value: (0..<recordBytes).map { _ in UInt8.random(in: 0...255, using: &random) }, timestamp: currentTimeMillis()))
            }
            return try builder.build()
        }
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(self.seconds * 1000))
        let syncsBefore = partition.syncRoundCount
        var appendedBytes: Int64 = 0
        var appendedRecords = 0
        try await withThrowingTaskGroup(of: (Int64, Int).self) { group in
            for worker in 0..<self.inFlight {
                group.addTask {
                    var bytes: Int64 = 0
                    var records = 0
                    var index = worker
                    while ContinuousClock.now < deadline {
                        let batch = batches[index % batches.count]
                        _ = try await partition.appendDurably(batch)
                        bytes += Int64(batch.byteCount)
                        records += recordsPerBatch
                        index += self.inFlight
                    }
                    return (bytes, records)
                }
            }
            for try await (bytes, records) in group {
                appendedBytes += bytes
                appendedRecords += records
            }
        }
        let elapsed = secondsOf(ContinuousClock.now - start)
        let syncs = partition.syncRoundCount - syncsBefore
        try log.close()
        return AppendFigures(megabytesPerSecond: Double(appendedBytes) / elapsed / 1_000_000, recordsPerSecond: Double(appendedRecords) / elapsed,
                             bytes: appendedBytes, syncRounds: max(syncs, 1), seconds: elapsed)
    }

    /// Writes `bytes` sequentially with pwrite in batch-sized writes and `syncs` fdatasyncs spread
    /// evenly over the bytes: what the disk does for the same work with no log around it. With
    /// `overlapped`, a second thread issues the syncs while the writer keeps writing (as the log's
    /// flusher does, the stricter baseline); otherwise the writer stops for each sync. With the log's
    /// drop-behind on, the synced bytes but its page-cache tail leave the page cache after each sync
    /// here too, so that both treat pages alike.
    func measureDisk(path: String, bytes: Int64, syncs: Int, overlapped: Bool) throws -> Double {
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw SluiceError(.ioFailure, "cannot create \(path)") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x5A, count: self.batchBytes)
        let tailBytes = self.pageCacheTailMb.bytes
        let bytesPerSync = max(Int64(self.batchBytes), bytes / Int64(syncs))
        let written = ManagedAtomicInt64()
        let start = ContinuousClock.now
        var syncer: Thread?
        let syncerDone = DispatchSemaphoreLike()
        if overlapped {
            let thread = Thread {
                var synced: Int64 = 0
                while synced < bytes {
                    let now = written.load()
                    if now - synced >= bytesPerSync || now == bytes {
                        fdatasync(fd)
                        synced = now
                        dropSyncedPages(fd, syncedBytes: synced, keepingTailBytes: tailBytes)
                    } else {
                        var pause = timespec(tv_sec: 0, tv_nsec: 20_000)
                        nanosleep(&pause, nil)
                    }
                }
                syncerDone.signal()
            }
            thread.start()
            syncer = thread
        }
        var position: Int64 = 0
        var sinceSync: Int64 = 0
        while position < bytes {
            let count = Int(min(Int64(chunk.count), bytes - position))
            let result = chunk.withUnsafeBytes { pwrite(fd, $0.baseAddress!, count, off_t(position)) }
            guard result == count else { throw SluiceError(.ioFailure, "baseline write failed") }
            position += Int64(count)
            written.store(position)
            if !overlapped {
                sinceSync += Int64(count)
                if sinceSync >= bytesPerSync {
                    fdatasync(fd)
                    sinceSync = 0
                    dropSyncedPages(fd, syncedBytes: position, keepingTailBytes: tailBytes)
                }
            }
        }
        if syncer != nil { syncerDone.wait() } else { fdatasync(fd) }
        return Double(bytes) / secondsOf(ContinuousClock.now - start) / 1_000_000
    }

    /// Reads the whole partition sequentially, 1 MiB a read, several times, from the page cache.
    func measureRead(directory: String) throws -> Double {
        var options = LogOptions(durability: .osManaged)
        options.runsMaintenance = false
        let log = try Log(directory: directory, options: options)
        defer { try? log.close() }
        let partition = try log.partition(TopicPartition("bench", 0))
        var total: Int64 = 0
        var best = 0.0
        for _ in 0..<3 {
            var offset = partition.startOffset
            total = 0
            let start = ContinuousClock.now
            while true {
                let result = try partition.read(from: offset, maxBytes: 1024 * 1024)
                guard result.records.readableBytes > 0 else { break }
                total += Int64(result.records.readableBytes)
                var batches = RecordBatchSequence(result.records)
                while let batch = try batches.next() { offset = batch.nextOffset }
            }
            best = max(best, Double(total) / secondsOf(ContinuousClock.now - start) / 1_000_000)
        }
        return best
    }

    /// Opens the partition as after a crash with no recovery point: every batch is read, checked
    /// and indexed again.
    func measureRecovery(directory: String) throws -> (secondsPerGigabyte: Double, gigabytes: Double) {
        let partitionDirectory = directory + "/topics/bench/0"
        shell("rm -f '\(directory)/.clean-shutdown' '\(partitionDirectory)/recovery-point' '\(partitionDirectory)'/*.snapshot '\(partitionDirectory)'/*index")
        let bytes = directorySize(partitionDirectory)
        var options = LogOptions(durability: .osManaged)
        options.runsMaintenance = false
        let start = ContinuousClock.now
        let log = try Log(directory: directory, options: options)
        let elapsed = secondsOf(ContinuousClock.now - start)
        try log.close()
        let gigabytes = Double(bytes) / 1_000_000_000
        return (elapsed / gigabytes, gigabytes)
    }
}

/// The disk baseline's drop-behind: all but `tailBytes` of `syncedBytes` (nothing when nil).
private func dropSyncedPages(_ fd: Int32, syncedBytes: Int64, keepingTailBytes tailBytes: Int64?) {
    guard let tailBytes else { return }
    let end = syncedBytes - tailBytes
    if end > 0 { _ = posix_fadvise(fd, 0, off_t(end), POSIX_FADV_DONTNEED) }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func secondsOf(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func format(_ value: Double) -> String {
    String(format: value)
}

private func String(format value: Double) -> String {
    let rounded = (value * 100).rounded() / 100
    return "\(rounded)"
}

func jsonNumber(_ value: Double) -> String {
    guard value.isFinite else { return "null" }
    return "\((value * 1000).rounded() / 1000)"
}

/// Bytes of the regular files in a directory (not recursive).
func directorySize(_ path: String) -> Int64 {
    guard let names = try? FileSystem.list(path) else { return 0 }
    var total: Int64 = 0
    for name in names {
        var info = stat()
        if stat(path + "/" + name, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG { total += Int64(info.st_size) }
    }
    return total
}

@discardableResult
func shell(_ command: String) -> Int32 {
    system(command)
}

/// A 64-bit counter shared by the baseline's writer and syncer threads.
final class ManagedAtomicInt64: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64 = 0
    func load() -> Int64 { self.lock.withLock { self.value } }
    func store(_ newValue: Int64) { self.lock.withLock { self.value = newValue } }
}

/// A one-shot signal between threads.
final class DispatchSemaphoreLike: @unchecked Sendable {
    private let condition = NSCondition()
    private var signalled = false
    func signal() {
        self.condition.lock()
        self.signalled = true
        self.condition.signal()
        self.condition.unlock()
    }
    func wait() {
        self.condition.lock()
        while !self.signalled { self.condition.wait() }
        self.condition.unlock()
    }
}
