/// An unbounded stream of key-value records in event time: Kafka Streams' `KStream`.
public struct KStream<Key, Value> {
    let builder: StreamsBuilder
    let node: Int
    /// Whether an operation since the source may have changed keys: grouping then repartitions so
    /// that each key lands on one task.
    let keyChanged: Bool

    private func chain<K2, V2>(_ name: String, keyChanged: Bool,
                               _ make: @escaping (Operator<K2, V2>) -> OperatorNode) -> KStream<K2, V2> {
        let id = self.builder.add(name: name, parents: [self.node]) { _, children in make(downstreamOperator(children, K2.self, V2.self)) }
        return KStream<K2, V2>(builder: self.builder, node: id, keyChanged: keyChanged)
    }

    /// A new key and value per record.
    public func map<K2, V2>(_ transform: @escaping (Key, Value) -> KeyValue<K2, V2>) -> KStream<K2, V2> {
        self.chain("map", keyChanged: true) { MapOperator(next: $0, transform: transform) }
    }

    /// A new value per record; keys unchanged, so no repartitioning follows.
    public func mapValues<V2>(_ transform: @escaping (Value) -> V2) -> KStream<Key, V2> {
        self.chain("mapValues", keyChanged: self.keyChanged) { MapValuesOperator(next: $0, transform: { transform($1) }) }
    }

    /// A new value per record, computed from the key too.
    public func mapValues<V2>(withKey transform: @escaping (Key, Value) -> V2) -> KStream<Key, V2> {
        self.chain("mapValues", keyChanged: self.keyChanged) { MapValuesOperator(next: $0, transform: transform) }
    }

    /// A new value per record, dropping the records for which `transform` returns nil (no array per record,
    /// unlike `flatMapValues`).
    public func compactMapValues<V2>(_ transform: @escaping (Value) -> V2?) -> KStream<Key, V2> {
        self.chain("compactMapValues", keyChanged: self.keyChanged) { CompactMapValuesOperator(next: $0, transform: transform) }
    }

    /// The records for which `predicate` holds.
    public func filter(_ predicate: @escaping (Key, Value) -> Bool) -> KStream<Key, Value> {
        self.chain("filter", keyChanged: self.keyChanged) { FilterOperator(next: $0, predicate: predicate) }
    }

    /// The records for which `predicate` does not hold.
    public func filterNot(_ predicate: @escaping (Key, Value) -> Bool) -> KStream<Key, Value> {
        self.filter { !predicate($0, $1) }
    }

    /// Zero or more records per record.
    public func flatMap<K2, V2>(_ transform: @escaping (Key, Value) -> [KeyValue<K2, V2>]) -> KStream<K2, V2> {
        self.chain("flatMap", keyChanged: true) { FlatMapOperator(next: $0, transform: transform) }
    }

    /// Zero or more values per record, each with the record's key.
    public func flatMapValues<V2>(_ transform: @escaping (Value) -> [V2]) -> KStream<Key, V2> {
        self.chain("flatMapValues", keyChanged: self.keyChanged) { next in
            FlatMapOperator(next: next, transform: { key, value in transform(value).map { KeyValue(key, $0) } })
        }
    }

    /// A new key computed from each record.
    public func selectKey<K2>(_ selector: @escaping (Key, Value) -> K2) -> KStream<K2, Value> {
        self.chain("selectKey", keyChanged: true) { MapOperator(next: $0, transform: { KeyValue(selector($0, $1), $1) }) }
    }

    /// Runs `action` on each record and passes the records on.
    public func peek(_ action: @escaping (Key, Value) -> Void) -> KStream<Key, Value> {
        self.chain("peek", keyChanged: self.keyChanged) { PeekOperator(next: $0, action: action) }
    }

    /// Runs `action` on each record: the end of the stream.
    public func foreach(_ action: @escaping (Key, Value) -> Void) {
        _ = self.chain("foreach", keyChanged: self.keyChanged) { (_: Operator<Key, Value>) in
            PeekOperator(next: DiscardOperator<Key, Value>(), action: action)
        }
    }

