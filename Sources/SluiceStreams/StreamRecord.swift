/// One record on its way through a task's operators: a typed key and value, the record's event
/// time, and the task's watermark as it stood when the record entered the task.
///
/// Carrying the watermark with each record (rather than as a separate call between batches) is what
/// makes results independent of batch sizes: a window operator advances its event-time clock to
/// exactly the point the source had reached, record by record.
public struct StreamRecord<Key, Value> {
    public var key: Key
    public var value: Value
    /// Event time, epoch milliseconds.
    public var timestamp: Int64
    /// The task's watermark (epoch milliseconds) before this record; internal bookkeeping.
    @usableFromInline var watermark: Int64

    public init(key: Key, value: Value, timestamp: Int64) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.watermark = Watermark.unknown
    }

    @inlinable
    init(key: Key, value: Value, timestamp: Int64, watermark: Int64) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.watermark = watermark
    }

    /// The same time and watermark with another key and value.
    @inlinable
    func with<K2, V2>(key: K2, value: V2) -> StreamRecord<K2, V2> {
        StreamRecord<K2, V2>(key: key, value: value, timestamp: self.timestamp, watermark: self.watermark)
    }
}

/// Event-time vocabulary.
public enum Watermark {
    /// No watermark yet: nothing is late and no window has fired.
    public static let unknown = Int64.min
    /// The end of time: every window fires (end of a bounded input, shutdown of a drained task).
    public static let end = Int64.max

    /// Whether `watermark` has passed `time` by the allowed lateness: what a window (its last
    /// millisecond) or a record must not be behind. Nothing has passed before the first watermark;
    /// everything has at the end of time.
    @inlinable
    static func hasPassed(_ time: Int64, allowedLatenessMs: Int64, watermark: Int64) -> Bool {
        guard watermark != Watermark.unknown else { return false }
        if watermark == Watermark.end { return true }
        let (deadline, overflow) = time.addingReportingOverflow(allowedLatenessMs)
        return !overflow && deadline <= watermark
    }
}

/// A key-value pair, as user functions return them (`map`, `flatMap`).
public struct KeyValue<Key, Value> {
    public var key: Key
    public var value: Value

    public init(_ key: Key, _ value: Value) {
        self.key = key
        self.value = value
    }
}

extension KeyValue: Equatable where Key: Equatable, Value: Equatable {}
extension KeyValue: Hashable where Key: Hashable, Value: Hashable {}
extension KeyValue: Sendable where Key: Sendable, Value: Sendable {}
