/// An unbounded stream of key-value records in event time: Kafka Streams' `KStream`.
///
/// The per-record operations are `@inlinable` and run as one closure per batch built here: in the
/// module that builds the pipeline they are specialised for its key and value types, so records
/// move through them without generic indirection.
public struct KStream<Key, Value> {
    @usableFromInline let builder: StreamsBuilder
    @usableFromInline let node: Int
    /// Whether an operation since the source may have changed keys: grouping then repartitions so
    /// that each key lands on one task.
    @usableFromInline let keyChanged: Bool

    @usableFromInline
    init(builder: StreamsBuilder, node: Int, keyChanged: Bool) {
        self.builder = builder
        self.node = node
        self.keyChanged = keyChanged
    }

    /// A node that turns each batch into another with `transform`.
    @inlinable
    func transformBatches<K2, V2>(_ name: String, keyChanged: Bool,
                                  _ transform: @escaping (consuming [StreamRecord<Key, Value>]) -> [StreamRecord<K2, V2>]) -> KStream<K2, V2> {
        KStream<K2, V2>(builder: self.builder, node: self.builder.addBatchTransform(name: name, parent: self.node, transform), keyChanged: keyChanged)
    }

    private func chain<K2, V2>(_ name: String, keyChanged: Bool,
                               _ make: @escaping (Operator<K2, V2>) -> OperatorNode) -> KStream<K2, V2> {
        let id = self.builder.add(name: name, parents: [self.node]) { _, children in make(downstreamOperator(children, K2.self, V2.self)) }
        return KStream<K2, V2>(builder: self.builder, node: id, keyChanged: keyChanged)
    }

    /// A new key and value per record.
    @inlinable
    public func map<K2, V2>(_ transform: @escaping (consuming Key, consuming Value) -> KeyValue<K2, V2>) -> KStream<K2, V2> {
        self.transformBatches("map", keyChanged: true) { records in
            var output: [StreamRecord<K2, V2>] = []
            output.reserveCapacity(records.count)
            records.consumeEachRecord { key, value, timestamp, watermark in
                let pair = transform(consume key, consume value)
                output.append(StreamRecord(key: pair.key, value: pair.value, timestamp: timestamp, watermark: watermark))
            }
            return output
        }
    }

    /// A new value per record; keys unchanged, so no repartitioning follows.
    @inlinable
    public func mapValues<V2>(_ transform: @escaping (consuming Value) -> V2) -> KStream<Key, V2> {
        self.transformBatches("mapValues", keyChanged: self.keyChanged) { records in
            var output: [StreamRecord<Key, V2>] = []
            output.reserveCapacity(records.count)
            records.consumeEachRecord { key, value, timestamp, watermark in
                output.append(StreamRecord(key: key, value: transform(consume value), timestamp: timestamp, watermark: watermark))
            }
            return output
        }
    }

    /// A new value per record, computed from the key too.
    @inlinable
    public func mapValues<V2>(withKey transform: @escaping (Key, Value) -> V2) -> KStream<Key, V2> {
        self.transformBatches("mapValues", keyChanged: self.keyChanged) { records in
            var output: [StreamRecord<Key, V2>] = []
            output.reserveCapacity(records.count)
            records.consumeEachRecord { key, value, timestamp, watermark in
                let newValue = transform(key, value)
                output.append(StreamRecord(key: key, value: newValue, timestamp: timestamp, watermark: watermark))
            }
            return output
        }
    }

    /// A new value per record, dropping the records for which `transform` returns nil (no array per
    /// record, unlike `flatMapValues`).
    @inlinable
    public func compactMapValues<V2>(_ transform: @escaping (consuming Value) -> V2?) -> KStream<Key, V2> {
        self.transformBatches("compactMapValues", keyChanged: self.keyChanged) { records in
            var output: [StreamRecord<Key, V2>] = []
            output.reserveCapacity(records.count)
            records.consumeEachRecord { key, value, timestamp, watermark in
                if let value = transform(consume value) {
                    output.append(StreamRecord(key: key, value: value, timestamp: timestamp, watermark: watermark))
                }
            }
            return output
        }
    }

    /// The records for which `predicate` holds.
    @inlinable
    public func filter(_ predicate: @escaping (Key, Value) -> Bool) -> KStream<Key, Value> {
        self.transformBatches("filter", keyChanged: self.keyChanged) { records in
            // In place: the records kept are not copied.
            var kept = records
            kept.removeAll { !predicate($0.key, $0.value) }
            return kept
        }
    }

    /// The records for which `predicate` does not hold.
    @inlinable
    public func filterNot(_ predicate: @escaping (Key, Value) -> Bool) -> KStream<Key, Value> {
        self.filter { !predicate($0, $1) }
    }

    /// Zero or more records per record.
    @inlinable
    public func flatMap<K2, V2>(_ transform: @escaping (Key, Value) -> [KeyValue<K2, V2>]) -> KStream<K2, V2> {
        self.transformBatches("flatMap", keyChanged: true) { records in
            var output: [StreamRecord<K2, V2>] = []
            output.reserveCapacity(records.count)
            records.consumeEachRecord { key, value, timestamp, watermark in
                for pair in transform(key, value) {
                    output.append(StreamRecord(key: pair.key, value: pair.value, timestamp: timestamp, watermark: watermark))
                }
            }
            return output
        }
    }

