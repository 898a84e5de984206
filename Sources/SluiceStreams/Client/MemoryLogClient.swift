import NIOCore
import SluiceCore
import SluiceLog
import Synchronization

/// A `LogClient` over topics held in memory: record batches appended to arrays, read back without
/// copies. For bounded runs over data that fits in memory (benchmarks, `sluice nexmark` over a file,
/// tests): nothing is durable, so it offers at-least-once only; a transactional producer is refused.
public final class MemoryLogClient: LogClient, @unchecked Sendable {
    final class MemoryPartition {
        /// Batches in offset order, each with its base offset already set.
        var batches: [RecordBatch] = []
        var baseOffsets: [Int64] = []
        var endOffset: Int64 = 0
        /// Records below this were deleted.
        var startOffset: Int64 = 0
    }

    private let lock = Mutex<[String: [MemoryPartition]]>([:])
    /// Batches smaller than this are copied together into one fetch; larger ones are served alone.
    static let gatherBatchBytesMax = 64 * 1024

    public init() {}

    public func partitionCount(of topic: String) throws(StreamsError) -> Int32? {
        self.lock.withLock { $0[topic].map { Int32($0.count) } }
    }

    public func ensureTopic(_ topic: String, partitionCount: Int32, compacted: Bool) throws(StreamsError) {
        try self.lock.withLock { (topics) throws(StreamsError) in
            if let existing = topics[topic] {
                guard existing.count == partitionCount else {
                    throw StreamsError(.invalidTopology, "topic \(topic) has \(existing.count) partitions where \(partitionCount) are needed")
                }
                return
            }
            topics[topic] = (0..<partitionCount).map { _ in MemoryPartition() }
        }
    }

    private func partition(_ topicPartition: TopicPartition) throws(StreamsError) -> MemoryPartition {
        guard let partitions = self.lock.withLock({ $0[topicPartition.topic] }), topicPartition.partition >= 0,
              Int(topicPartition.partition) < partitions.count else {
            throw StreamsError(.log, "no partition \(topicPartition)")
        }
        return partitions[Int(topicPartition.partition)]
    }

    /// Appends a batch (its base offset is assigned here); returns the base offset.
    @discardableResult
    public func append(_ batch: RecordBatch, to topicPartition: TopicPartition) throws(StreamsError) -> Int64 {
        let partition = try self.partition(topicPartition)
        return self.lock.withLock { _ in
            var stored = batch
            let base = partition.endOffset
            stored.setBaseOffset(base)
            partition.batches.append(stored)
            partition.baseOffsets.append(base)
            partition.endOffset = base + Int64(batch.lastOffsetDelta) + 1
            return base
        }
    }

    public func fetch(_ topicPartition: TopicPartition, from offset: Int64, maxBytes: Int, isolation: IsolationLevel) throws(StreamsError) -> FetchResult {
        let partition = try self.partition(topicPartition)
        return self.lock.withLock { _ in
            let end = partition.endOffset
            var result = FetchResult(records: ByteBuffer(), highWatermark: end, lastStableOffset: end, logStartOffset: partition.startOffset,
                                     abortedTransactions: [])
            guard offset < end, !partition.batches.isEmpty else { return result }
            // The last batch whose base offset is at or below `offset`.
            var low = 0
            var high = partition.baseOffsets.count
            while low < high {
                let middle = (low + high) / 2
                if partition.baseOffsets[middle] <= offset { low = middle + 1 } else { high = middle }
            }
            var index = max(0, low - 1)
            let first = partition.batches[index].buffer
            index += 1
            // A large batch goes alone, without a copy; small ones are gathered up to `maxBytes`.
            guard index < partition.batches.count, first.readableBytes < Self.gatherBatchBytesMax,
                  first.readableBytes + partition.batches[index].byteCount <= maxBytes else {
                result.records = first
                return result
            }
            var records = ByteBufferAllocator().buffer(capacity: maxBytes)
            var buffer = first
            records.writeBuffer(&buffer)
            while index < partition.batches.count && records.readableBytes + partition.batches[index].byteCount <= maxBytes {
                var next = partition.batches[index].buffer
                records.writeBuffer(&next)
                index += 1
            }
            result.records = records
            return result
        }
    }

    public func offsets(of topicPartition: TopicPartition) throws(StreamsError) -> PartitionOffsets {
        let partition = try self.partition(topicPartition)
        let (start, end) = self.lock.withLock { _ in (partition.startOffset, partition.endOffset) }
        return PartitionOffsets(start: start, highWatermark: end, lastStable: end)
    }

