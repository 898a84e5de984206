import SluiceCore
import SluiceLog

/// A stream thread's producer over the embedded log.
///
/// Exactly-once without a coordinator process: the commit record on the offsets topic is part of
/// each transaction and lists the transaction's partitions with their first offsets. The commit
/// marker on the offsets partition is the decision; it is written only after every partition of
/// the transaction is synced, and the markers elsewhere follow. A producer that starts after a
/// crash finds the partitions its id left open: those listed in its last committed record are
/// committed (the decision was taken), all others aborted.
final class EmbeddedProducer: LogProducer {
    let client: EmbeddedLogClient
    let id: String
    let isTransactional: Bool
    let producerId: Int64
    let epoch: Int16
    let offsetsPartition: Partition

    private var buffers: PartitionBuffers
    /// An empty batch with this producer's id, epoch and transactional flag.
    private let batchTemplate: RecordBatchBuilder
    private var sequences: [TopicPartition: Int32] = [:]
    /// Partitions written in the open transaction, with the first offset written in each.
    private var transaction: [TopicPartition: Int64] = [:]
    /// Partitions written since the last commit (at-least-once flushes them).
    private var written: Set<TopicPartition> = []

    /// Producer ids of the engine live above those the broker hands out (which count up from 0).
    static let producerIdBase: Int64 = 1 << 52

    init(client: EmbeddedLogClient, id: String, transactional: Bool, writes topics: [String], offsetsTopic: String) throws(StreamsError) {
        self.client = client
        self.id = id
        self.isTransactional = transactional
        let producerId = Self.producerId(for: id)
        self.producerId = producerId
        try client.ensureTopic(offsetsTopic, partitionCount: 1, compacted: true)
        let offsetsPartition = try client.partition(TopicPartition(offsetsTopic, 0))
        self.offsetsPartition = offsetsPartition

        // The epoch goes up by one per incarnation; what the previous one left open is settled first.
        var partitions: [Partition] = [offsetsPartition]
        for topic in Set(topics) where topic != offsetsTopic {
            guard try client.partitionCount(of: topic) != nil else { continue }
            do {
                partitions.append(contentsOf: try client.log.partitions(of: topic))
            } catch {
                throw StreamsError(.log, "cannot list partitions of \(topic): \(error)", underlying: error)
            }
        }
        var previousEpoch: Int16 = -1
        var open: [(Partition, Int64)] = []
        for partition in partitions {
            for producer in partition.activeProducers where producer.producerId == producerId {
                previousEpoch = max(previousEpoch, producer.epoch)
                if let first = producer.currentTransactionFirstOffset { open.append((partition, first)) }
            }
        }
        guard previousEpoch < Int16.max else {
            throw StreamsError(.fenced, "producer \(id) exhausted its epochs; give the application a new id")
        }
        self.epoch = previousEpoch + 1
        var template = RecordBatchBuilder()
        if transactional {
            template.isTransactional = true
            template.producerId = producerId
            template.producerEpoch = self.epoch
        }
        self.batchTemplate = template
        self.buffers = PartitionBuffers(template: template)
        if !open.isEmpty {
            let decided = try client.committedRecords(offsetsTopic: offsetsTopic).last { $0.producerId == id }?.transactionPartitions ?? []
            for (partition, first) in open {
                let tp = partition.topicPartition
                let commit = decided.contains { $0.topic == tp.topic && $0.partition == tp.partition && $0.firstOffset == first }
                try self.writeMarker(commit: commit, to: partition)
                try Self.sync(partition)
            }
        }
    }

    /// A stable id per producer name (FNV-1a), so that a restarted thread finds its predecessor's state.
    static func producerId(for id: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Self.producerIdBase | Int64(hash & ((1 << 44) - 1))
    }

    func slot(for partition: TopicPartition) -> Int {
        self.buffers.slot(partition)
    }

    func send(_ record: ProducerRecord, slot: Int) throws(StreamsError) {
        if self.buffers.append(record, slot: slot), let full = self.buffers.take(slot) {
            try self.append(full, to: self.buffers.partitions[slot])
        }
    }

