import SluiceCore

/// Identifies a task: one sub-topology on one partition.
public struct TaskId: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var subtopology: Int
    public var partition: Int32

    public var description: String { "\(self.subtopology)_\(self.partition)" }

    public static func < (lhs: TaskId, rhs: TaskId) -> Bool {
        (lhs.subtopology, lhs.partition) < (rhs.subtopology, rhs.partition)
    }
}

/// What a task's operators share: where output goes, the task's stores, its clocks and counters.
/// Used by the task's thread only.
@usableFromInline
final class TaskContext {
    let taskId: TaskId
    let applicationId: String
    let producer: any LogProducer
    let client: any LogClient
    @usableFromInline let metrics: StreamsMetrics
    let settings: StreamsSettings
    /// Where the task's stores keep snapshots.
    let stateDirectory: String
    /// The stores the task's operators registered, restored before processing starts.
    var stores: [any StateStore] = []
    /// The first error an operator hit on the record path (which cannot throw): the task stops at
    /// the end of the batch and reports it.
    @usableFromInline var failure: (any Error)?
    /// The task's watermark, as operators last saw it.
    var watermark: Int64 = Watermark.unknown
    /// Wall-clock time of the current poll, for processing-time triggers.
    @usableFromInline var processingTimeMs: Int64 = 0

    private var partitionCounts: [String: Int32] = [:]
    private var roundRobin: Int32 = 0
    private var topicSlots: [String: [Int]] = [:]
    private var lastSlotsTopic = ""
    private var lastSlots: [Int] = []

    init(taskId: TaskId, applicationId: String, producer: any LogProducer, client: any LogClient, metrics: StreamsMetrics,
         settings: StreamsSettings, stateDirectory: String) {
        self.taskId = taskId
        self.applicationId = applicationId
        self.producer = producer
        self.client = client
        self.metrics = metrics
        self.settings = settings
        self.stateDirectory = stateDirectory
    }

    func partitionCount(of topic: String) throws(StreamsError) -> Int32 {
        if let count = self.partitionCounts[topic] { return count }
        guard let count = try self.client.partitionCount(of: topic) else {
            throw StreamsError(.invalidTopology, "output topic \(topic) does not exist")
        }
        self.partitionCounts[topic] = count
        return count
    }

    /// Sends a record to `topic`: to `partition` when given, else by murmur2 of the key bytes as
    /// Kafka's default partitioner does (keyless records spread round-robin).
    func send(topic: String, partition: Int32?, key: [UInt8]?, value: [UInt8]?, timestamp: Int64,
              headers: [(key: String, value: [UInt8]?)] = []) {
        guard self.failure == nil else { return }
        do throws(StreamsError) {
            let slots = try self.slots(for: topic)
            let target = partition ?? self.partition(forKey: key, partitionCount: Int32(slots.count))
            guard target >= 0 && Int(target) < slots.count else {
                throw StreamsError(.invalidTopology, "partition \(target) of \(topic) does not exist")
            }
            try self.producer.send(ProducerRecord(key: key, value: value, headers: headers, timestamp: timestamp), slot: slots[Int(target)])
        } catch {
            self.failure = error
        }
    }

    /// Kafka's default partitioner: murmur2 of the key bytes; keyless records round-robin.
    @usableFromInline
    func partition(forKey key: [UInt8]?, partitionCount: Int32) -> Int32 {
        if let key { return Murmur2.partition(forKey: key, partitionCount: partitionCount) }
        self.roundRobin &+= 1
        return self.roundRobin % partitionCount
    }

    /// The producer slots of `topic`'s partitions (looked up once per topic).
    func slots(for topic: String) throws(StreamsError) -> [Int] {
        if topic == self.lastSlotsTopic { return self.lastSlots }
        if let slots = self.topicSlots[topic] {
            self.lastSlotsTopic = topic
            self.lastSlots = slots
            return slots
        }
        let count = try self.partitionCount(of: topic)
        let slots = (0..<count).map { self.producer.slot(for: TopicPartition(topic, $0)) }
        self.topicSlots[topic] = slots
        self.lastSlotsTopic = topic
        self.lastSlots = slots
        return slots
    }

    /// The producer slot of this task's partition of `topic` (a changelog's), or nil with the failure recorded.
    @usableFromInline
    func ownPartitionSlot(of topic: String) -> Int? {
        do throws(StreamsError) {
            let slots = try self.slots(for: topic)
            guard Int(self.taskId.partition) < slots.count else {
                throw StreamsError(.invalidTopology, "partition \(self.taskId.partition) of \(topic) does not exist")
            }
            return slots[Int(self.taskId.partition)]
        } catch {
            self.failure = self.failure ?? error
            return nil
        }
    }

    /// Sends a record to a producer slot (from `slots(for:)`).
    @usableFromInline
    func send(slot: Int, key: [UInt8]?, value: [UInt8]?, timestamp: Int64) {
        guard self.failure == nil else { return }
        do {
            try self.producer.send(ProducerRecord(key: key, value: value, timestamp: timestamp), slot: slot)
        } catch {
            self.failure = error
        }
    }

    /// A record the pipeline cannot process goes to the dead-letter topic with the reason, never lost silently.
    @usableFromInline
    func deadLetter(key: [UInt8]?, value: [UInt8]?, timestamp: Int64, reason: String, source: TopicPartition, offset: Int64) {
        self.metrics.deadLetterRecords.increment()
        self.send(topic: self.settings.deadLetterTopic(self.applicationId), partition: nil, key: key, value: value, timestamp: timestamp,
                  headers: [("sluice.error", Array(reason.utf8)), ("sluice.source.topic", Array(source.topic.utf8)),
                            ("sluice.source.partition", Array(String(source.partition).utf8)),
                            ("sluice.source.offset", Array(String(offset).utf8))])
    }

    /// A record later than the allowed lateness goes to the late-records topic with the reason, and is counted.
    @usableFromInline
    func lateRecord(key: [UInt8]?, value: [UInt8]?, timestamp: Int64, reason: String) {
        self.metrics.lateRecords.increment()
        self.send(topic: self.settings.lateRecordsTopic(self.applicationId), partition: nil, key: key, value: value,
                  timestamp: timestamp, headers: [("sluice.late.reason", Array(reason.utf8))])
    }
}

extension TaskContext {
    /// The full name of an internal topic: `<applicationId>-<suffix>`.
    func internalTopicName(_ suffix: String) -> String {
        "\(self.applicationId)-\(suffix)"
    }
}
