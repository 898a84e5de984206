/// One step of a task's operator chain. Operators are built per task from the topology, own their
/// state, and run on the task's thread only: no locks, no async calls on the record path.
///
/// Records move in batches; event time moves with each record (`StreamRecord.watermark`) and,
/// between batches and when inputs are idle, through `advanceWatermark(to:)`.
@usableFromInline
class OperatorNode {
    @usableFromInline init() {}

    /// Called once before the first record, after state stores are restored.
    func open(_ context: TaskContext) throws {}

    /// The task's watermark moved to `watermark` (monotone): fire due timers, then pass it on.
    @usableFromInline func advanceWatermark(to watermark: Int64) {}

    /// After a restart, before any record: the watermark the task had committed. Operators that fire
    /// on event time take it as their clock without firing anything (what it completed was emitted
    /// before the restart).
    func restoreWatermark(_ watermark: Int64) {
        for next in self.downstream { next.restoreWatermark(watermark) }
    }

    /// Before a commit: write buffered output and state changes.
    func flush() throws {}

    /// Operators after this one, for traversals (open, flush).
    var downstream: [OperatorNode] { [] }
}

/// An operator that takes records of one type.
@usableFromInline
class Operator<Key, Value>: OperatorNode {
    @usableFromInline func process(_ records: consuming [StreamRecord<Key, Value>]) {}
}

/// The operators that forward to one next operator.
class ForwardingOperator<Key, Value, OutKey, OutValue>: Operator<Key, Value> {
    let next: Operator<OutKey, OutValue>

    init(next: Operator<OutKey, OutValue>) {
        self.next = next
    }

    override func advanceWatermark(to watermark: Int64) {
        self.next.advanceWatermark(to: watermark)
    }

    override var downstream: [OperatorNode] { [self.next] }
}

/// Several next operators (a stream used twice): each gets every batch.
final class FanOutOperator<Key, Value>: Operator<Key, Value> {
    let targets: [Operator<Key, Value>]

    init(targets: [Operator<Key, Value>]) {
        self.targets = targets
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        for target in self.targets { target.process(copy records) }
    }

    override func advanceWatermark(to watermark: Int64) {
        for target in self.targets { target.advanceWatermark(to: watermark) }
    }

    override var downstream: [OperatorNode] { self.targets }
}

/// The end of a branch that goes nowhere (a `foreach`'s or `peek`'s consumers are themselves operators).
final class DiscardOperator<Key, Value>: Operator<Key, Value> {}
