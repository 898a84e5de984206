import SluiceCore

/// What the log remembers of an idempotent or transactional producer on one partition.
struct ProducerStateEntry: Sendable, Equatable {
    /// The metadata of one appended batch, kept to answer retried duplicates with their offsets.
    struct BatchMetadata: Sendable, Equatable {
        var firstSequence: Int32
        var lastSequence: Int32
        var firstOffset: Int64
        var lastOffset: Int64
        var timestamp: Int64
    }

    /// How many batches per producer are remembered (Kafka's max.in.flight for idempotence).
    static let rememberedBatchCountMax = 5

    var producerId: Int64
    var epoch: Int16
    var batches: [BatchMetadata] = []
    /// The first offset of the producer's ongoing transaction.
    var currentTransactionFirstOffset: Int64?
    var coordinatorEpoch: Int32 = -1
    var lastTimestamp: Int64 = -1

    var lastSequence: Int32? { self.batches.last?.lastSequence }
    var lastOffset: Int64? { self.batches.last?.lastOffset }

    mutating func remember(_ batch: BatchMetadata) {
        if self.batches.count == Self.rememberedBatchCountMax { self.batches.removeFirst() }
        self.batches.append(batch)
    }
}

/// The header fields of a batch that producer-state checks read.
struct ProducerBatchInfo: Sendable {
    var producerId: Int64
    var epoch: Int16
    var firstSequence: Int32
    var lastSequence: Int32
    var isTransactional: Bool
    var isControl: Bool
    var maxTimestamp: Int64
    var recordCount: Int32

    init(_ batch: RecordBatch) {
        self.producerId = batch.producerId
        self.epoch = batch.producerEpoch
        self.firstSequence = batch.baseSequence
        self.lastSequence = batch.lastSequence
        self.isTransactional = batch.isTransactional
        self.isControl = batch.isControl
        self.maxTimestamp = batch.maxTimestamp
        self.recordCount = batch.recordCount
    }
}

/// A transaction that ended with an append of a control batch.
struct CompletedTransaction: Sendable, Equatable {
    var producerId: Int64
    var firstOffset: Int64
    var markerOffset: Int64
    var isAborted: Bool
}

/// The pure state machine behind idempotence and transactions on one partition: checks each batch
/// before it is appended and records it afterwards. No I/O; the partition persists snapshots.
struct ProducerStateManager: Sendable, Equatable {
    enum AppendDecision: Equatable {
        /// Append the batch.
        case append
        /// The batch was appended before: answer with these offsets, append nothing.
        case duplicate(firstOffset: Int64, lastOffset: Int64)
    }

    private(set) var producers: [Int64: ProducerStateEntry] = [:]
    /// The log offset up to which this state has seen batches (exclusive).
    var lastMappedOffset: Int64 = 0

    init() {}

    init(producers: [Int64: ProducerStateEntry], lastMappedOffset: Int64) {
        self.producers = producers
        self.lastMappedOffset = lastMappedOffset
    }

    /// The first offset of the oldest ongoing transaction: the last stable offset's bound.
    var firstUnstableOffset: Int64? {
        self.producers.values.compactMap(\.currentTransactionFirstOffset).min()
    }

