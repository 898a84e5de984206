import Foundation
import SluiceCore

/// The group-commit threads: partitions with unsynced appends queue here, and a few threads sync
/// them, each sync acknowledging every append it covered. Partitions are synced concurrently, so a
/// slow fsync of one file does not hold the others back; a partition's appends that arrive while
/// it syncs share its next sync.
final class GroupCommitFlusher: @unchecked Sendable {
    /// Threads syncing partitions at once.
    static let workerCountMax = 4

    private let interval: Duration
    private let lock = Lock()
    private let condition = Condition()
    private let stoppedCondition = Condition()
    /// Partitions waiting for a sync, in arrival order, each once.
    private var queue: [Partition] = []
    private var queued: Set<ObjectIdentifier> = []
    private var isStopping = false
    private var runningWorkers = 0

    init(interval: Duration, workerCount: Int = GroupCommitFlusher.workerCountMax) {
        self.interval = interval
        self.runningWorkers = workerCount
        for index in 0..<workerCount {
            namedThread("sluice-sync-\(index)") { [self] in self.work() }.start()
        }
    }

    /// Queues a partition for a sync.
    func schedule(_ partition: Partition) {
        self.lock.withLock {
            if self.queued.insert(ObjectIdentifier(partition)).inserted {
                self.queue.append(partition)
                self.condition.signal()
            }
        }
    }

    private func work() {
        let intervalNanoseconds = self.interval.components.seconds * 1_000_000_000 + self.interval.components.attoseconds / 1_000_000_000
        var lastRound: [ObjectIdentifier: ContinuousClock.Instant] = [:]
        while true {
            let next: Partition? = self.lock.withLock {
                while self.queue.isEmpty && !self.isStopping { self.lock.wait(on: self.condition) }
                guard !self.queue.isEmpty else { return nil }
                let partition = self.queue.removeFirst()
                self.queued.remove(ObjectIdentifier(partition))
                return partition
            }
            guard let partition = next else { break }
            let id = ObjectIdentifier(partition)
            // Space a partition's syncs `interval` apart so that a busy partition syncs many appends at once.
            if intervalNanoseconds > 0, let previous = lastRound[id] {
                let elapsed = ContinuousClock.now - previous
                if elapsed < self.interval {
                    let remaining = self.interval - elapsed
                    let nanoseconds = remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000
                    // Interrupted by stop(), which wants the pending appends synced now.
                    self.lock.withLock {
                        if !self.isStopping { self.lock.wait(on: self.condition, timeoutNanoseconds: nanoseconds) }
                    }
                }
            }
            lastRound[id] = ContinuousClock.now
            // A failed sync marks the partition failed and fails its waiters; nothing more to do here.
            try? partition.flush()
        }
        self.lock.withLock {
            self.runningWorkers -= 1
            self.stoppedCondition.broadcast()
        }
    }

    /// Syncs what is queued and ends the threads.
    func stop() {
        self.lock.withLock {
            self.isStopping = true
            self.condition.broadcast()
            while self.runningWorkers > 0 { self.lock.wait(on: self.stoppedCondition) }
        }
    }
}
