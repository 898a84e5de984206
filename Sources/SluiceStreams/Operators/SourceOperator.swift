import NIOCore
import SluiceCore

/// The entry of records read from a topic: what a task hands raw records to.
@usableFromInline
class RecordSource: OperatorNode {
    /// Decodes and processes the records of `batch` in `offsets`, read from `partition`. `observe`
    /// takes each record's event time and returns the task's watermark before that record; for
    /// repartition topics `watermarkRecord` takes the watermark records (after the records before them
    /// were processed).
    func process(batch: RecordBatch, offsets: Range<Int64>, from partition: TopicPartition, observe: (Int64) -> Int64,
                 watermarkRecord: ((Int32, Int64) -> Void)?) throws -> Int { 0 }
}

/// Decodes records with the source's serdes and timestamp extractor; a record that fails to decode
/// goes to the dead-letter topic with the reason.
///
/// The record loop is `@inlinable`; `StreamsBuilder.stream` hands the operator a closure made in the
/// pipeline's module (`processBatch`), where it is specialised for the key and value types.
@usableFromInline
final class SourceOperator<Key, Value>: RecordSource {
    @usableFromInline typealias BatchProcessor = (SourceOperator, RecordBatch, Range<Int64>, TopicPartition, (Int64) -> Int64,
                                                  ((Int32, Int64) -> Void)?) throws -> Int
    let keySerde: Serde<Key>
    let valueSerde: Serde<Value>
    @usableFromInline let deserializeKey: (UnsafeRawBufferPointer?) throws -> Key
    @usableFromInline let deserializeValue: (UnsafeRawBufferPointer?) throws -> Value
    /// The value serde's deserializer that may keep slices of the batch's payload, when it has one.
    @usableFromInline let deserializePayloadValue: Serde<Value>.PayloadDeserializer?
    @usableFromInline let timestamp: ((Key, Value, Int64) -> Int64)?
    @usableFromInline let next: Operator<Key, Value>
    @usableFromInline let processBatch: BatchProcessor?
    @usableFromInline var context: TaskContext!
    @usableFromInline var batch: [StreamRecord<Key, Value>] = []

    init(keySerde: Serde<Key>, valueSerde: Serde<Value>, timestamp: ((Key, Value, Int64) -> Int64)?, next: Operator<Key, Value>,
         processBatch: BatchProcessor? = nil) {
        self.keySerde = keySerde
        self.valueSerde = valueSerde
        self.deserializeKey = keySerde.makeViewDeserializer()
        self.deserializeValue = valueSerde.makeViewDeserializer()
        self.deserializePayloadValue = valueSerde.makePayloadDeserializer?()
        self.timestamp = timestamp
        self.next = next
        self.processBatch = processBatch
    }

    override func open(_ context: TaskContext) throws {
        self.context = context
    }

    override var downstream: [OperatorNode] { [self.next] }

    override func advanceWatermark(to watermark: Int64) {
        self.next.advanceWatermark(to: watermark)
    }

    override func process(batch: RecordBatch, offsets: Range<Int64>, from partition: TopicPartition, observe: (Int64) -> Int64,
                          watermarkRecord: ((Int32, Int64) -> Void)?) throws -> Int {
        if let processBatch = self.processBatch {
            return try withoutActuallyEscaping(observe) { observe in
                try processBatch(self, batch, offsets, partition, observe, watermarkRecord)
            }
        }
        return try self.processRecords(batch: batch, offsets: offsets, from: partition, observe: observe, watermarkRecord: watermarkRecord)
    }

    @inlinable
    final func processRecords(batch: RecordBatch, offsets: Range<Int64>, from partition: TopicPartition, observe: (Int64) -> Int64,
                              watermarkRecord: ((Int32, Int64) -> Void)?) throws -> Int {
        self.batch.removeAll(keepingCapacity: true)
        var read = 0
        let deserializePayloadValue = self.deserializePayloadValue
        try batch.forEachRecordView(inPayload: { record, payload in
            guard offsets.contains(record.offset) else { return }
            read += 1
            if let watermarkRecord, let mark = WatermarkRecord.decode(record) {
                self.deliver()
                watermarkRecord(mark.upstreamTask, mark.watermark)
                return
            }
            let key: Key
            let value: Value
            do {
                key = try self.deserializeKey(record.key)
                if let deserializePayloadValue {
                    value = try deserializePayloadValue(record.value, payload, record.valueByteOffset)
                } else {
                    value = try self.deserializeValue(record.value)
                }
            } catch {
                self.context.deadLetter(key: record.key.map { Array($0) }, value: record.value.map { Array($0) }, timestamp: record.timestamp,
                                        reason: "cannot deserialize: \(error)", source: partition, offset: record.offset)
                return
            }
            let eventTime = self.timestamp?(key, value, record.timestamp) ?? record.timestamp
            let watermark = observe(eventTime)
            self.batch.append(StreamRecord(key: consume key, value: consume value, timestamp: eventTime, watermark: watermark))
        })
        self.deliver()
        return read
    }

    @inlinable
    final func deliver() {
        guard !self.batch.isEmpty else { return }
        self.context.metrics.recordsIn.increment(by: self.batch.count)
        // The batch goes downstream with its ownership (see `Array.consumeEach`); the next one starts anew.
        var batch: [StreamRecord<Key, Value>] = []
        batch.reserveCapacity(self.batch.count)
        swap(&batch, &self.batch)
        self.next.process(consume batch)
    }
}
