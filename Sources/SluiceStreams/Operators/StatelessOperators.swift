/// `map`: a new key and value per record; event time kept.
final class MapOperator<Key, Value, OutKey, OutValue>: ForwardingOperator<Key, Value, OutKey, OutValue> {
    let transform: (Key, Value) -> KeyValue<OutKey, OutValue>

    init(next: Operator<OutKey, OutValue>, transform: @escaping (Key, Value) -> KeyValue<OutKey, OutValue>) {
        self.transform = transform
        super.init(next: next)
    }

    override func process(_ records: [StreamRecord<Key, Value>]) {
        var output: [StreamRecord<OutKey, OutValue>] = []
        output.reserveCapacity(records.count)
        for record in records {
            let pair = self.transform(record.key, record.value)
            output.append(record.with(key: pair.key, value: pair.value))
        }
        self.next.process(output)
    }
}

/// `mapValues`: a new value, the key kept.
final class MapValuesOperator<Key, Value, OutValue>: ForwardingOperator<Key, Value, Key, OutValue> {
    let transform: (Key, Value) -> OutValue

    init(next: Operator<Key, OutValue>, transform: @escaping (Key, Value) -> OutValue) {
        self.transform = transform
        super.init(next: next)
    }

    override func process(_ records: [StreamRecord<Key, Value>]) {
        var output: [StreamRecord<Key, OutValue>] = []
        output.reserveCapacity(records.count)
        for record in records {
            output.append(record.with(key: record.key, value: self.transform(record.key, record.value)))
        }
        self.next.process(output)
    }
}

/// `compactMapValues`: a new value, or nothing.
final class CompactMapValuesOperator<Key, Value, OutValue>: ForwardingOperator<Key, Value, Key, OutValue> {
    let transform: (Value) -> OutValue?

    init(next: Operator<Key, OutValue>, transform: @escaping (Value) -> OutValue?) {
        self.transform = transform
        super.init(next: next)
    }

    override func process(_ records: [StreamRecord<Key, Value>]) {
        var output: [StreamRecord<Key, OutValue>] = []
        output.reserveCapacity(records.count)
        for record in records {
            if let value = self.transform(record.value) { output.append(record.with(key: record.key, value: value)) }
        }
        if !output.isEmpty { self.next.process(output) }
    }
}

/// `filter` and `filterNot`.
final class FilterOperator<Key, Value>: ForwardingOperator<Key, Value, Key, Value> {
    let predicate: (Key, Value) -> Bool

    init(next: Operator<Key, Value>, predicate: @escaping (Key, Value) -> Bool) {
        self.predicate = predicate
        super.init(next: next)
    }

    override func process(_ records: [StreamRecord<Key, Value>]) {
        let kept = records.filter { self.predicate($0.key, $0.value) }
        if !kept.isEmpty { self.next.process(kept) }
    }
}

/// `flatMap`: zero or more records per record, all at the input's event time.
final class FlatMapOperator<Key, Value, OutKey, OutValue>: ForwardingOperator<Key, Value, OutKey, OutValue> {
    let transform: (Key, Value) -> [KeyValue<OutKey, OutValue>]

    init(next: Operator<OutKey, OutValue>, transform: @escaping (Key, Value) -> [KeyValue<OutKey, OutValue>]) {
        self.transform = transform
        super.init(next: next)
    }

    override func process(_ records: [StreamRecord<Key, Value>]) {
        var output: [StreamRecord<OutKey, OutValue>] = []
        output.reserveCapacity(records.count)
        for record in records {
            for pair in self.transform(record.key, record.value) {
                output.append(record.with(key: pair.key, value: pair.value))
            }
        }
        if !output.isEmpty { self.next.process(output) }
    }
}

/// `peek` and `foreach`: a side effect per record; `peek` passes the records on.
final class PeekOperator<Key, Value>: ForwardingOperator<Key, Value, Key, Value> {
    let action: (Key, Value) -> Void

    init(next: Operator<Key, Value>, action: @escaping (Key, Value) -> Void) {
        self.action = action
        super.init(next: next)
    }

    override func process(_ records: [StreamRecord<Key, Value>]) {
        for record in records { self.action(record.key, record.value) }
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

    override func process(_ records: [StreamRecord<Key, Value>]) {
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

    override func process(_ records: [StreamRecord<Key, Value>]) {
        self.action(records)
    }
}
