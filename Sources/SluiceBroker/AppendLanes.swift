import Dispatch
import NIOConcurrencyHelpers
import SluiceCore

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
    private let lanes = NIOLockedValueBox<[TopicPartition: DispatchQueue]>([:])

    /// Runs `work` after the work enqueued before it for `topicPartition`.
    func enqueue(_ topicPartition: TopicPartition, _ work: @escaping @Sendable () -> Void) {
        self.lane(for: topicPartition).async(execute: work)
    }

    private func lane(for topicPartition: TopicPartition) -> DispatchQueue {
        self.lanes.withLockedValue { lanes in
            if let lane = lanes[topicPartition] { return lane }
            let lane = DispatchQueue(label: "sluice.append.\(topicPartition.topic)-\(topicPartition.partition)")
            lanes[topicPartition] = lane
            return lane
        }
    }

    /// Forgets the lanes of a deleted topic.
    func removeLanes(of topic: String) {
        self.lanes.withLockedValue { lanes in lanes = lanes.filter { $0.key.topic != topic } }
    }
}
