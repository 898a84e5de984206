/// A running aggregate per key without windows: every update is emitted (a table's changelog).
final class KeyValueAggregateOperator<Key: Hashable, Value, Accumulator, Result>: ForwardingOperator<Key, Value, Key, Result> {
    let aggregator: Aggregator<Value, Accumulator, Result>
    let store: KeyValueStore<Key, Accumulator>

    init(aggregator: Aggregator<Value, Accumulator, Result>, store: KeyValueStore<Key, Accumulator>, next: Operator<Key, Result>) {
        self.aggregator = aggregator
        self.store = store
        super.init(next: next)
    }

    override func open(_ context: TaskContext) throws {
        context.stores.append(self.store)
    }

    override func process(_ records: consuming [StreamRecord<Key, Value>]) {
        var output: [StreamRecord<Key, Result>] = []
        output.reserveCapacity(records.count)
        for record in records {
            var accumulator = self.store[record.key] ?? self.aggregator.initial()
            self.aggregator.add(&accumulator, record.value)
            self.store[record.key] = accumulator
            output.append(record.with(key: record.key, value: self.aggregator.result(accumulator)))
        }
        self.next.process(output)
    }
}