    /// Runs `action` on each batch of records as it passes (a sink of one's own: a metric, a bulk write).
    public func foreachBatch(_ action: @escaping ([StreamRecord<Key, Value>]) -> Void) {
        _ = self.chain("foreachBatch", keyChanged: self.keyChanged) { (_: Operator<Key, Value>) in BatchActionOperator<Key, Value>(action: action) }
    }

    /// One stream per predicate: a record goes to the first branch whose predicate holds, or is dropped.
    public func branch(_ predicates: [(Key, Value) -> Bool]) -> [KStream<Key, Value>] {
        let branchNode = self.builder.add(name: "branch", parents: [self.node]) { _, children in
            BranchOperator(predicates: predicates, branches: children.map { $0 as! Operator<Key, Value> })
        }
        // Each branch is a pass-through node, so that the branch operator has exactly one child per predicate.
        return predicates.indices.map { index in
            let id = self.builder.add(name: "branch-\(index)", parents: [branchNode]) { _, children in
                FilterOperator(next: downstreamOperator(children, Key.self, Value.self), predicate: { _, _ in true })
            }
            return KStream(builder: self.builder, node: id, keyChanged: self.keyChanged)
        }
    }

    /// The records of both streams, interleaved.
    public func merge(_ other: KStream<Key, Value>) -> KStream<Key, Value> {
        let id = self.builder.add(name: "merge", parents: [self.node, other.node]) { _, children in
            FilterOperator(next: downstreamOperator(children, Key.self, Value.self), predicate: { _, _ in true })
        }
        return KStream(builder: self.builder, node: id, keyChanged: self.keyChanged || other.keyChanged)
    }

    /// Writes the stream to `topic`, partitioned by murmur2 of the key bytes (Kafka's default) unless
    /// `partitioner` picks the partition from the key, the value and the partition count.
    public func to(_ topic: String, key: Serde<Key>, value: Serde<Value>, partitioner: ((Key, Value, Int32) -> Int32)? = nil) {
        _ = self.builder.add(name: "sink-\(topic)", kind: .sink(SinkSpec(topic: topic, isInternal: false)), parents: [self.node]) { _, _ in
            SinkOperator(topic: topic, keySerde: key, valueSerde: value, partitioner: partitioner, carriesWatermarks: false)
        }
    }

    /// Writes the stream through an internal topic partitioned by key, and reads it back: each key
    /// then lives on one task. Event time crosses with it.
    public func repartition(key: Serde<Key>, value: Serde<Value>, partitionCount: Int32? = nil, name: String? = nil) -> KStream<Key, Value> {
        let suffix = self.builder.uniqueName(name ?? "repartition-\(self.builder.nodes.count)") + "-repartition"
        let sink = self.builder.add(name: "sink-\(suffix)", kind: .sink(SinkSpec(topic: suffix, isInternal: true)), parents: [self.node]) { context, _ in
            SinkOperator(topic: context.internalTopicName(suffix), keySerde: key, valueSerde: value, partitioner: nil, carriesWatermarks: true)
        }
        self.builder.internalTopics.append(InternalTopic(suffix: suffix, kind: .repartition(partitionCount: partitionCount), writer: sink))
        let source = self.builder.addSource(topic: suffix, isInternal: true, outOfOrdernessMs: 0, key: key, value: value, timestamp: nil)
        return KStream(builder: self.builder, node: source, keyChanged: false)
    }

    /// Groups by the current key, repartitioning first when an earlier step may have changed keys.
    public func groupByKey(key: Serde<Key>, value: Serde<Value>) -> KGroupedStream<Key, Value> where Key: Hashable {
        let stream = self.keyChanged ? self.repartition(key: key, value: value) : self
        return KGroupedStream(stream: stream, keySerde: key, valueSerde: value)
    }

    /// Groups by a new key, through a repartition topic.
    public func groupBy<K2: Hashable>(_ selector: @escaping (Key, Value) -> K2, key: Serde<K2>, value: Serde<Value>) -> KGroupedStream<K2, Value> {
        self.selectKey(selector).groupByKey(key: key, value: value)
    }
}
