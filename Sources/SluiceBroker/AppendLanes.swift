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
final class AppendLanes: Sendable {
    /// An append that took longer sends the partition's next one to its lane, off the event loop,
    /// until an append there is quick again: a disk that stalls (a slow fsync under a write, a
    /// block reservation) stalls the event loop's other connections once, not at every request.
    static let inlineAppendNanosecondsMax: UInt64 = 1_000_000

    private final class Lane: Sendable {
        let queue: DispatchQueue
        /// Work enqueued and not finished.
        let pending = Atomic<Int>(0)
        /// The last append took longer than `inlineAppendNanosecondsMax`.
        let lastWasSlow = Atomic<Bool>(false)

        /// Runs `work`, noting whether it was slow.
        func run(_ work: () -> Void) {
            let start = DispatchTime.now().uptimeNanoseconds
            work()
            let slow = DispatchTime.now().uptimeNanoseconds - start > AppendLanes.inlineAppendNanosecondsMax
            self.lastWasSlow.store(slow, ordering: .relaxed)
        }

        init(_ topicPartition: TopicPartition) {
            self.queue = DispatchQueue(label: "sluice.append.\(topicPartition.topic)-\(topicPartition.partition)")
        }
    }

    private let lanes = NIOLockedValueBox<[TopicPartition: Lane]>([:])

    /// Runs `work` after the work enqueued before it for `topicPartition`.
    func enqueue(_ topicPartition: TopicPartition, _ work: @escaping @Sendable () -> Void) {
        Self.enqueue(work, on: self.lane(for: topicPartition))
    }

    /// Runs `work` on the calling thread if nothing waits in its lane and its last append was quick,
    /// or enqueues it behind what waits: a request's last partition is appended where the request
    /// was read, its bytes still in that core's cache, with no thread to wake (a sixth less broker
    /// CPU per MB under `scripts/bench-broker`'s produce load). The order holds: what a connection
    /// enqueued before has run once its lane is empty, and the connection starts nothing else
    /// meanwhile.
    func runOrEnqueue(_ topicPartition: TopicPartition, _ work: @escaping @Sendable () -> Void) {
        let lane = self.lane(for: topicPartition)
        if lane.pending.load(ordering: .acquiring) == 0, !lane.lastWasSlow.load(ordering: .relaxed) {
            lane.run(work)
        } else {
            Self.enqueue(work, on: lane)
        }
    }

    /// Whether nothing waits in the lane or runs there.
    func isIdle(_ topicPartition: TopicPartition) -> Bool {
        self.lane(for: topicPartition).pending.load(ordering: .acquiring) == 0
    }

    private static func enqueue(_ work: @escaping @Sendable () -> Void, on lane: Lane) {
        lane.pending.add(1, ordering: .relaxed)
        lane.queue.async {
            lane.run(work)
            lane.pending.subtract(1, ordering: .releasing)
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
