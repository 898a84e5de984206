import NIOCore
import SluiceCore
import SluiceLog

/// Writes records to a topic: an output topic, or a repartition topic that another sub-topology reads.
///
/// A repartition sink also carries event time across: when the task's watermark moves it writes a
/// watermark record (header `sluice.watermark`, the upstream task in the key) to every partition,
/// and the reading task takes the minimum over its upstream tasks (DESIGN.md).
@usableFromInline
final class SinkOperator<Key, Value>: Operator<Key, Value> {
    @usableFromInline let topic: String
    @usableFromInline let keySerde: Serde<Key>
    @usableFromInline let valueSerde: Serde<Value>
    @usableFromInline let partitioner: ((Key, Value, Int32) -> Int32)?
    let carriesWatermarks: Bool
    /// The record loop specialised in the pipeline's module, when the DSL made one.
    @usableFromInline let processBatch: ((SinkOperator, [StreamRecord<Key, Value>]) -> Void)?
    @usableFromInline var context: TaskContext!
    @usableFromInline var slots: [Int] = []
    private var watermarkSent = Watermark.unknown
    private var watermarkSentAtMs: Int64 = 0

    init(topic: String, keySerde: Serde<Key>, valueSerde: Serde<Value>, partitioner: ((Key, Value, Int32) -> Int32)?, carriesWatermarks: Bool,
         processBatch: ((SinkOperator, [StreamRecord<Key, Value>]) -> Void)? = nil) {
        self.processBatch = processBatch
        self.topic = topic
        self.keySerde = keySerde
        self.valueSerde = valueSerde
        self.partitioner = partitioner
        self.carriesWatermarks = carriesWatermarks
    }

    override func open(_ context: TaskContext) throws {
        self.context = context
        self.slots = try context.slots(for: self.topic)
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        if let processBatch = self.processBatch {
            processBatch(self, records)
        } else {
            self.processRecords(records)
        }
    }

    @inlinable
    final func processRecords(_ records: [StreamRecord<Key, Value>]) {
        let partitionCount = Int32(self.slots.count)
        for record in records {
            let key = self.keySerde.serialize(record.key)
            let partition = self.partitioner.map { $0(record.key, record.value, partitionCount) }
                ?? self.context.partition(forKey: key, partitionCount: partitionCount)
            guard partition >= 0 && partition < partitionCount else {
                self.context.failure = self.context.failure
                    ?? StreamsError(.invalidTopology, "the partitioner of \(self.topic) chose partition \(partition) of \(partitionCount)")
                return
            }
            self.context.send(slot: self.slots[Int(partition)], key: key, value: self.valueSerde.serialize(record.value), timestamp: record.timestamp)
        }
        self.context.metrics.recordsOut.increment(by: records.count)
    }

    override func advanceWatermark(to watermark: Int64) {
        guard self.carriesWatermarks, watermark > self.watermarkSent else { return }
        let now = self.context.processingTimeMs
        guard watermark == Watermark.end || now - self.watermarkSentAtMs >= WatermarkRecord.intervalMs else { return }
        self.watermarkSent = watermark
        self.watermarkSentAtMs = now
        let partitionCount = (try? self.context.partitionCount(of: self.topic)) ?? 1
        let header = WatermarkRecord.header(watermark)
        let key = WatermarkRecord.key(upstreamTask: self.context.taskId.partition)
        for partition in 0..<partitionCount {
            self.context.send(topic: self.topic, partition: partition, key: key, value: nil, timestamp: max(0, min(watermark, currentTimeMillis())),
                              headers: [header])
        }
    }
}

/// The records that carry watermarks through repartition topics.
@usableFromInline
enum WatermarkRecord {
    static let headerKey = "sluice.watermark"
    /// Least milliseconds of processing time between two watermark records of one writer (the end
    /// of input is sent at once).
    static let intervalMs: Int64 = 20

    static func header(_ watermark: Int64) -> (key: String, value: [UInt8]?) {
        (Self.headerKey, withUnsafeBytes(of: watermark.bigEndian) { Array($0) })
    }

    static func key(upstreamTask: Int32) -> [UInt8] {
        withUnsafeBytes(of: upstreamTask.bigEndian) { Array($0) }
    }

    /// The upstream task and watermark of a watermark record, or nil for a data record.
    @usableFromInline
    static func decode(_ record: RecordView) -> (upstreamTask: Int32, watermark: Int64)? {
        guard record.headerCount > 0, let value = record.headerValue(Self.headerKey), value.count == 8,
              let key = record.key, key.count == 4 else {
            return nil
        }
        return (Int32(bigEndian: key.loadUnaligned(as: Int32.self)), Int64(bigEndian: value.loadUnaligned(as: Int64.self)))
    }
}
