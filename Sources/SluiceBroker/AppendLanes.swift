import Dispatch
import NIOConcurrencyHelpers
import SluiceCore
import Synchronization

/// One serial lane per partition for produce appends, so that the partitions of one request are
/// appended in parallel while each partition keeps the order in which requests arrived.
///
/// A connection enqueues a request's appends before it starts the next request, and a lane
/// runs its work in order, so two requests of a connection append to a partition in their order
/// (what idempotent sequence numbers and clients expect), whichever lanes they touch. How much work
/// waits in the lanes is bounded by the requests in flight per connection
/// (`KafkaServer.requestsInFlightMax`), since each request's response (or, with acks=0, its turn
/// in the connection's queue) waits for its appends.
///
/// A partition's work runs one piece at a time, in its lane or on a caller's thread
/// (`runOrEnqueue`): the transaction coordinator's markers rely on it, since a batch's check
/// against its transaction and its append must not straddle a marker.
final class AppendLanes: Sendable {
    /// An append that took longer than this (a stalling disk, a block reservation)...
    static let slowAppendNanosecondsDefault: UInt64 = 1_000_000
    /// ...keeps every partition's appends off the callers' threads for this long, so that a slow
    /// disk stalls an event loop once, not at every request of every partition.
    static let slowBackoffNanosecondsDefault: UInt64 = 1_000_000_000

    private final class Lane: Sendable {
        let queue: DispatchQueue
        /// Work enqueued and not finished.
        let pending = Atomic<Int>(0)
        /// Held while a piece of the partition's work runs, wherever it runs.
        let running = Mutex<Void>(())

        init(_ topicPartition: TopicPartition) {
            self.queue = DispatchQueue(label: "sluice.append.\(topicPartition.topic)-\(topicPartition.partition)")
        }
    }

    private let lanes = NIOLockedValueBox<[TopicPartition: Lane]>([:])
    /// Whether work may run on a caller's thread at all (`runOrEnqueue`).
    private let runsOnCallers: Bool
    private let slowAppendNanoseconds: UInt64
    private let slowBackoffNanoseconds: UInt64
    /// Until when (uptime nanoseconds) appends stay off the callers' threads.
    private let slowUntil = Atomic<UInt64>(0)

    /// `runsOnCallers` false: every piece of work runs in its lane.
    init(runsOnCallers: Bool = true, slowAppendNanoseconds: UInt64 = AppendLanes.slowAppendNanosecondsDefault,
         slowBackoffNanoseconds: UInt64 = AppendLanes.slowBackoffNanosecondsDefault) {
        self.runsOnCallers = runsOnCallers
        self.slowAppendNanoseconds = slowAppendNanoseconds
        self.slowBackoffNanoseconds = slowBackoffNanoseconds
    }

    /// Runs `work` after the work enqueued before it for `topicPartition`.
    func enqueue(_ topicPartition: TopicPartition, _ work: @escaping @Sendable () -> Void) {
        self.enqueue(work, on: self.lane(for: topicPartition))
    }

    /// Runs `work` on the calling thread if nothing waits in its lane and no append was slow lately,
    /// or enqueues it behind what waits: a request's last partition is appended where the request
    /// was read, its bytes still in that core's cache, with no thread to wake (a sixth less broker
    /// CPU per MB under `scripts/bench-broker`'s produce load). The order holds: what a connection
    /// enqueued before has run once its lane is empty, and the connection starts nothing else
    /// meanwhile.
    func runOrEnqueue(_ topicPartition: TopicPartition, _ work: @escaping @Sendable () -> Void) {
        let lane = self.lane(for: topicPartition)
        if self.runsOnCallers, lane.pending.load(ordering: .acquiring) == 0,
           DispatchTime.now().uptimeNanoseconds >= self.slowUntil.load(ordering: .relaxed) {
            self.run(work, in: lane)
        } else {
            self.enqueue(work, on: lane)
        }
    }

    /// Whether nothing waits in the lane or runs there (work run on a caller's thread aside).
    func isIdle(_ topicPartition: TopicPartition) -> Bool {
        self.lane(for: topicPartition).pending.load(ordering: .acquiring) == 0
    }

    private func enqueue(_ work: @escaping @Sendable () -> Void, on lane: Lane) {
        lane.pending.add(1, ordering: .relaxed)
        lane.queue.async {
            self.run(work, in: lane)
            lane.pending.subtract(1, ordering: .releasing)
        }
    }

    /// Runs one piece of the partition's work; a slow one starts the backoff.
    private func run(_ work: () -> Void, in lane: Lane) {
        let start = DispatchTime.now().uptimeNanoseconds
        lane.running.withLock { _ in work() }
        let end = DispatchTime.now().uptimeNanoseconds
        if end - start > self.slowAppendNanoseconds {
            self.slowUntil.store(end + self.slowBackoffNanoseconds, ordering: .relaxed)
        }
    }

    private func lane(for topicPartition: TopicPartition) -> Lane {
        self.lanes.withLockedValue { lanes in
            if let lane = lanes[topicPartition] { return lane }
            let lane = Lane(topicPartition)
            lanes[topicPartition] = lane
            return lane
        }
    }

    /// Forgets the lanes of a deleted topic.
    func removeLanes(of topic: String) {
        self.lanes.withLockedValue { lanes in lanes = lanes.filter { $0.key.topic != topic } }
    }
}