    private func append(_ pending: RecordBatchBuilder, to topicPartition: TopicPartition) throws(StreamsError) {
        var builder = pending
        let partition = try self.client.partition(topicPartition)
        if self.isTransactional {
            let sequence = self.sequences[topicPartition] ?? 0
            builder.baseSequence = sequence
            self.sequences[topicPartition] = sequence &+ Int32(builder.recordCount)
        }
        do {
            let result: AppendResult
            do {
                result = try partition.append(try builder.build())
            } catch where error.code == .unknownProducerId && self.isTransactional {
                // The partition forgot this producer: everything it wrote there was deleted (a purged
                // repartition topic), between transactions. Its sequences start again at 0, as a Kafka
                // producer's do after UNKNOWN_PRODUCER_ID.
                builder.baseSequence = 0
                self.sequences[topicPartition] = Int32(builder.recordCount)
                result = try partition.append(try builder.build())
            }
            if self.isTransactional && self.transaction[topicPartition] == nil { self.transaction[topicPartition] = result.baseOffset }
            self.written.insert(topicPartition)
        } catch {
            throw StreamsError(.log, "cannot append to \(topicPartition): \(error)", underlying: error)
        }
    }

    func flushBuffered() throws(StreamsError) {
        try self.appendPending()
    }

    private func appendPending() throws(StreamsError) {
        for (partition, builder) in self.buffers.takeAll() { try self.append(builder, to: partition) }
    }

    func commit(_ commit: CommitRecord) throws(StreamsError) {
        try self.appendPending()
        var record = commit
        if self.isTransactional {
            record.transactionPartitions = self.transaction.sorted { $0.key < $1.key }.map { entry in
                TransactionPartition(topic: entry.key.topic, partition: entry.key.partition, firstOffset: entry.value)
            }
        }
        let touched = self.written
        for topicPartition in touched.sorted() { try Self.sync(try self.client.partition(topicPartition)) }
        // The commit record itself; in a transaction it is the last write before the decision.
        let offsetsTopicPartition = self.offsetsPartition.topicPartition
        try self.append(self.commitRecordBatch(record), to: offsetsTopicPartition)
        try Self.sync(self.offsetsPartition)
        if self.isTransactional {
            try self.writeMarker(commit: true, to: self.offsetsPartition)
            try Self.sync(self.offsetsPartition)
            for topicPartition in touched.sorted() where topicPartition != offsetsTopicPartition {
                try self.writeMarker(commit: true, to: try self.client.partition(topicPartition))
            }
        }
        self.transaction.removeAll(keepingCapacity: true)
        self.written.removeAll(keepingCapacity: true)
    }

    private func commitRecordBatch(_ commitRecord: CommitRecord) -> RecordBatchBuilder {
        var builder = self.batchTemplate
        builder.append(ProducerRecord(key: Array(self.id.utf8), value: commitRecord.encoded(), timestamp: currentTimeMillis()))
        return builder
    }

    func abort() throws(StreamsError) {
        self.buffers.discardAll()
        guard self.isTransactional else { return }
        for topicPartition in self.transaction.keys.sorted() {
            try self.writeMarker(commit: false, to: try self.client.partition(topicPartition))
        }
        self.transaction.removeAll(keepingCapacity: true)
        self.written.removeAll(keepingCapacity: true)
    }

    func close() {
        self.buffers.discardAll()
    }

    private func writeMarker(commit: Bool, to partition: Partition) throws(StreamsError) {
        let marker = RecordBatchBuilder.controlBatch(commit ? .commit : .abort, producerId: self.producerId,
                                                     producerEpoch: self.epoch, timestamp: currentTimeMillis())
        do {
            _ = try partition.append(marker)
        } catch {
            throw StreamsError(.log, "cannot write a transaction marker to \(partition.topicPartition): \(error)", underlying: error)
        }
    }

    static func sync(_ partition: Partition) throws(StreamsError) {
        do {
            try partition.flush()
        } catch {
            throw StreamsError(.log, "cannot sync \(partition.topicPartition): \(error)", underlying: error)
        }
    }
}
