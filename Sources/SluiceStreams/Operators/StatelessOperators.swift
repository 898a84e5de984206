/// A step that maps each batch to another (map, filter, flatMap...): the batch function is built by
/// the DSL in the pipeline's own module, specialised for its types.
final class BatchTransformOperator<Key, Value, OutKey, OutValue>: ForwardingOperator<Key, Value, OutKey, OutValue> {
    let transform: (consuming [StreamRecord<Key, Value>]) -> [StreamRecord<OutKey, OutValue>]

    init(next: Operator<OutKey, OutValue>, transform: @escaping (consuming [StreamRecord<Key, Value>]) -> [StreamRecord<OutKey, OutValue>]) {
        self.transform = transform
        super.init(next: next)
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        let output = self.transform(consume records)
        if !output.isEmpty { self.next.process(output) }
    }
}

//// `filter` and `filterNot`.
final class FilterOperator<Key, Value>: ForwardingOperator<Key, Value, Key, Value> {
    let predicate: (Key, Value) -> Bool

    init(next: Operator<Key, Value>, predicate: @escaping (Key, Value) -> Bool) {
        self.predicate = predicate
        super.init(next: next)
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        var kept = records
        kept.removeAll { !self.predicate($0.key, $0.value) }
        if !kept.isEmpty { self.next.process(kept) }
    }
}

/// `peek` and `foreach`: a side effect per record; `peek` passes the records on.
final class PeekOperator<Key, Value>: ForwardingOperator<Key, Value, Key, Value> {
    let action: (Key, Value) -> Void

    init(next: Operator<Key, Value>, action: @escaping (Key, Value) -> Void) {
        self.action = action
        super.init(next: next)
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        for record in copy records { self.action(record.key, record.value) }
        self.next.process(records)
    }
}

/// `branch`: each record goes to the first branch whose predicate holds, or nowhere.
final class BranchOperator<Key, Value>: Operator<Key, Value> {
    let predicates: [(Key, Value) -> Bool]
    let branches: [Operator<Key, Value>]

    init(predicates: [(Key, Value) -> Bool], branches: [Operator<Key, Value>]) {
        precondition(predicates.count == branches.count)
        self.predicates = predicates
        self.branches = branches
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        var split = Array(repeating: [StreamRecord<Key, Value>](), count: self.branches.count)
        for record in records {
            if let index = self.predicates.firstIndex(where: { $0(record.key, record.value) }) {
                split[index].append(record)
            }
        }
        for (branch, batch) in zip(self.branches, split) where !batch.isEmpty { branch.process(batch) }
    }

    override func advanceWatermark(to watermark: Int64) {
        for branch in self.branches { branch.advanceWatermark(to: watermark) }
    }

    override var downstream: [OperatorNode] { self.branches }
}

/// `foreachBatch`: a user action per batch, the end of its branch.
final class BatchActionOperator<Key, Value>: Operator<Key, Value> {
    let action: ([StreamRecord<Key, Value>]) -> Void

    init(action: @escaping ([StreamRecord<Key, Value>]) -> Void) {
        self.action = action
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        self.action(records)
    }
}
