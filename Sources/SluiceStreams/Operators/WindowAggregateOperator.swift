/// Aggregates records per key and aligned window (tumbling, hopping, cumulate, global) and emits
/// results as the trigger says, in event time.
///
/// Semantics follow Flink's: a window is complete when the watermark reaches its last millisecond
/// (`end - 1`); its state is kept for the allowed lateness after that, and a late record within it
/// updates the window and emits the updated result; a record whose windows are all past the
/// allowed lateness goes to the late-records topic.
final class WindowAggregateOperator<Key: Hashable, Value, Accumulator, Result>: Operator<Key, Value> {
    let windows: Windows
    let trigger: Trigger
    let allowedLatenessMs: Int64
    let aggregator: Aggregator<Value, Accumulator, Result>
    let store: WindowStore<Key, Accumulator>
    let valueSerde: Serde<Value>
    let next: Operator<Windowed<Key>, Result>

    private var context: TaskContext!
    private var watermark = Watermark.unknown
    private var assigned: [Window] = []
    private var output: [StreamRecord<Windowed<Key>, Result>] = []
    private var lastEarlyFiringMs: Int64 = 0

    init(windows: Windows, trigger: Trigger, allowedLatenessMs: Int64, aggregator: Aggregator<Value, Accumulator, Result>,
         store: WindowStore<Key, Accumulator>, valueSerde: Serde<Value>, next: Operator<Windowed<Key>, Result>) {
        self.windows = windows
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

    override func restoreWatermark(_ watermark: Int64) {
        self.watermark = watermark
        self.expire()
        self.next.restoreWatermark(watermark)
    }

    override var downstream: [OperatorNode] { [self.next] }

    override func process(_ records: [StreamRecord<Key, Value>]) {
        for record in records {
            if record.watermark > self.watermark { self.fire(upTo: record.watermark) }
            self.windows.assign(record.timestamp, into: &self.assigned)
            var accepted = false
            for window in self.assigned {
                if self.isExpired(window) { continue }
                accepted = true
                let trigger = self.trigger
                var emit = false
                self.store.update(window, record.key, initial: self.aggregator.initial) { state in
                    self.aggregator.add(&state.accumulator, record.value)
                    state.pendingCount += 1
                    switch trigger {
                    case .onEveryUpdate: emit = true
                    case .onCount(let count): emit = state.pendingCount >= count
                    case .onWatermark, .early: break
                    }
                }
                // A window already complete (within the allowed lateness) re-emits at once.
                if emit || window.maxTimestamp <= self.watermark { self.emit(window, record.key) }
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

    private func keySerdeBytes(_ key: Key) -> [UInt8]? {
        self.store.keySerde.serialize(key)
    }

    /// Past the allowed lateness: the window's state is gone and records for it are late. The global
    /// window expires only at the end of input.
    private func isExpired(_ window: Window) -> Bool {
        guard self.watermark != Watermark.unknown else { return false }
        if window.maxTimestamp == Int64.max { return self.watermark == Watermark.end }
        let (deadline, overflow) = window.maxTimestamp.addingReportingOverflow(self.allowedLatenessMs)
        return !overflow && deadline <= self.watermark
    }

    private func emit(_ window: Window, _ key: Key) {
        guard let state = self.store[window, key] else { return }
        self.output.append(StreamRecord(key: Windowed(key: key, window: window), value: self.aggregator.result(state.accumulator),
                                        timestamp: window.maxTimestamp, watermark: self.watermark))
        self.store.markEmitted(window, key)
    }

    /// Advances event time: fires the windows the watermark completes, then drops those past the
    /// allowed lateness.
    private func fire(upTo watermark: Int64) {
        let previous = self.watermark
        self.watermark = watermark
        if self.trigger != .onEveryUpdate {
            for window in self.store.windows {
                guard window.maxTimestamp <= watermark else { break }
                guard previous == Watermark.unknown || window.maxTimestamp > previous else { continue }
                for (key, state) in self.store.entries(of: window) where state.pendingCount > 0 {
                    self.emit(window, key)
                }
            }
        }
        self.expire()
    }

    private func expire() {
        while let window = self.store.windows.first, self.isExpired(window) {
            self.store.removeWindow(window)
        }
    }

    private func earlyFiring() {
        guard case .early(let intervalMs) = self.trigger, self.context.processingTimeMs - self.lastEarlyFiringMs >= intervalMs else { return }
        self.lastEarlyFiringMs = self.context.processingTimeMs
        for window in self.store.windows where window.maxTimestamp > self.watermark {
            for (key, state) in self.store.entries(of: window) where state.pendingCount > 0 { self.emit(window, key) }
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
