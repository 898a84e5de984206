import HeapModule
import NIOCore

/// Sliding windows: for every distinct event time `t` of a key, the window `[t - size + 1, t + 1)`
/// holding the key's records of the last `size` milliseconds up to and including `t`; its result is
/// emitted when the watermark reaches `t`. (Flink SQL's `OVER (RANGE BETWEEN size PRECEDING AND
/// CURRENT ROW)`, one result per distinct time; Kafka Streams' sliding windows likewise exist where
/// their contents change.)
///
/// The operator keeps each key's records of the last `size` plus the allowed lateness (a value serde
/// writes them to the changelog) and aggregates a window when it fires. A record within the allowed
/// lateness re-emits the windows it joins that had fired; a later one goes to the late-records topic.
final class SlidingAggregateOperator<Key: Hashable, Value, Accumulator, Result>: Operator<Key, Value> {
    let size: Int64
    let allowedLatenessMs: Int64
    let aggregator: Aggregator<Value, Accumulator, Result>
    let store: KeyValueStore<Key, [SlidingEntry<Value>]>
    let keySerde: Serde<Key>
    let valueSerde: Serde<Value>
    let next: Operator<Windowed<Key>, Result>

    private var context: TaskContext!
    private var watermark = Watermark.unknown
    /// Window ends (event times) waiting for the watermark, with their key.
    private var timers = Heap<SlidingTimer<Key>>()
    private var output: [StreamRecord<Windowed<Key>, Result>] = []

    init(size: Int64, allowedLatenessMs: Int64, aggregator: Aggregator<Value, Accumulator, Result>, store: KeyValueStore<Key, [SlidingEntry<Value>]>,
         keySerde: Serde<Key>, valueSerde: Serde<Value>, next: Operator<Windowed<Key>, Result>) {
        self.size = size
        self.allowedLatenessMs = allowedLatenessMs
        self.aggregator = aggregator
        self.store = store
        self.keySerde = keySerde
        self.valueSerde = valueSerde
        self.next = next
    }

    override func open(_ context: TaskContext) throws {
        self.context = context
        context.stores.append(self.store)
    }

    override var downstream: [OperatorNode] { [self.next] }

    override func restoreWatermark(_ watermark: Int64) {
        self.watermark = watermark
        // Windows not fired before the restart fire again when the watermark reaches them.
        for (key, entries) in self.store.entries {
            for time in Set(entries.map(\.timestamp)) where watermark == Watermark.unknown || time > watermark {
                self.timers.insert(SlidingTimer(time: time, key: key))
            }
        }
        self.next.restoreWatermark(watermark)
    }

    private func isExpired(windowEnd time: Int64) -> Bool {
        Watermark.hasPassed(time, allowedLatenessMs: self.allowedLatenessMs, watermark: self.watermark)
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        for record in records {
            if record.watermark > self.watermark { self.fire(upTo: record.watermark) }
            if self.isExpired(windowEnd: record.timestamp) {
                self.context.lateRecord(key: self.keySerde.serialize(record.key), value: self.valueSerde.serialize(record.value),
                                        timestamp: record.timestamp,
                                        reason: "event time \(record.timestamp) is behind watermark \(self.watermark) by more than the allowed lateness of \(self.allowedLatenessMs) ms")
                continue
            }
            var entries = self.store[record.key] ?? []
            let position = entries.firstIndex { $0.timestamp > record.timestamp } ?? entries.count
            entries.insert(SlidingEntry(timestamp: record.timestamp, value: record.value), at: position)
            self.store[record.key] = entries
            if self.watermark != Watermark.unknown && record.timestamp <= self.watermark {
                // Late within the allowed lateness: its own window and the fired windows it joins change now.
                var ends = Set(entries.lazy.map(\.timestamp).filter { $0 >= record.timestamp && $0 < record.timestamp + self.size && $0 <= self.watermark })
                ends.insert(record.timestamp)
                for end in ends.sorted() where !self.isExpired(windowEnd: end) { self.emit(record.key, windowEnd: end, entries: entries) }
            } else {
                self.timers.insert(SlidingTimer(time: record.timestamp, key: record.key))
            }
        }
        self.drainOutput()
    }

