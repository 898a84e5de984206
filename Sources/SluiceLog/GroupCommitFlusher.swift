import Foundation
import SluiceCore

/// The group-commit thread: partitions with unsynced appends register here, and one thread syncs
/// them together at most once per interval, acknowledging every append each sync covered.
final class GroupCommitFlusher: @unchecked Sendable {
    private let interval: Duration
    private let lock = Lock()
    private let condition = Condition()
    private var dirty: [ObjectIdentifier: Partition] = [:]
    private var isStopping = false
    private var isStopped = false
    private let stoppedCondition = Condition()

    init(interval: Duration) {
        self.interval = interval
        let thread = Thread { [self] in self.run() }
        thread.name = "sluice-group-commit"
        thread.start()
    }

    /// Queues a partition for the next sync.
    func schedule(_ partition: Partition) {
        self.lock.withLock {
            if self.dirty.updateValue(partition, forKey: ObjectIdentifier(partition)) == nil { self.condition.signal() }
        }
    }

    private func run() {
        let intervalNanoseconds = self.interval.components.seconds * 1_000_000_000 + self.interval.components.attoseconds / 1_000_000_000
        var lastRound = ContinuousClock.now
        while true {
            let batch: [Partition]? = self.lock.withLock {
                while self.dirty.isEmpty && !self.isStopping { self.lock.wait(on: self.condition) }
                if self.dirty.isEmpty && self.isStopping { return nil }
                defer { self.dirty.removeAll(keepingCapacity: true) }
                return Array(self.dirty.values)
            }
            guard let batch else { break }
            // Space rounds `interval` apart so that a busy log syncs many appends at once.
            let elapsed = ContinuousClock.now - lastRound
            if elapsed < self.interval, intervalNanoseconds > 0 {
                let remaining = self.interval - elapsed
                let nanoseconds = remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000
                // Interrupted by stop(), which wants the pending appends synced now.
                self.lock.withLock {
                    if !self.isStopping { self.lock.wait(on: self.condition, timeoutNanoseconds: nanoseconds) }
                }
            }
            lastRound = ContinuousClock.now
            for partition in batch {
                // A failed sync marks the partition failed and fails its waiters; nothing more to do here.
                try? partition.flush()
            }
        }
        self.lock.withLock {
            self.isStopped = true
            self.stoppedCondition.broadcast()
        }
    }

    /// Syncs what is pending and ends the thread.
    func stop() {
        self.lock.withLock {
            self.isStopping = true
            self.condition.broadcast()
            while !self.isStopped { self.lock.wait(on: self.stoppedCondition) }
        }
    }
}
