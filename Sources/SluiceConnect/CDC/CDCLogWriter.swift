import NIOCore
import SluiceCore
import SluiceLog

/// Writes change events to the log, one single-partition topic per table, and drops those the
/// log already holds: each topic's last position (`pg.lsn`, `pg.seq` headers of its last record)
/// is read when the topic is first used, and an event at or before it is skipped. Events are
/// batched per topic; `flush()` appends what is buffered and syncs every topic written, after which
/// the caller may confirm the LSN to PostgreSQL.
extension RecordBatchBuilder {
    mutating func appendReturningByteCount(_ record: ProducerRecord) -> Int {
        self.append(record)
        return self.encodedByteCount
    }
}

final class CDCLogWriter {
    let log: Log
    private var partitions: [String: Partition] = [:]
    /// The position of the last event appended or buffered per topic.
    private var positions: [String: EventPosition?] = [:]
    private var builders: [String: RecordBatchBuilder] = [:]
    private var unsynced: Set<String> = []
    private(set) var bufferedEventCount = 0
    private(set) var skippedEventCount = 0
    private(set) var writtenEventCount = 0

    /// A topic's batch is appended once it holds this many bytes (below the topic's max message bytes).
    static let batchBytesMax = 512 * 1024
    /// The largest batch, hence event, a table topic accepts (its max.message.bytes): rows with big
    /// text or bytea values fit; a larger event stops the connector with this limit named.
    static let eventBytesMax = 16 * 1024 * 1024
    /// Bytes a record takes beside its key and value, at most (lengths, deltas, the two headers).
    static let recordOverheadByteCount = 96

    init(log: Log) {
        self.log = log
    }

    var hasUnsyncedData: Bool { self.bufferedEventCount > 0 || !self.unsynced.isEmpty }

    /// The partition of `topic`, created with one partition when absent.
    func partition(_ topic: String) throws(CDCError) -> Partition {
        if let partition = self.partitions[topic] { return partition }
        do {
            if !self.log.topicNames.contains(topic) {
                var config = TopicConfig(partitionCount: 1)
                config.maxMessageBytes = Int32(Self.eventBytesMax)
                do {
                    try self.log.createTopic(topic, config: config)
                } catch where error.code == .topicExists {}
            }
            let partition = try self.log.partition(TopicPartition(topic, 0))
            self.partitions[topic] = partition
            return partition
        } catch {
            throw CDCError(.log, "cannot open topic \(topic)", underlying: error)
        }
    }

    /// The position of the last record of `topic` in the log (nil: empty or absent).
    func lastPosition(_ topic: String) throws(CDCError) -> EventPosition? {
        if let known = self.positions[topic] { return known }
        let partition = try self.partition(topic)
        var position: EventPosition?
        let end = partition.logEndOffset
        if end > partition.startOffset {
            do {
                let records = try partition.readRecords(from: end - 1, maxBytes: 16 * 1024 * 1024).records
                if let last = records.last { position = Self.position(of: last) }
            } catch {
                throw CDCError(.log, "cannot read the tail of \(topic)", underlying: error)
            }
        }
        self.positions[topic] = position
        return position
    }

    static func position(of record: Record) -> EventPosition? {
        var lsn: UInt64?
        var sequence: Int64?
        for header in record.headers {
            guard let value = header.value else { continue }
            let text = String(decoding: value.readableBytesView, as: UTF8.self)
            if header.key == EventPosition.lsnHeader { lsn = UInt64(text) }
            if header.key == EventPosition.sequenceHeader { sequence = Int64(text) }
        }
        guard let lsn, let sequence else { return nil }
        return EventPosition(lsn: LSN(lsn), sequence: sequence)
    }

    /// Buffers `event` unless the topic already holds its position (or a later one).
    /// Returns whether the event was taken.
    @discardableResult
    func append(_ event: ChangeEvent, deduplicate: Bool = true) throws(CDCError) -> Bool {
        if deduplicate, let last = try self.lastPosition(event.topic), event.position <= last {
            self.skippedEventCount += 1
            return false
        }
        self.positions[event.topic] = event.position
        // A batch stays under batchBytesMax unless one event alone is larger: the topic's
        // max.message.bytes bounds a batch, and the log names that limit if an event exceeds it.
        let eventByteCount = (event.key?.count ?? 0) + (event.value?.count ?? 0) + Self.recordOverheadByteCount
        if let pending = self.builders[event.topic], pending.recordCount > 0,
           pending.encodedByteCount + eventByteCount > Self.batchBytesMax {
            self.builders[event.topic] = nil
            try self.appendBatch(pending, topic: event.topic)
        }
        let lsnHeader = self.headerBytes(event.position.lsn)
        // Mutated in place in the dictionary: a copy taken out would make every append copy the batch.
        let byteCount = self.builders[event.topic, default: RecordBatchBuilder()].appendReturningByteCount(ProducerRecord(
            key: event.key, value: event.value,
            headers: [(EventPosition.lsnHeader, lsnHeader), (EventPosition.sequenceHeader, Array(String(event.position.sequence).utf8))],
            timestamp: event.timestampMs))
        self.bufferedEventCount += 1
        self.writtenEventCount += 1
        if byteCount >= Self.batchBytesMax, let builder = self.builders.removeValue(forKey: event.topic) {
            try self.appendBatch(builder, topic: event.topic)
        }
        return true
    }

    private var lastHeaderLSN = LSN.zero
    private var lastHeaderBytes: [UInt8] = Array("0".utf8)

    /// The decimal bytes of an LSN; events of one transaction share them.
    private func headerBytes(_ lsn: LSN) -> [UInt8] {
        if lsn != self.lastHeaderLSN {
            self.lastHeaderLSN = lsn
            self.lastHeaderBytes = Array(String(lsn.rawValue).utf8)
        }
        return self.lastHeaderBytes
    }

    private func appendBatch(_ builder: RecordBatchBuilder, topic: String) throws(CDCError) {
        let partition = try self.partition(topic)
        do {
            _ = try partition.append(try builder.build())
        } catch {
            throw CDCError(.log, "cannot append to \(topic)", underlying: error)
        }
        self.bufferedEventCount -= builder.recordCount
        self.unsynced.insert(topic)
    }

    /// Appends everything buffered and syncs every topic written since the last flush.
    func flush() throws(CDCError) {
        let pending = self.builders
        self.builders.removeAll(keepingCapacity: true)
        for (topic, builder) in pending.sorted(by: { $0.key < $1.key }) { try self.appendBatch(builder, topic: topic) }
        for topic in self.unsynced.sorted() {
            do {
                try self.partitions[topic]!.flush()
            } catch {
                throw CDCError(.log, "cannot sync \(topic)", underlying: error)
            }
        }
        self.unsynced.removeAll(keepingCapacity: true)
    }

    /// Deletes a topic (a snapshot that restarts discards its partial output).
    func deleteTopic(_ topic: String) throws(CDCError) {
        self.builders[topic] = nil
        self.partitions[topic] = nil
        self.positions[topic] = nil
        self.unsynced.remove(topic)
        guard self.log.topicNames.contains(topic) else { return }
        do {
            try self.log.deleteTopic(topic)
        } catch {
            throw CDCError(.log, "cannot delete topic \(topic)", underlying: error)
        }
    }
}