    /// Zero or more values per record, each with the record's key.
    @inlinable
    public func flatMapValues<V2>(_ transform: @escaping (Value) -> [V2]) -> KStream<Key, V2> {
        self.transformBatches("flatMapValues", keyChanged: self.keyChanged) { records in
            var output: [StreamRecord<Key, V2>] = []
            output.reserveCapacity(records.count)
            records.consumeEachRecord { key, value, timestamp, watermark in
                for newValue in transform(value) {
                    output.append(StreamRecord(key: key, value: newValue, timestamp: timestamp, watermark: watermark))
                }
            }
            return output
        }
    }

    /// A new key computed from each record.
    @inlinable
    public func selectKey<K2>(_ selector: @escaping (Key, Value) -> K2) -> KStream<K2, Value> {
        self.transformBatches("selectKey", keyChanged: true) { records in
            var output: [StreamRecord<K2, Value>] = []
            output.reserveCapacity(records.count)
            records.consumeEachRecord { key, value, timestamp, watermark in
                output.append(StreamRecord(key: selector(key, value), value: value, timestamp: timestamp, watermark: watermark))
            }
            return output
        }
    }

    /// Runs `action` on each record and passes the records on.
    @inlinable
    public func peek(_ action: @escaping (Key, Value) -> Void) -> KStream<Key, Value> {
        self.transformBatches("peek", keyChanged: self.keyChanged) { records in
            for record in records { action(record.key, record.value) }
            return records
        }
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
    @inlinable
    public func to(_ topic: String, key: Serde<Key>, value: Serde<Value>, partitioner: ((Key, Value, Int32) -> Int32)? = nil) {
        self.addSink(topic, key: key, value: value, partitioner: partitioner) { sink, records in sink.processRecords(records) }
    }

    @usableFromInline
    func addSink(_ topic: String, key: Serde<Key>, value: Serde<Value>, partitioner: ((Key, Value, Int32) -> Int32)?,
                 specialized: @escaping (SinkOperator<Key, Value>, [StreamRecord<Key, Value>]) -> Void) {
        _ = self.builder.add(name: "sink-\(topic)", kind: .sink(SinkSpec(topic: topic, isInternal: false)), parents: [self.node]) { _, _ in
            SinkOperator(topic: topic, keySerde: key, valueSerde: value, partitioner: partitioner, carriesWatermarks: false, processBatch: specialized)
        }
    }

    /// Writes the stream through an internal topic partitioned by key, and reads it back: each key
    /// then lives on one task. Event time crosses with it.
    @inlinable
    public func repartition(key: Serde<Key>, value: Serde<Value>, partitionCount: Int32? = nil, name: String? = nil) -> KStream<Key, Value> {
        self.addRepartition(key: key, value: value, partitionCount: partitionCount, name: name,
                            specializedSink: { sink, records in sink.processRecords(records) },
                            specializedSource: { source, batch, offsets, partition, observe, watermarkRecord in
                                try source.processRecords(batch: batch, offsets: offsets, from: partition, observe: observe,
                                                          watermarkRecord: watermarkRecord)
                            })
    }

    @usableFromInline
    func addRepartition(key: Serde<Key>, value: Serde<Value>, partitionCount: Int32?, name: String?,
                        specializedSink: @escaping (SinkOperator<Key, Value>, [StreamRecord<Key, Value>]) -> Void,
                        specializedSource: @escaping SourceOperator<Key, Value>.BatchProcessor) -> KStream<Key, Value> {
        let suffix = self.builder.uniqueName(name ?? "repartition-\(self.builder.nodes.count)") + "-repartition"
        let sink = self.builder.add(name: "sink-\(suffix)", kind: .sink(SinkSpec(topic: suffix, isInternal: true)), parents: [self.node]) { context, _ in
            SinkOperator(topic: context.internalTopicName(suffix), keySerde: key, valueSerde: value, partitioner: nil, carriesWatermarks: true,
                         processBatch: specializedSink)
        }
        self.builder.internalTopics.append(InternalTopic(suffix: suffix, kind: .repartition(partitionCount: partitionCount), writer: sink))
        let source = self.builder.addSource(topic: suffix, isInternal: true, outOfOrdernessMs: 0, key: key, value: value, timestamp: nil,
                                            specialized: specializedSource)
        return KStream(builder: self.builder, node: source, keyChanged: false)
    }

    /// Groups by the current key, repartitioning first when an earlier step may have changed keys.
    @inlinable
    public func groupByKey(key: Serde<Key>, value: Serde<Value>) -> KGroupedStream<Key, Value> where Key: Hashable {
        let stream = self.keyChanged ? self.repartition(key: key, value: value) : self
        return KGroupedStream(stream: stream, keySerde: key, valueSerde: value)
    }

    /// Groups by a new key, through a repartition topic.
    @inlinable
    public func groupBy<K2: Hashable>(_ selector: @escaping (Key, Value) -> K2, key: Serde<K2>, value: Serde<Value>) -> KGroupedStream<K2, Value> {
        self.selectKey(selector).groupByKey(key: key, value: value)
    }
}
