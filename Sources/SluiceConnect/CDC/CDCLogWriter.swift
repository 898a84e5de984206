import Foundation
import NIOCore
import SluiceCore
import SluiceLog

extension RecordBatchBuilder {
    mutating func appendReturningByteCount(_ record: ProducerRecord) -> Int {
        self.append(record)
        return self.encodedByteCount
    }
}

/// Writes change events to the log, one single-partition topic per table, in log transactions, and
/// drops what the log already holds.
///
/// Each `flush()` is one log transaction over every topic it wrote (often several PostgreSQL
/// transactions that arrived together): the batches are appended, a decision record naming the
/// transaction's partitions with their first and last offsets is appended to
/// `__sluice_cdc_commits.<name>`, all of them are synced at once (one round of concurrent fsyncs),
/// then commit markers go to each partition. After a crash, `prepare(topics:)` commits an open
/// transaction that the last decision names and whose records all survived recovery, and aborts any
/// other; nothing was confirmed to PostgreSQL for an aborted one, so it comes again. read_committed
/// readers therefore see PostgreSQL transactions whole.
///
/// Deduplication: each topic's last committed position (`pg.lsn`, `pg.seq` headers) is read when the
/// topic is first used, and an event at or before it is skipped.
final class CDCLogWriter {
    let log: Log
    let name: String
    let producerId: Int64
    private(set) var epoch: Int16 = 0
    private var isPrepared = false
    private var partitions: [String: Partition] = [:]
    /// The position of the last event appended or buffered per topic.
    private var positions: [String: EventPosition?] = [:]
    private var builders: [String: RecordBatchBuilder] = [:]
    private var sequences: [String: Int32] = [:]
    /// Topics written in the open log transaction, with the first and last offsets written in each.
    private var transaction: [String: (first: Int64, last: Int64)] = [:]
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
    /// Producer ids of connectors live above those of stream threads (1 << 52) and the broker's.
    static let producerIdBase: Int64 = 1 << 53

    /// The decision record of a log transaction.
    struct Decision: Codable, Equatable {
        struct Entry: Codable, Equatable {
            var topic: String
            var firstOffset: Int64
            var lastOffset: Int64
        }

        var epoch: Int16
        var partitions: [Entry]
    }

    init(log: Log, name: String) {
        self.log = log
        self.name = name
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "cdc:\(name)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        self.producerId = Self.producerIdBase | Int64(hash & ((1 << 44) - 1))
    }

    /// The last flush's decision entries: its commit markers are written but not synced yet.
    private var entriesWithUnsyncedMarkers: [Decision.Entry] = []

    var decisionTopic: String { "__sluice_cdc_commits.\(self.name)" }

    var hasUnsyncedData: Bool { self.bufferedEventCount > 0 || !self.transaction.isEmpty }

    /// Takes a new producer epoch and settles what a previous process left open in `topics`:
    /// transactions the last decision names are committed, others aborted. Once per process.
    func prepare(topics: [String]) throws(CDCError) {
        guard !self.isPrepared else { return }
        var previousEpoch: Int16 = -1
        var open: [(String, Partition, Int64)] = []
        for topic in topics where self.log.topicNames.contains(topic) {
            let partition = try self.partition(topic)
            for producer in partition.activeProducers where producer.producerId == self.producerId {
                previousEpoch = max(previousEpoch, producer.epoch)
                if let first = producer.currentTransactionFirstOffset { open.append((topic, partition, first)) }
            }
        }
        guard previousEpoch < Int16.max else {
            throw CDCError(.log, "producer of connector \(self.name) exhausted its epochs; delete \(self.decisionTopic) and the table topics")
        }
        self.epoch = previousEpoch + 1
        if !open.isEmpty {
            let decided = try self.lastDecision()?.partitions ?? []
            // The decision holds only if every record it names survived recovery (which truncates at
            // the first bad batch) in every partition: otherwise the whole transaction is aborted.
            var intact = true
            for entry in decided {
                guard self.log.topicNames.contains(entry.topic), try self.partition(entry.topic).logEndOffset > entry.lastOffset else {
                    intact = false
                    break
                }
            }
            for (topic, partition, first) in open {
                let commit = intact && decided.contains { $0.topic == topic && $0.firstOffset == first }
                try self.writeMarker(commit: commit, to: partition, topic: topic)
                do { try partition.flush() } catch { throw CDCError(.log, "cannot sync \(topic)", underlying: error) }
            }
        }
        self.isPrepared = true
    }