    private func emit(_ key: Key, windowEnd time: Int64, entries: [SlidingEntry<Value>]) {
        var accumulator = self.aggregator.initial()
        for entry in entries where entry.timestamp > time - self.size && entry.timestamp <= time {
            self.aggregator.add(&accumulator, entry.value)
        }
        let window = Window(start: time - self.size + 1, end: time + 1)
        self.output.append(StreamRecord(key: Windowed(key: key, window: window), value: self.aggregator.result(accumulator),
                                        timestamp: time, watermark: self.watermark))
    }

    private func fire(upTo watermark: Int64) {
        self.watermark = watermark
        var fired: Set<SlidingTimer<Key>> = []
        while let first = self.timers.min, first.time <= watermark {
            let timer = self.timers.removeMin()
            guard fired.insert(timer).inserted, let entries = self.store[timer.key] else { continue }
            self.emit(timer.key, windowEnd: timer.time, entries: entries)
        }
        // Records no window can need any more are dropped.
        if watermark == Watermark.end {
            for key in self.store.entries.keys { self.store[key] = nil }
            return
        }
        for key in Set(fired.map(\.key)) {
            guard var entries = self.store[key] else { continue }
            let before = entries.count
            entries.removeAll { $0.timestamp + self.size - 1 + self.allowedLatenessMs <= watermark }
            if entries.count != before { self.store[key] = entries.isEmpty ? nil : entries }
        }
    }

    private func drainOutput() {
        guard !self.output.isEmpty else { return }
        let batch = self.output
        self.output.removeAll(keepingCapacity: true)
        self.next.process(batch)
    }

    override func advanceWatermark(to watermark: Int64) {
        if watermark > self.watermark { self.fire(upTo: watermark) }
        self.drainOutput()
        self.next.advanceWatermark(to: watermark)
    }
}

/// A record kept by a sliding window: its event time and value.
struct SlidingEntry<Value> {
    var timestamp: Int64
    var value: Value
}

struct SlidingTimer<Key: Hashable>: Comparable, Hashable {
    var time: Int64
    var key: Key

    static func < (lhs: SlidingTimer, rhs: SlidingTimer) -> Bool { lhs.time < rhs.time }
}

extension Serde {
    /// A sliding window's kept records: count, then per record its time, value length and value bytes.
    static func slidingEntries<Element>(_ value: Serde<Element>) -> Serde<[SlidingEntry<Element>]> where Value == [SlidingEntry<Element>] {
        Serde<[SlidingEntry<Element>]>(
            serialize: { entries in
                var buffer = ByteBufferAllocator().buffer(capacity: 16 * entries.count + 8)
                buffer.writeInteger(Int64(entries.count))
                for entry in entries {
                    buffer.writeInteger(entry.timestamp)
                    if let bytes = value.serialize(entry.value) {
                        buffer.writeInteger(Int32(bytes.count))
                        buffer.writeBytes(bytes)
                    } else {
                        buffer.writeInteger(Int32(-1))
                    }
                }
                return Array(buffer.readableBytesView)
            },
            deserialize: { input in
                guard var buffer = input, let count = buffer.readInteger(as: Int64.self), count >= 0 else {
                    throw DeserializationError("not a sliding window's records")
                }
                var entries: [SlidingEntry<Element>] = []
                for _ in 0..<count {
                    guard let timestamp = buffer.readInteger(as: Int64.self), let length = buffer.readInteger(as: Int32.self) else {
                        throw DeserializationError("truncated sliding window records")
                    }
                    let bytes = length < 0 ? nil : buffer.readSlice(length: Int(length))
                    if length >= 0 && bytes == nil { throw DeserializationError("truncated sliding window record") }
                    entries.append(SlidingEntry(timestamp: timestamp, value: try value.deserialize(bytes)))
                }
                return entries
            }
        )
    }
}
