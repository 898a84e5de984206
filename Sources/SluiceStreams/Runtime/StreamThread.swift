import CoreMetrics
import Foundation
import SluiceCore
import SluiceLog
import Synchronization

/// A thread that runs its tasks in a loop: poll each task, commit on the interval, wait when idle.
/// One producer per thread, so one transaction covers all its tasks (Kafka Streams' exactly-once v2).
final class StreamThread: @unchecked Sendable {
    let index: Int
    let tasks: [StreamTask]
    let producer: any LogProducer
    let settings: StreamsSettings
    let client: any LogClient
    let metrics: StreamsMetrics
    let producerName: String
    private let committed: [String: TaskCommit]
    private let stopRequested = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private(set) var failure: (any Error)?
    private var commitSequence: Int64 = 0
    private var lastSnapshotMs: Int64 = 0
    /// Micro-batch mode: the current interval, adapted to the load when a target latency is set.
    private(set) var microBatchIntervalMs: Int64 = 0
    /// Micro-batches committed: the id of the next one.
    private(set) var batchId: Int64 = 0

    /// Longest wait for new data while idle (ms); also how often idle tasks re-check watermarks.
    static let idleWaitMs: Int64 = 5
    /// Milliseconds at-least-once output may wait in the producer before it is appended.
    static let lingerMs: Int64 = 5

    init(index: Int, tasks: [StreamTask], producer: any LogProducer, producerName: String, committed: [String: TaskCommit],
         nextBatchId: Int64, settings: StreamsSettings, client: any LogClient, metrics: StreamsMetrics) {
        self.batchId = nextBatchId
        self.index = index
        self.tasks = tasks
        self.producer = producer
        self.producerName = producerName
        self.committed = committed
        self.settings = settings
        self.client = client
        self.metrics = metrics
        self.microBatchIntervalMs = settings.microBatch?.intervalMs ?? 0
    }

    func requestStop() {
        self.stopRequested.store(true, ordering: .releasing)
    }

    var isFinished: Bool { self.finished.load(ordering: .acquiring) }

    /// The thread's body: restore, process, commit; on an error abort the open transaction and stop.
    func run() {
        defer {
            self.producer.close()
            self.finished.store(true, ordering: .releasing)
        }
        do {
            let now = currentTimeMillis()
            for task in self.tasks { try task.initialize(committed: self.committed[task.id.description], nowMs: now) }
            if self.settings.microBatch != nil {
                try self.runMicroBatches()
            } else {
                try self.runContinuously()
            }
        } catch {
            self.failure = error
            try? self.producer.abort()
        }
    }

    private func runContinuously() throws {
        var lastCommitMs = currentTimeMillis()
        var lastFlushMs = lastCommitMs
        while true {
            let stopping = self.stopRequested.load(ordering: .acquiring)
            let now = currentTimeMillis()
            var processed = 0
            if !stopping {
                for task in self.tasks { processed += try task.poll(nowMs: now) }
            }
            let done = self.settings.stopAtEnd && self.tasks.allSatisfy(\.isFinished)
            if stopping || done || now - lastCommitMs >= self.settings.commitIntervalMs {
                try self.commit(nowMs: now, force: stopping || done)
                lastCommitMs = now
            }
            if stopping || done { return }
            // At-least-once output is readable once appended: hand it over after a short linger, so
            // that downstream sub-topologies do not wait for the commit.
            if self.settings.guarantee == .atLeastOnce && (processed == 0 || now - lastFlushMs >= Self.lingerMs) {
                try self.producer.flushBuffered()
                lastFlushMs = now
            }
            if processed == 0 {
                self.waitForData()
            } else if self.settings.pollPauseMs > 0 {
                sleepNanoseconds(self.settings.pollPauseMs * 1_000_000)
            }
        }
    }

    /// Micro-batches: at each interval the input available at its start is processed and committed
    /// as one batch, numbered by `batchId`.
    private func runMicroBatches() throws {
        guard let microBatch = self.settings.microBatch else { return }
        while !self.stopRequested.load(ordering: .acquiring) {
            let started = monotonicNanoseconds()
            // The batch is what the inputs hold now; polling stops when no task reads anything more.
            while true {
                let now = currentTimeMillis()
                var processed = 0
                for task in self.tasks { processed += try task.poll(nowMs: now) }
                if processed == 0 || (monotonicNanoseconds() - started) / 1_000_000 >= self.microBatchIntervalMs { break }
            }
            let hadInput = self.tasks.contains(where: \.hasProgress)
            try self.commit(nowMs: currentTimeMillis(), force: false)
            if hadInput { self.batchId += 1 }
            let elapsedMs = (monotonicNanoseconds() - started) / 1_000_000
            if let target = microBatch.targetLatencyMs, hadInput {
                // A batch's latency is about its interval plus its processing time: keep that near the target.
                let room = target - elapsedMs
                let proposed = room > self.microBatchIntervalMs ? self.microBatchIntervalMs * 5 / 4 : max(1, room * 3 / 4)
                self.microBatchIntervalMs = min(max(proposed, max(1, microBatch.intervalMs / 10)), microBatch.intervalMs * 10)
            }
            if self.settings.stopAtEnd && self.tasks.allSatisfy(\.isFinished) {
                try self.commit(nowMs: currentTimeMillis(), force: true)
                return
            }
            let sleepMs = self.microBatchIntervalMs - elapsedMs
            if sleepMs > 0 { sleepNanoseconds(sleepMs * 1_000_000) }
        }
        try self.commit(nowMs: currentTimeMillis(), force: true)
    }

    private func waitForData() {
        var positions: [TopicPartition: Int64] = [:]
        for task in self.tasks { positions.merge(task.positions) { first, _ in first } }
        let isolation: IsolationLevel = self.settings.guarantee == .exactlyOnce ? .readCommitted : .readUncommitted
        self.client.waitForData(positions, isolation: isolation, timeoutNanoseconds: Self.idleWaitMs * 1_000_000)
    }

    /// Flushes every task and commits their output, state and positions together.
    private func commit(nowMs: Int64, force: Bool) throws {
        guard force || self.tasks.contains(where: \.hasProgress) else { return }
        let started = monotonicNanoseconds()
        for task in self.tasks { try task.flush() }
        self.commitSequence += 1
        try self.producer.commit(CommitRecord(producerId: self.producerName, sequence: self.commitSequence,
                                              tasks: self.tasks.map(\.commitState), batchId: self.settings.microBatch == nil ? nil : self.batchId))
        for task in self.tasks {
            task.hasProgress = false
            try task.purgeRepartitionInputs()
        }
        self.metrics.commits.increment()
        self.metrics.commitLatency.recordNanoseconds(monotonicNanoseconds() - started)
        self.metrics.record(thread: self.index, lag: self.tasks.reduce(0) { $0 + $1.lag() },
                            watermark: self.tasks.map(\.watermark).min() ?? Watermark.unknown, nowMs: nowMs)
        if force || nowMs - self.lastSnapshotMs >= self.settings.snapshotIntervalMs {
            for task in self.tasks { try task.snapshotStores() }
            self.lastSnapshotMs = nowMs
        }
    }
}
