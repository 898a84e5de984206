import SluiceCore
import SluiceLog

/// The engine's only view of the log (DESIGN.md): shaped like a Kafka consumer plus a transactional
/// producer, so that the in-process implementation over SluiceLog and one over a Kafka client
/// library fit the same engine.
///
/// Calls block the calling stream thread; the engine runs its tasks on threads of its own.
public protocol LogClient: AnyObject, Sendable {
    /// Partitions of `topic`, or nil when it does not exist.
    func partitionCount(of topic: String) throws(StreamsError) -> Int32?

    /// Creates `topic` unless it exists; an existing topic with another partition count is an error.
    func ensureTopic(_ topic: String, partitionCount: Int32, compacted: Bool) throws(StreamsError)

    /// Whole batches from `offset` on, at most about `maxBytes`.
    func fetch(_ partition: TopicPartition, from offset: Int64, maxBytes: Int, isolation: IsolationLevel) throws(StreamsError) -> FetchResult

    /// The first offset, the high watermark and the last stable offset.
    func offsets(of partition: TopicPartition) throws(StreamsError) -> PartitionOffsets

    /// Deletes the records below `offset` (Kafka's DeleteRecords): what a repartition topic's reader
    /// has committed is not needed any more.
    func deleteRecords(_ partition: TopicPartition, before offset: Int64) throws(StreamsError)

    /// Blocks until one of the partitions has data beyond its offset, or `timeoutNanoseconds` passed.
    func waitForData(_ positions: [TopicPartition: Int64], isolation: IsolationLevel, timeoutNanoseconds: Int64)

    /// A producer for one stream thread. Its `id` is stable across restarts, so that the producer
    /// can recover (complete or abort) what its previous incarnation left open.
    func makeProducer(id: String, transactional: Bool, writes topics: [String], offsetsTopic: String) throws(StreamsError) -> any LogProducer

    /// Completes or aborts what producer `id` left open, when it left anything.
    func settleProducer(id: String, writes topics: [String], offsetsTopic: String) throws(StreamsError)

    /// The latest committed record of each producer of `offsetsTopic`, in commit order.
    func committedRecords(offsetsTopic: String) throws(StreamsError) -> [CommitRecord]
}

public struct PartitionOffsets: Sendable, Equatable {
    public var start: Int64
    public var highWatermark: Int64
    public var lastStable: Int64
}

/// Writes a stream thread's output. In a transaction (exactly-once) everything sent between two
/// commits, the changelog writes and the commit record with the input offsets become visible
/// together or not at all; without one (at-least-once) a commit makes the output durable, then
/// records the offsets.
public protocol LogProducer: AnyObject {
    /// The slot of a partition: `send(_:slot:)` then writes to it without looking the partition up again.
    func slot(for partition: TopicPartition) -> Int

    /// Queues a record for the partition of `slot`; sent to the log in batches.
    func send(_ record: ProducerRecord, slot: Int) throws(StreamsError)

    /// Hands what is buffered to the log now (not durable, not committed): readers of
    /// uncommitted data see it sooner, as a producer's linger ends.
    func flushBuffered() throws(StreamsError)

    /// Makes everything sent so far, and then `commit` (the input offsets), durable and visible.
    func commit(_ commit: CommitRecord) throws(StreamsError)

    /// Drops the open transaction (exactly-once only): nothing sent since the last commit is ever visible.
    func abort() throws(StreamsError)

    /// Closes the producer after a final commit or abort.
    func close()
}

extension EmbeddedLogClient {
    public func settleProducer(id: String, writes topics: [String], offsetsTopic: String) throws(StreamsError) {
        try self.makeProducer(id: id, transactional: true, writes: topics, offsetsTopic: offsetsTopic).close()
    }
}

extension LogProducer {
    /// Queues a record for `partition`.
    public func send(_ record: ProducerRecord, to partition: TopicPartition) throws(StreamsError) {
        try self.send(record, slot: self.slot(for: partition))
    }
}
