import NIOCore
import SluiceCore

/// The entry of records read from a topic: what a task hands raw records to.
class RecordSource: OperatorNode {
    /// Decodes and processes records read from `partition`. `observe` takes each record's event time
    /// and returns the task's watermark before that record.
    func process(raw records: [Record], from partition: TopicPartition, observe: (Int64) -> Int64) {}
}

/// Decodes records with the source's serdes and timestamp extractor; a record that fails to decode
/// goes to the dead-letter topic with the reason.
final class SourceOperator<Key, Value>: RecordSource {
    let keySerde: Serde<Key>
    let valueSerde: Serde<Value>
    private let deserializeKey: (ByteBuffer?) throws -> Key
    private let deserializeValue: (ByteBuffer?) throws -> Value
    let timestamp: ((Key, Value, Int64) -> Int64)?
    let next: Operator<Key, Value>
    private var context: TaskContext!
    private var batch: [StreamRecord<Key, Value>] = []

    init(keySerde: Serde<Key>, valueSerde: Serde<Value>, timestamp: ((Key, Value, Int64) -> Int64)?, next: Operator<Key, Value>) {
        self.keySerde = keySerde
        self.valueSerde = valueSerde
        self.deserializeKey = keySerde.makeDeserializer()
        self.deserializeValue = valueSerde.makeDeserializer()
        self.timestamp = timestamp
        self.next = next
    }

    override func open(_ context: TaskContext) throws {
        self.context = context
    }

    override var downstream: [OperatorNode] { [self.next] }

    override func advanceWatermark(to watermark: Int64) {
        self.next.advanceWatermark(to: watermark)
    }

    override func process(raw records: [Record], from partition: TopicPartition, observe: (Int64) -> Int64) {
        self.batch.removeAll(keepingCapacity: true)
        self.batch.reserveCapacity(records.count)
        for record in records {
            let key: Key
            let value: Value
            do {
                key = try self.deserializeKey(record.key)
                value = try self.deserializeValue(record.value)
            } catch {
                self.context.deadLetter(key: record.key.map { Array($0.readableBytesView) }, value: record.value.map { Array($0.readableBytesView) },
                                        timestamp: record.timestamp, reason: "cannot deserialize: \(error)", source: partition, offset: record.offset)
                continue
            }
            let eventTime = self.timestamp?(key, value, record.timestamp) ?? record.timestamp
            let watermark = observe(eventTime)
            self.batch.append(StreamRecord(key: key, value: value, timestamp: eventTime, watermark: watermark))
        }
        self.context.metrics.recordsIn.increment(by: records.count)
        if !self.batch.isEmpty { self.next.process(self.batch) }
    }
}
