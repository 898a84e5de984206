/// Aggregates records per key in session windows: a record opens `[t, t + gap)`, and sessions that
/// touch or overlap merge (their accumulators merged), as Flink's merging windows do. A session
/// fires when the watermark reaches its end and is dropped after the allowed lateness.
///
/// The record loop is `@inlinable` and specialised in the pipeline's module, as the aligned windows' is.
@usableFromInline
final class SessionAggregateOperator<Key: Hashable, Value, Accumulator, Result>: Operator<Key, Value> {
    @usableFromInline let gap: Int64
    @usableFromInline let trigger: Trigger
    @usableFromInline let allowedLatenessMs: Int64
    @usableFromInline let aggregator: Aggregator<Value, Accumulator, Result>
    @usableFromInline let store: SessionStore<Key, Accumulator>
    @usableFromInline let valueSerde: Serde<Value>
    @usableFromInline let next: Operator<Windowed<Key>, Result>
    /// The record loop specialised in the pipeline's module, when the DSL made one.
    @usableFromInline let processBatch: ((SessionAggregateOperator, [StreamRecord<Key, Value>]) -> Void)?
    /// `advance(to:)` specialised in the pipeline's module, when the DSL made one.
    @usableFromInline let advanceSpecialized: ((SessionAggregateOperator, Int64) -> Void)?

    @usableFromInline var context: TaskContext!
    @usableFromInline var watermark = Watermark.unknown
    @usableFromInline var output: [StreamRecord<Windowed<Key>, Result>] = []
    @usableFromInline var lastEarlyFiringMs: Int64 = 0

    init(windows: Windows, trigger: Trigger, allowedLatenessMs: Int64, aggregator: Aggregator<Value, Accumulator, Result>,
         store: SessionStore<Key, Accumulator>, valueSerde: Serde<Value>, next: Operator<Windowed<Key>, Result>,
         processBatch: ((SessionAggregateOperator, [StreamRecord<Key, Value>]) -> Void)? = nil,
         advanceSpecialized: ((SessionAggregateOperator, Int64) -> Void)? = nil) {
        guard case .session(let gap) = windows else { preconditionFailure("session operator for \(windows)") }
        self.gap = gap
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

    override var downstream: [OperatorNode] { [self.next] }

    override func restoreWatermark(_ watermark: Int64) {
        self.watermark = watermark
        self.next.restoreWatermark(watermark)
    }

    @inlinable
    final func isExpired(_ window: Window) -> Bool {
        Watermark.hasPassed(window.maxTimestamp, allowedLatenessMs: self.allowedLatenessMs, watermark: self.watermark)
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
        let merge = self.aggregator.merge!
        for record in records {
            if record.watermark > self.watermark { self.fire(upTo: record.watermark) }
            let (end, overflow) = record.timestamp.addingReportingOverflow(self.gap)
            let window = Window(start: record.timestamp, end: overflow ? Int64.max - 1 : end)
            if self.watermark != Watermark.unknown && self.isExpired(self.store.mergedWindow(record.key, window)) {
                self.context.lateRecord(key: self.store.keySerde.serialize(record.key), value: self.valueSerde.serialize(record.value),
                                        timestamp: record.timestamp,
                                        reason: "event time \(record.timestamp) is behind watermark \(self.watermark) by more than the session gap and the allowed lateness of \(self.allowedLatenessMs) ms")
                continue
            }
            var emit = false
            let trigger = self.trigger
            let session = self.store.add(record.key, window, initial: self.aggregator.initial, merge: merge) { state in
                self.aggregator.add(&state.accumulator, record.value)
                state.pendingCount += 1
                switch trigger {
                case .onEveryUpdate: emit = true
                case .onCount(let count): emit = state.pendingCount >= count
                case .onWatermark, .early: break
                }
            }
            if emit || session.maxTimestamp <= self.watermark { self.emit(record.key, session) }
        }
        self.earlyFiring()
        self.drainOutput()
    }

    @inlinable
    final func emit(_ key: Key, _ window: Window) {
        guard let state = self.store.state(key, window) else { return }
        self.output.append(StreamRecord(key: Windowed(key: key, window: window), value: self.aggregator.result(state.accumulator),
                                        timestamp: window.maxTimestamp, watermark: self.watermark))
        self.store.update(key, window) { $0.pendingCount = 0 }
    }

    @inlinable
    final func fire(upTo watermark: Int64) {
        self.watermark = watermark
        while let timer = self.store.popTimer(ifAtOrBefore: watermark) {
            guard let state = self.store.state(timer.key, timer.window) else { continue }  // merged away or removed
            if timer.time == timer.window.maxTimestamp && state.pendingCount > 0 && self.trigger != .onEveryUpdate {
                self.emit(timer.key, timer.window)
            }
            if self.isExpired(timer.window) {
                self.store.remove(timer.key, timer.window)
            } else if timer.time == timer.window.maxTimestamp {
                self.store.schedule(SessionTimer(time: timer.window.maxTimestamp + self.allowedLatenessMs, key: timer.key, window: timer.window))
            }
        }
    }

    @inlinable
    final func earlyFiring() {
        guard case .early(let intervalMs) = self.trigger, self.context.processingTimeMs - self.lastEarlyFiringMs >= intervalMs else { return }
        self.lastEarlyFiringMs = self.context.processingTimeMs
        for (key, list) in self.store.sessions {
            for entry in list where entry.state.pendingCount > 0 && entry.window.maxTimestamp > self.watermark { self.emit(key, entry.window) }
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