    /// Validates a batch from a producer (`producerId >= 0`) before it is appended.
    func check(_ batch: ProducerBatchInfo) throws(SluiceError) -> AppendDecision {
        guard batch.producerId >= 0 else {
            if batch.isTransactional {
                throw SluiceError(.invalidRequest, "transactional batch without a producer id")
            }
            return .append
        }
        guard let entry = self.producers[batch.producerId] else {
            if batch.isControl { return .append }
            if batch.firstSequence != 0 && batch.firstSequence != -1 {
                throw SluiceError(.unknownProducerId, "producer \(batch.producerId) has no state on this partition and sent sequence \(batch.firstSequence), not 0")
            }
            return .append
        }
        if batch.epoch < entry.epoch {
            throw SluiceError(.producerFenced, "producer \(batch.producerId) epoch \(batch.epoch) is older than the current epoch \(entry.epoch)")
        }
        if batch.isControl { return .append }
        // Batches without sequences (a coordinator's transactional offset commits) skip the checks.
        if batch.firstSequence < 0 { return .append }
        if batch.epoch > entry.epoch {
            if batch.firstSequence != 0 {
                throw SluiceError(.outOfOrderSequence, "producer \(batch.producerId) began epoch \(batch.epoch) with sequence \(batch.firstSequence), not 0")
            }
            return .append
        }
        if let duplicate = entry.batches.first(where: { $0.firstSequence == batch.firstSequence && $0.lastSequence == batch.lastSequence }) {
            return .duplicate(firstOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset)
        }
        guard let last = entry.lastSequence else {
            // State kept only for the transaction marker or epoch: a sequence must start at 0.
            if batch.firstSequence != 0 {
                throw SluiceError(.outOfOrderSequence, "producer \(batch.producerId) sent sequence \(batch.firstSequence), expected 0")
            }
            return .append
        }
        let expected = last == Int32.max ? 0 : last + 1
        guard batch.firstSequence == expected else {
            throw SluiceError(.outOfOrderSequence, "producer \(batch.producerId) sent sequence \(batch.firstSequence), expected \(expected)")
        }
        if batch.isTransactional == false, entry.currentTransactionFirstOffset != nil {
            throw SluiceError(.invalidTransactionState, "producer \(batch.producerId) sent a non-transactional batch inside a transaction")
        }
        return .append
    }

    /// Records a batch appended at `firstOffset...lastOffset`. Returns the transaction a control
    /// batch ended, if any.
    @discardableResult
    mutating func update(
        _ batch: ProducerBatchInfo,
        firstOffset: Int64,
        lastOffset: Int64,
        control: (type: ControlRecordType, coordinatorEpoch: Int32)? = nil
    ) -> CompletedTransaction? {
        self.lastMappedOffset = max(self.lastMappedOffset, lastOffset + 1)
        guard batch.producerId >= 0 else { return nil }
        var entry = self.producers[batch.producerId] ?? ProducerStateEntry(producerId: batch.producerId, epoch: batch.epoch)
        if batch.epoch > entry.epoch {
            // A new epoch starts a new sequence space, whether a batch or a marker brought it.
            entry.epoch = batch.epoch
            entry.batches.removeAll()
        }
        entry.lastTimestamp = batch.maxTimestamp
        var completed: CompletedTransaction?
        if batch.isControl {
            if let control {
                entry.coordinatorEpoch = control.coordinatorEpoch
                if let first = entry.currentTransactionFirstOffset {
                    completed = CompletedTransaction(producerId: batch.producerId, firstOffset: first, markerOffset: firstOffset, isAborted: control.type == .abort)
                }
            }
            entry.currentTransactionFirstOffset = nil
        } else {
            if batch.firstSequence >= 0 {
                entry.remember(.init(firstSequence: batch.firstSequence, lastSequence: batch.lastSequence, firstOffset: firstOffset, lastOffset: lastOffset, timestamp: batch.maxTimestamp))
            }
            if batch.isTransactional && entry.currentTransactionFirstOffset == nil {
                entry.currentTransactionFirstOffset = firstOffset
            }
        }
        self.producers[batch.producerId] = entry
        return completed
    }

    /// Forgets producers whose every batch lies below the log start offset and who have no open
    /// transaction: retention deleted what they wrote.
    mutating func removeProducers(before logStartOffset: Int64) {
        self.producers = self.producers.filter { _, entry in
            entry.currentTransactionFirstOffset != nil || (entry.lastOffset ?? Int64.max) >= logStartOffset
        }
    }

    /// Drops everything; used before rebuilding from the log.
    mutating func reset(to offset: Int64) {
        self.producers = [:]
        self.lastMappedOffset = offset
    }

    /// The entry for a producer, for inspection (`log dump`) and tests.
    func entry(for producerId: Int64) -> ProducerStateEntry? { self.producers[producerId] }
}
