import NIOCore
import SluiceCore
import SluiceLog

#if canImport(Glibc)
import Glibc
#endif

/// The in-process `LogClient`: reads and appends go straight to SluiceLog's partitions, with no
/// sockets and no copies of the batches read.
public final class EmbeddedLogClient: LogClient, @unchecked Sendable {
    public let log: Log

    /// Sleep between two looks at idle partitions while waiting for data.
    static let idlePollNanoseconds: Int64 = 1_000_000

    public init(log: Log) {
        self.log = log
    }

    public func partitionCount(of topic: String) throws(StreamsError) -> Int32? {
        do {
            return try self.log.topicConfig(topic).partitionCount
        } catch where error.code == .unknownTopic {
            return nil
        } catch {
            throw StreamsError(.log, "cannot read topic \(topic): \(error)", underlying: error)
        }
    }

    public func ensureTopic(_ topic: String, partitionCount: Int32, compacted: Bool) throws(StreamsError) {
        if let existing = try self.partitionCount(of: topic) {
            guard existing == partitionCount else {
                throw StreamsError(.invalidTopology, "topic \(topic) has \(existing) partitions where \(partitionCount) are needed")
            }
            return
        }
        var config = TopicConfig(partitionCount: partitionCount)
        if compacted { config.cleanupPolicy = .compact }
        config.retentionMs = -1
        do {
            try self.log.createTopic(topic, config: config)
        } catch where error.code == .topicExists {
            return
        } catch {
            throw StreamsError(.log, "cannot create topic \(topic): \(error)", underlying: error)
        }
    }

    func partition(_ topicPartition: TopicPartition) throws(StreamsError) -> Partition {
        do {
            return try self.log.partition(topicPartition)
        } catch {
            throw StreamsError(.log, "no partition \(topicPartition): \(error)", underlying: error)
        }
    }

    public func fetch(_ topicPartition: TopicPartition, from offset: Int64, maxBytes: Int, isolation: IsolationLevel) throws(StreamsError) -> FetchResult {
        do {
            return try self.partition(topicPartition).read(from: offset, maxBytes: maxBytes, isolation: isolation)
        } catch let error as StreamsError {
            throw error
        } catch {
            throw StreamsError(.log, "cannot read \(topicPartition) at offset \(offset): \(error)", underlying: error)
        }
    }

    public func offsets(of topicPartition: TopicPartition) throws(StreamsError) -> PartitionOffsets {
        let partition = try self.partition(topicPartition)
        return PartitionOffsets(start: partition.startOffset, highWatermark: partition.highWatermark, lastStable: partition.lastStableOffset)
    }

    public func deleteRecords(_ topicPartition: TopicPartition, before offset: Int64) throws(StreamsError) {
        do {
            try self.partition(topicPartition).deleteRecords(before: offset)
        } catch let error as StreamsError {
            throw error
        } catch {
            throw StreamsError(.log, "cannot delete records of \(topicPartition) before \(offset): \(error)", underlying: error)
        }
    }

    public func waitForData(_ positions: [TopicPartition: Int64], isolation: IsolationLevel, timeoutNanoseconds: Int64) {
        let deadline = monotonicNanoseconds() + timeoutNanoseconds
        let partitions = positions.compactMap { entry in (try? self.partition(entry.key)).map { ($0, entry.value) } }
        while true {
            for (partition, offset) in partitions {
                let end = isolation == .readCommitted ? partition.lastStableOffset : partition.highWatermark
                if end > offset { return }
            }
            let now = monotonicNanoseconds()
            guard now < deadline else { return }
            sleepNanoseconds(min(Self.idlePollNanoseconds, deadline - now))
        }
    }

    public func makeProducer(id: String, transactional: Bool, writes topics: [String], offsetsTopic: String) throws(StreamsError) -> any LogProducer {
        try EmbeddedProducer(client: self, id: id, transactional: transactional, writes: topics, offsetsTopic: offsetsTopic)
    }

    public func committedRecords(offsetsTopic: String) throws(StreamsError) -> [CommitRecord] {
        guard try self.partitionCount(of: offsetsTopic) != nil else { return [] }
        let partition = try self.partition(TopicPartition(offsetsTopic, 0))
        var records: [Record] = []
        var offset = partition.startOffset
        while true {
            let read: (records: [Record], nextOffset: Int64)
            do {
                read = try partition.readRecords(from: offset, maxBytes: 1 << 20, isolation: .readCommitted)
            } catch {
                throw StreamsError(.stateRestore, "cannot read \(offsetsTopic): \(error)", underlying: error)
            }
            records.append(contentsOf: read.records)
            if read.nextOffset == offset { break }
            offset = read.nextOffset
        }
        return try CommitRecord.latestPerProducer(records)
    }
}

/// Nanoseconds of a clock that never goes back (CLOCK_MONOTONIC).
public func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// Sleeps the calling thread, resuming after signals until the time has passed.
public func sleepNanoseconds(_ nanoseconds: Int64) {
    guard nanoseconds > 0 else { return }
    var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
