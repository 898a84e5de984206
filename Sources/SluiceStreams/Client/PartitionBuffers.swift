import SluiceCore

/// A producer's batches being filled, one per partition, found by slot: a partition's slot is looked
/// up once (by the sink that writes to it) and then every record goes to an array index, not through a
/// hash of the topic's name.
struct PartitionBuffers {
    private(set) var partitions: [TopicPartition] = []
    private var slots: [TopicPartition: Int] = [:]
    private var builders: [RecordBatchBuilder] = []
    /// Slots holding records, each once.
    private var pending: [Int] = []
    private var isPending: [Bool] = []
    private let template: RecordBatchBuilder

    /// Bytes of records after which a batch is handed to the log, commit or not: bounded memory.
    static let batchBytesMax = 512 * 1024

    init(template: RecordBatchBuilder) {
        self.template = template
    }

    mutating func slot(_ partition: TopicPartition) -> Int {
        if let slot = self.slots[partition] { return slot }
        let slot = self.partitions.count
        self.partitions.append(partition)
        self.slots[partition] = slot
        self.builders.append(self.template)
        self.isPending.append(false)
        return slot
    }

    /// Adds a record; true when the slot's batch is full and should be taken.
    @inline(__always)
    mutating func append(_ record: ProducerRecord, slot: Int) -> Bool {
        self.builders[slot].append(record)
        if !self.isPending[slot] {
            self.isPending[slot] = true
            self.pending.append(slot)
        }
        return self.builders[slot].encodedByteCount >= Self.batchBytesMax
    }

    /// The slot's batch (nil when empty), leaving the slot empty.
    mutating func take(_ slot: Int) -> RecordBatchBuilder? {
        guard self.builders[slot].recordCount > 0 else { return nil }
        let builder = self.builders[slot]
        self.builders[slot] = self.template
        return builder
    }

    /// Every non-empty batch with its partition, in partition order, leaving all slots empty.
    mutating func takeAll() -> [(TopicPartition, RecordBatchBuilder)] {
        var taken: [(TopicPartition, RecordBatchBuilder)] = []
        for slot in self.pending {
            self.isPending[slot] = false
            if let builder = self.take(slot) { taken.append((self.partitions[slot], builder)) }
        }
        self.pending.removeAll(keepingCapacity: true)
        return taken.sorted { $0.0 < $1.0 }
    }

    /// Drops every record not yet taken.
    mutating func discardAll() {
        for slot in self.pending {
            self.isPending[slot] = false
            self.builders[slot] = self.template
        }
        self.pending.removeAll(keepingCapacity: true)
    }
}