    /// The partition of `topic`, created with one partition when absent.
    func partition(_ topic: String) throws(CDCError) -> Partition {
        if let partition = self.partitions[topic] { return partition }
        do {
            if !self.log.topicNames.contains(topic) {
                var config = TopicConfig(partitionCount: 1)
                config.maxMessageBytes = Int32(Self.eventBytesMax)
                if topic == self.decisionTopic { config.cleanupPolicy = .compact }
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

    /// The last committed record of `partition` satisfying `accept`, searching back from the end.
    private func lastCommitted<T>(_ partition: Partition, _ accept: (Record) -> T?) throws(SluiceError) -> T? {
        let end = partition.logEndOffset
        let start = partition.startOffset
        var from = end - 1
        var step: Int64 = 1
        while from >= start {
            var found: T?
            var offset = from
            while offset < end {
                let (records, next) = try partition.readRecords(from: offset, maxBytes: 16 * 1024 * 1024, isolation: .readCommitted)
                for record in records { if let value = accept(record) { found = value } }
                guard next > offset else { break }
                offset = next
            }
            if let found { return found }
            if from == start { break }
            step *= 2
            from = max(start, from - step)
        }
        return nil
    }

    func lastDecision() throws(CDCError) -> Decision? {
        guard self.log.topicNames.contains(self.decisionTopic) else { return nil }
        do {
            return try self.lastCommitted(try self.partition(self.decisionTopic)) { record in
                record.value.flatMap { try? JSONDecoder().decode(Decision.self, from: Data($0.readableBytesView)) }
            }
        } catch {
            throw CDCError(.log, "cannot read \(self.decisionTopic)", underlying: error)
        }
    }

    /// The position of the last committed record of `topic` in the log (nil: empty or absent).
    func lastPosition(_ topic: String) throws(CDCError) -> EventPosition? {
        if let known = self.positions[topic] { return known }
        let partition = try self.partition(topic)
        let position: EventPosition?
        do {
            position = try self.lastCommitted(partition, Self.position(of:))
        } catch {
            throw CDCError(.log, "cannot read the tail of \(topic)", underlying: error)
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

    private var batchTemplate: RecordBatchBuilder {
        var builder = RecordBatchBuilder()
        builder.isTransactional = true
        builder.producerId = self.producerId
        builder.producerEpoch = self.epoch
        return builder
    }

    /// Buffers `event` unless the topic already holds its position (or a later one).
    /// Returns whether the event was taken.
    @discardableResult
    func append(_ event: ChangeEvent, deduplicate: Bool = true) throws(CDCError) -> Bool {
        precondition(self.isPrepared, "prepare(topics:) comes before the first append")
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
        let byteCount = self.builders[event.topic, default: self.batchTemplate].appendReturningByteCount(ProducerRecord(
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

    private func appendBatch(_ pending: RecordBatchBuilder, topic: String) throws(CDCError) {
        var builder = pending
        let partition = try self.partition(topic)
        let sequence = self.sequences[topic] ?? 0
        builder.baseSequence = sequence
        do {
            let result = try partition.append(try builder.build())
            self.transaction[topic] = (self.transaction[topic]?.first ?? result.baseOffset, result.lastOffset)
        } catch {
            throw CDCError(.log, "cannot append to \(topic)", underlying: error)
        }
        // Sequences wrap to 0 after Int32.max, as Kafka's do.
        self.sequences[topic] = Int32((Int64(sequence) + Int64(builder.recordCount)) % (Int64(Int32.max) + 1))
        self.bufferedEventCount -= builder.recordCount
    }

    /// Commits everything buffered as one log transaction: appended, synced, decided, marked.
    func flush() throws(CDCError) {
        let pending = self.builders
        self.builders.removeAll(keepingCapacity: true)
        for (topic, builder) in pending.sorted(by: { $0.key < $1.key }) { try self.appendBatch(builder, topic: topic) }
        guard !self.transaction.isEmpty else { return }
        let topics = self.transaction.keys.sorted()
        // The decision goes with the data: both are synced before anything is confirmed, and a
        // decision whose records did not all survive a crash is not followed.
        let entries = topics.map { topic in
            Decision.Entry(topic: topic, firstOffset: self.transaction[topic]!.first, lastOffset: self.transaction[topic]!.last)
        }
        // The previous flush's markers were written after its sync, and those of topics this flush
        // does not touch are not synced by it: its entries for them stay in this decision, so that a
        // crash that loses such a marker still commits what the slot was already told is durable.
        let carried = self.entriesWithUnsyncedMarkers.filter { self.transaction[$0.topic] == nil }
        let decision = Decision(epoch: self.epoch, partitions: entries + carried)
        let decisions = try self.partition(self.decisionTopic)
        do {
            var builder = RecordBatchBuilder()
            builder.append(ProducerRecord(key: Array("decision".utf8), value: Array(try JSONEncoder().encode(decision)), timestamp: currentTimeMillis()))
            _ = try decisions.append(try builder.build())
        } catch {
            throw CDCError(.log, "cannot write the decision record to \(self.decisionTopic)", underlying: error)
        }
        try Self.syncConcurrently((topics + carried.map(\.topic)).map { ($0, self.partitions[$0]!) } + [(self.decisionTopic, decisions)])
        for topic in topics { try self.writeMarker(commit: true, to: self.partitions[topic]!, topic: topic) }
        self.entriesWithUnsyncedMarkers = entries
        self.transaction.removeAll(keepingCapacity: true)
    }

    /// Syncs partitions in parallel: one fsync's latency for all of them.
    static func syncConcurrently(_ partitions: [(String, Partition)]) throws(CDCError) {
        final class FirstFailure: @unchecked Sendable {
            let lock = NSLock()
            var error: CDCError?
        }
        let failure = FirstFailure()
        DispatchQueue.concurrentPerform(iterations: partitions.count) { index in
            do {
                try partitions[index].1.flush()
            } catch {
                failure.lock.withLock { failure.error = failure.error ?? CDCError(.log, "cannot sync \(partitions[index].0)", underlying: error) }
            }
        }
        if let error = failure.error { throw error }
    }

    private func writeMarker(commit: Bool, to partition: Partition, topic: String) throws(CDCError) {
        let marker = RecordBatchBuilder.controlBatch(commit ? .commit : .abort, producerId: self.producerId, producerEpoch: self.epoch,
                                                     timestamp: currentTimeMillis())
        do {
            _ = try partition.append(marker)
        } catch {
            throw CDCError(.log, "cannot write a transaction marker to \(topic)", underlying: error)
        }
    }

    /// Deletes a topic (a snapshot that restarts discards its partial output).
    func deleteTopic(_ topic: String) throws(CDCError) {
        self.builders[topic] = nil
        self.partitions[topic] = nil
        self.positions[topic] = nil
        self.sequences[topic] = nil
        self.transaction[topic] = nil
        guard self.log.topicNames.contains(topic) else { return }
        do {
            try self.log.deleteTopic(topic)
        } catch {
            throw CDCError(.log, "cannot delete topic \(topic)", underlying: error)
        }
    }
}
