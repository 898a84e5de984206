extension StreamsBuilder {
    /// A topic read as a table (table-stream duality): the latest value per key, a record with a null
    /// value (a tombstone) deleting its key. The table is kept in a store backed by a changelog, and its
    /// changes flow on as `(key, new value)`, `nil` for a deletion: `toStream()` turns them back into a
    /// stream. The topic must be keyed (partitioned by key), as a compacted topic is.
    public func table<Key: Hashable, Value>(_ topic: String, key: Serde<Key>, value: Serde<Value>, named name: String? = nil) -> KTable<Key, Value?> {
        let nullable = Serde<Value?>(
            serialize: { $0.flatMap(value.serialize) },
            deserialize: { buffer in try buffer.map { try value.deserialize($0) } }
        )
        let source = self.addSource(topic: topic, isInternal: false, outOfOrdernessMs: 0, key: key, value: nullable, timestamp: nil)
        let storeName = self.uniqueName(name ?? "table-\(topic)")
        let suffix = "\(storeName)-changelog"
        let id = self.add(name: storeName, parents: [source]) { context, children in
            TableSourceOperator(store: KeyValueStore(name: storeName, changelogTopic: context.internalTopicName(suffix), keySerde: key, valueSerde: value),
                                next: downstreamOperator(children, Key.self, Value?.self))
        }
        self.internalTopics.append(InternalTopic(suffix: suffix, kind: .changelog, writer: id))
        return KTable(builder: self, node: id)
    }
}

/// Materialises a topic as a table: upserts and deletes into its store, and passes each change on.
final class TableSourceOperator<Key: Hashable, Value>: ForwardingOperator<Key, Value?, Key, Value?> {
    let store: KeyValueStore<Key, Value>

    init(store: KeyValueStore<Key, Value>, next: Operator<Key, Value?>) {
        self.store = store
        super.init(next: next)
    }

    override func open(_ context: TaskContext) throws {
        context.stores.append(self.store)
    }

    override func process(_ records: consuming [StreamRecord<Key, Value?>]) {
        for record in copy records { self.store[record.key] = record.value }
        self.next.process(records)
    }
}
