import Foundation
import NIOCore
import SluiceCore

/// What a commit stores beside the output: for each task, where to resume reading and the event
/// time its inputs had reached, so that a restart continues with the same watermarks and therefore
/// the same decisions about late records. Kafka Streams keeps stream time in offset metadata for the
/// same reason.
public struct CommitRecord: Codable, Sendable, Equatable {
    /// The producer (stream thread) that wrote it.
    public var producerId: String
    /// Monotone per producer: the order of commits.
    public var sequence: Int64
    public var tasks: [TaskCommit]
    /// The partitions of the transaction this record closes, with the first offset the transaction
    /// wrote in each: a producer that finds one of them still open after a crash completes it.
    public var transactionPartitions: [TransactionPartition]
    /// Micro-batch mode: the id of the batch this commit closes (batches counted from 0).
    public var batchId: Int64?

    public init(producerId: String, sequence: Int64, tasks: [TaskCommit], transactionPartitions: [TransactionPartition] = [], batchId: Int64? = nil) {
        self.producerId = producerId
        self.sequence = sequence
        self.tasks = tasks
        self.transactionPartitions = transactionPartitions
        self.batchId = batchId
    }
}

public struct TransactionPartition: Codable, Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var firstOffset: Int64
}

public struct TaskCommit: Codable, Sendable, Equatable {
    public var task: String
    public var inputs: [InputPosition]

    public init(task: String, inputs: [InputPosition]) {
        self.task = task
        self.inputs = inputs
    }
}

/// One input partition of a task: the next offset to read and its event-time state.
public struct InputPosition: Codable, Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// The greatest event time read (source topics).
    public var maxTimestamp: Int64
    /// For repartition topics: the watermark each upstream task reported, by upstream task index.
    public var upstreamWatermarks: [Int64]?

    public init(topic: String, partition: Int32, offset: Int64, maxTimestamp: Int64, upstreamWatermarks: [Int64]? = nil) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.maxTimestamp = maxTimestamp
        self.upstreamWatermarks = upstreamWatermarks
    }
}

extension CommitRecord {
    func encoded() -> [UInt8] {
        // Encoding plain Codable structs cannot fail.
        Array(try! JSONEncoder().encode(self))
    }

    /// The latest commit record of each producer among `records` (an offsets topic's, in offset
    /// order), ordered by the offsets of those latest records: later commits come last.
    static func latestPerProducer(_ records: some Sequence<Record>) throws(StreamsError) -> [CommitRecord] {
        var latest: [String: (offset: Int64, record: CommitRecord)] = [:]
        for record in records {
            guard let value = record.value else { continue }
            let commit = try CommitRecord.decode(Array(value.readableBytesView))
            latest[commit.producerId] = (record.offset, commit)
        }
        return latest.values.sorted { $0.offset < $1.offset }.map(\.record)
    }

    static func decode(_ bytes: [UInt8]) throws(StreamsError) -> CommitRecord {
        do {
            return try JSONDecoder().decode(CommitRecord.self, from: Data(bytes))
        } catch {
            throw StreamsError(.stateRestore, "unreadable commit record: \(error)")
        }
    }
}
