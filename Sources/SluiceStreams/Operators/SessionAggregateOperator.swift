/// Aggregates records per key in session windows: a record opens `[t, t + gap)`, and sessions that
/// touch or overlap merge (their accumulators merged), as Flink's merging windows do. A session
/// fires when the watermark reaches its end and is dropped after the allowed lateness.
final class SessionAggregateOperator<Key: Hashable, Value, Accumulator, Result>: Operator<Key, Value> {
    let gap: Int64
    let trigger: Trigger
    let allowedLatenessMs: Int64
    let aggregator: Aggregator<Value, Accumulator, Result>
    let store: SessionStore<Key, Accumulator>
    let valueSerde: Serde<Value>
    let next: Operator<Windowed<Key>, Result>

    private var context: TaskContext!
    private var watermark = Watermark.unknown
    private var output: [StreamRecord<Windowed<Key>, Result>] = []
    private var lastEarlyFiringMs: Int64 = 0

    init(windows: Windows, trigger: Trigger, allowedLatenessMs: Int64, aggregator: Aggregator<Value, Accumulator, Result>,
         store: SessionStore<Key, Accumulator>, valueSerde: Serde<Value>, next: Operator<Windowed<Key>, Result>) {
        guard case .session(let gap) = windows else { preconditionFailure("session operator for \(windows)") }
        self.gap = gap
        self.trigger = trigger
        self.allowedLatenessMs = allowedLatenessMs
        self.aggregator = aggregator
        self.store = store
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
        self.next.restoreWatermark(watermark)
    }

    private func isExpired(_ window: Window) -> Bool {
        guard self.watermark != Watermark.unknown else { return false }
        if self.watermark == Watermark.end { return true }
        let (deadline, overflow) = window.maxTimestamp.addingReportingOverflow(self.allowedLatenessMs)
        return !overflow && deadline <= self.watermark
    }

    override func process(_ records: [StreamRecord<Key, Value>]) {
        let merge = self.aggregator.merge!
        for record in records {
            if record.watermark > self.watermark { self.fire(upTo: record.watermark) }
            let (end, overflow) = record.timestamp.addingReportingOverflow(self.gap)
            let window = Window(start: record.timestamp, end: overflow ? Int64.max - 1 : end)
            if self.isExpired(self.store.mergedWindow(record.key, window)) {
                self.context.lateRecord(key: self.store.keySerde.serialize(record.key), value: self.valueSerde.serialize(record.value),
                                        timestamp: record.timestamp,
                                        reason: "event time \(record.timestamp) is behind watermark \(self.watermark) by more than the session gap and the allowed lateness of \(self.allowedLatenessMs) ms")
                continue
            }
            let session = self.store.mergeInto(record.key, window) { states in
                var merged = WindowState(accumulator: self.aggregator.initial(), pendingCount: 0)
                for state in states {
                    merge(&merged.accumulator, state.accumulator)
                    merged.pendingCount += state.pendingCount
                }
                return merged
            }
            var emit = false
            self.store.update(record.key, session) { state in
                self.aggregator.add(&state.accumulator, record.value)
                state.pendingCount += 1
                switch self.trigger {
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

    private func emit(_ key: Key, _ window: Window) {
        guard let state = self.store.state(key, window) else { return }
        self.output.append(StreamRecord(key: Windowed(key: key, window: window), value: self.aggregator.result(state.accumulator),
                                        timestamp: window.maxTimestamp, watermark: self.watermark))
        self.store.update(key, window) { $0.pendingCount = 0 }
    }

    private func fire(upTo watermark: Int64) {
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

    private func earlyFiring() {
        guard case .early(let intervalMs) = self.trigger, self.context.processingTimeMs - self.lastEarlyFiringMs >= intervalMs else { return }
        self.lastEarlyFiringMs = self.context.processingTimeMs
        for (key, list) in self.store.sessions {
            for entry in list where entry.state.pendingCount > 0 && entry.window.maxTimestamp > self.watermark { self.emit(key, entry.window) }
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
        self.earlyFiring()
        self.drainOutput()
        self.next.advanceWatermark(to: watermark)
    }
}