    public func deleteRecords(_ topicPartition: TopicPartition, before offset: Int64) throws(StreamsError) {
        let partition = try self.partition(topicPartition)
        self.lock.withLock { _ in
            // Whole batches below `offset` go; their memory with them.
            var dropped = 0
            while dropped < partition.batches.count && partition.batches[dropped].nextOffset <= offset { dropped += 1 }
            guard dropped > 0 else { return }
            partition.batches.removeFirst(dropped)
            partition.baseOffsets.removeFirst(dropped)
            partition.startOffset = partition.baseOffsets.first ?? partition.endOffset
        }
    }

    public func waitForData(_ positions: [TopicPartition: Int64], isolation: IsolationLevel, timeoutNanoseconds: Int64) {
        let deadline = monotonicNanoseconds() + timeoutNanoseconds
        while monotonicNanoseconds() < deadline {
            for (topicPartition, offset) in positions {
                if let offsets = try? self.offsets(of: topicPartition), offsets.highWatermark > offset { return }
            }
            sleepNanoseconds(EmbeddedLogClient.idlePollNanoseconds)
        }
    }

    public func makeProducer(id: String, transactional: Bool, writes topics: [String], offsetsTopic: String) throws(StreamsError) -> any LogProducer {
        guard !transactional else {
            throw StreamsError(.invalidConfiguration, "the in-memory log offers at-least-once only: nothing in it survives the process")
        }
        try self.ensureTopic(offsetsTopic, partitionCount: 1, compacted: true)
        return MemoryProducer(client: self, offsetsTopic: offsetsTopic, id: id)
    }

    /// Nothing outlives a process here: nothing to settle.
    public func settleProducer(id: String, writes topics: [String], offsetsTopic: String) throws(StreamsError) {}

    public func committedRecords(offsetsTopic: String) throws(StreamsError) -> [CommitRecord] {
        try CommitRecord.latestPerProducer(self.records(of: offsetsTopic).first ?? [])
    }

    /// Every record of a topic, partition by partition.
    public func records(of topic: String) throws(StreamsError) -> [[Record]] {
        guard let count = try self.partitionCount(of: topic) else { return [] }
        var result: [[Record]] = []
        for index in 0..<count {
            let partition = try self.partition(TopicPartition(topic, index))
            let batches = self.lock.withLock { _ in partition.batches }
            var records: [Record] = []
            do {
                for batch in batches {
                    var reader = try batch.recordReader()
                    while let record = try reader.next() { records.append(record) }
                }
            } catch {
                throw StreamsError(.log, "unreadable batch in \(topic): \(error)")
            }
            result.append(records)
        }
        return result
    }
}

/// The in-memory log's producer: batches per partition, appended when large or at commit.
final class MemoryProducer: LogProducer {
    let client: MemoryLogClient
    let offsetsTopic: String
    let id: String
    private var buffers = PartitionBuffers(template: RecordBatchBuilder())

    init(client: MemoryLogClient, offsetsTopic: String, id: String) {
        self.client = client
        self.offsetsTopic = offsetsTopic
        self.id = id
    }

    func slot(for partition: TopicPartition) -> Int {
        self.buffers.slot(partition)
    }

    func send(_ record: ProducerRecord, slot: Int) throws(StreamsError) {
        if self.buffers.append(record, slot: slot), let full = self.buffers.take(slot) {
            try self.append(full, to: self.buffers.partitions[slot])
        }
    }

    private func append(_ builder: RecordBatchBuilder, to partition: TopicPartition) throws(StreamsError) {
        do {
            try self.client.append(try builder.build(), to: partition)
        } catch let error as StreamsError {
            throw error
        } catch {
            throw StreamsError(.log, "cannot build a batch for \(partition): \(error)", underlying: error)
        }
    }

    func flushBuffered() throws(StreamsError) {
        for (partition, builder) in self.buffers.takeAll() { try self.append(builder, to: partition) }
    }

    func commit(_ commit: CommitRecord) throws(StreamsError) {
        try self.flushBuffered()
        var builder = RecordBatchBuilder()
        builder.append(ProducerRecord(key: Array(self.id.utf8), value: commit.encoded(), timestamp: currentTimeMillis()))
        try self.append(builder, to: TopicPartition(self.offsetsTopic, 0))
    }

    func abort() throws(StreamsError) {
        self.buffers.discardAll()
    }

    func close() {
        self.buffers.discardAll()
    }
}
