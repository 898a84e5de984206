/// Aggregates records per key and aligned window (tumbling, hopping, cumulate, global) and emits
/// results as the trigger says, in event time.
///
/// Semantics follow Flink's: a window is complete when the watermark reaches its last millisecond
/// (`end - 1`); its state is kept for the allowed lateness after that, and a late record within it
/// updates the window and emits the updated result; a record whose windows are all past the
/// allowed lateness goes to the late-records topic.
///
/// The record loop is `@inlinable`: the DSL hands the operator a closure made in the pipeline's module
/// (`processBatch`), where the loop is specialised for the key, value and accumulator types.
@usableFromInline
final class WindowAggregateOperator<Key: Hashable, Value, Accumulator, Result>: Operator<Key, Value> {
    @usableFromInline let windows: Windows
    @usableFromInline let trigger: Trigger
    @usableFromInline let allowedLatenessMs: Int64
    @usableFromInline let aggregator: Aggregator<Value, Accumulator, Result>
    @usableFromInline let store: WindowStore<Key, Accumulator>
    @usableFromInline let valueSerde: Serde<Value>
    @usableFromInline let next: Operator<Windowed<Key>, Result>
    /// The specialised record loop, when the DSL made one.
    @usableFromInline let processBatch: ((WindowAggregateOperator, [StreamRecord<Key, Value>]) -> Void)?
    /// `advance(to:)` specialised in the pipeline's module, when the DSL made one.
    @usableFromInline let advanceSpecialized: ((WindowAggregateOperator, Int64) -> Void)?

    @usableFromInline var context: TaskContext!
    @usableFromInline var watermark = Watermark.unknown
    @usableFromInline var assigned: [Window] = []
    @usableFromInline var output: [StreamRecord<Windowed<Key>, Result>] = []
    @usableFromInline var lastEarlyFiringMs: Int64 = 0

    init(windows: Windows, trigger: Trigger, allowedLatenessMs: Int64, aggregator: Aggregator<Value, Accumulator, Result>,
         store: WindowStore<Key, Accumulator>, valueSerde: Serde<Value>, next: Operator<Windowed<Key>, Result>,
         processBatch: ((WindowAggregateOperator, [StreamRecord<Key, Value>]) -> Void)? = nil,
         advanceSpecialized: ((WindowAggregateOperator, Int64) -> Void)? = nil) {
        self.windows = windows
        self.trigger = trigger
        self.allowedLatenessMs = allowedLatenessMs
        self.aggregator = aggregator
        self.store = store
        self.valueSerde = valueSerde
        self.next = next
        self.processBatch = processBatch
        self.advanceSpecialized = advanceSpecialized
    }

    override func open(_ context: TaskContext) throws {
        self.context = context
        context.stores.append(self.store)
    }

    override func restoreWatermark(_ watermark: Int64) {
        self.watermark = watermark
        self.expire()
        self.next.restoreWatermark(watermark)
    }

    override var downstream: [OperatorNode] { [self.next] }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        if let processBatch = self.processBatch {
            processBatch(self, records)
        } else {
            self.processRecords(records)
        }
    }

    @inlinable
    final func processRecords(_ records: [StreamRecord<Key, Value>]) {
        for record in records {
            if record.watermark > self.watermark { self.fire(upTo: record.watermark) }
            self.windows.assign(record.timestamp, into: &self.assigned)
            // Hashed once for all the record's windows.
            let key = HashedKey(record.key)
            var accepted = false
            for window in self.assigned {
                if self.isExpired(window) { continue }
                accepted = true
                let trigger = self.trigger
                var emit = false
                self.store.update(window, key, initial: self.aggregator.initial) { state in
                    self.aggregator.add(&state.accumulator, record.value)
                    state.pendingCount += 1
                    switch trigger {
                    case .onEveryUpdate: emit = true
                    case .onCount(let count): emit = state.pendingCount >= count
                    case .onWatermark, .early: break
                    }
                }
                // A window already complete (within the allowed lateness) re-emits at once.
                if emit || window.maxTimestamp <= self.watermark { self.emit(window, key) }
            }
            if !accepted {
                self.context.lateRecord(key: self.keySerdeBytes(record.key), value: self.valueSerde.serialize(record.value),
                                        timestamp: record.timestamp,
                                        reason: "event time \(record.timestamp) is behind watermark \(self.watermark) by more than the allowed lateness of \(self.allowedLatenessMs) ms")
            }
        }
        self.earlyFiring()
        self.drainOutput()
    }

    @inlinable
    final func keySerdeBytes(_ key: Key) -> [UInt8]? {
        self.store.keySerde.serialize(key)
    }

    /// Past the allowed lateness: the window's state is gone and records for it are late. The global
    /// window expires only at the end of input.
    @inlinable
    final func isExpired(_ window: Window) -> Bool {
        Watermark.hasPassed(window.maxTimestamp, allowedLatenessMs: self.allowedLatenessMs, watermark: self.watermark)
    }

    @inlinable
    final func emit(_ window: Window, _ key: HashedKey<Key>) {
        guard let state = self.store[window, key] else { return }
        self.appendResult(window, key, state)
        self.store.markEmitted(window, key)
    }

    /// Emits every entry of `window` with pending records.
    @inlinable
    final func emitPending(_ window: Window) {
        self.store.emitPending(in: window) { key, state in self.appendResult(window, key, state) }
    }

    @inlinable
    final func appendResult(_ window: Window, _ key: HashedKey<Key>, _ state: WindowState<Accumulator>) {
        self.output.append(StreamRecord(key: Windowed(key: key.key, window: window), value: self.aggregator.result(state.accumulator),
                                        timestamp: window.maxTimestamp, watermark: self.watermark))
    }

    /// Advances event time: fires the windows the watermark completes, then drops those past the
    /// allowed lateness.
    @inlinable
    final func fire(upTo watermark: Int64) {
        let previous = self.watermark
        self.watermark = watermark
        if self.trigger != .onEveryUpdate {
            for window in self.store.windows {
                guard window.maxTimestamp <= watermark else { break }
                guard previous == Watermark.unknown || window.maxTimestamp > previous else { continue }
                self.emitPending(window)
            }
        }
        self.expire()
    }

    @inlinable
    final func expire() {
        while let window = self.store.windows.first, self.isExpired(window) {
            self.store.removeWindow(window)
        }
    }

    @inlinable
    final func earlyFiring() {
        guard case .early(let intervalMs) = self.trigger, self.context.processingTimeMs - self.lastEarlyFiringMs >= intervalMs else { return }
        self.lastEarlyFiringMs = self.context.processingTimeMs
        for window in self.store.windows where window.maxTimestamp > self.watermark {
            self.emitPending(window)
        }
    }

    @inlinable
    final func drainOutput() {
        guard !self.output.isEmpty else { return }
        let batch = self.output
        self.output.removeAll(keepingCapacity: true)
        self.next.process(batch)
    }

    override func advanceWatermark(to watermark: Int64) {
        if let advanceSpecialized { advanceSpecialized(self, watermark) } else { self.advance(to: watermark) }
    }

    /// `advanceWatermark(to:)`'s work, specialised like the record loop when the DSL made a closure for it.
    @inlinable
    final func advance(to watermark: Int64) {
        if watermark > self.watermark { self.fire(upTo: watermark) }
        self.earlyFiring()
        self.drainOutput()
        self.next.advanceWatermark(to: watermark)
    }
}
