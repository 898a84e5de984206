/// Builds a topology with a typed DSL, as Kafka Streams' `StreamsBuilder` does:
///
/// ```swift
/// let builder = StreamsBuilder()
/// builder.stream("clicks", key: .string, value: .string)
///     .groupByKey(key: .string, value: .string)
///     .windowedBy(.tumbling(size: 60_000))
///     .count()
///     .toStream()
///     .to("clicks-per-minute", key: .windowed(.string), value: .int64)
/// let topology = try builder.build()
/// ```
public final class StreamsBuilder: @unchecked Sendable {
    var nodes: [TopologyNode] = []
    var internalTopics: [InternalTopic] = []
    private var names: Set<String> = []

    public init() {}

    /// A stream of the records of `topic`. Event time is the record's timestamp unless `timestamp`
    /// reads it from the key and value (given the record's timestamp); the watermark trails the
    /// greatest event time by `outOfOrdernessMs`.
    @inlinable
    public func stream<Key, Value>(
        _ topic: String, key: Serde<Key>, value: Serde<Value>, outOfOrdernessMs: Int64 = 0,
        timestamp: ((Key, Value, Int64) -> Int64)? = nil
    ) -> KStream<Key, Value> {
        let id = self.addSource(topic: topic, isInternal: false, outOfOrdernessMs: outOfOrdernessMs, key: key, value: value, timestamp: timestamp) {
            source, batch, offsets, partition, observe, watermarkRecord in
            try source.processRecords(batch: batch, offsets: offsets, from: partition, observe: observe, watermarkRecord: watermarkRecord)
        }
        return KStream(builder: self, node: id, keyChanged: false)
    }

    @usableFromInline
    func addSource<Key, Value>(topic: String, isInternal: Bool, outOfOrdernessMs: Int64, key: Serde<Key>, value: Serde<Value>,
                               timestamp: ((Key, Value, Int64) -> Int64)?,
                               specialized: SourceOperator<Key, Value>.BatchProcessor? = nil) -> Int {
        let spec = SourceSpec(topic: topic, isInternal: isInternal, outOfOrdernessMs: outOfOrdernessMs)
        return self.add(name: "source-\(topic)", kind: .source(spec), parents: []) { _, children in
            SourceOperator(keySerde: key, valueSerde: value, timestamp: timestamp, next: downstreamOperator(children, Key.self, Value.self),
                           processBatch: specialized)
        }
    }

    /// Adds a node that maps batches with `transform`.
    @usableFromInline
    func addBatchTransform<Key, Value, K2, V2>(name: String, parent: Int,
                                               _ transform: @escaping (consuming [StreamRecord<Key, Value>]) -> [StreamRecord<K2, V2>]) -> Int {
        self.add(name: name, parents: [parent]) { _, children in
            BatchTransformOperator(next: downstreamOperator(children, K2.self, V2.self), transform: transform)
        }
    }

    /// Adds a node under `parents`; `make` builds its operator per task.
    func add(name: String, kind: TopologyNode.Kind = .processor, parents: [Int],
             make: @escaping (TaskContext, [OperatorNode]) throws -> OperatorNode) -> Int {
        let id = self.nodes.count
        self.nodes.append(TopologyNode(id: id, name: self.uniqueName(name), kind: kind, parents: parents, make: make))
        for parent in parents { self.nodes[parent].children.append(id) }
        return id
    }

    /// A name not used yet in this topology: `name`, `name-2`, `name-3`...
    func uniqueName(_ name: String) -> String {
        var candidate = name
        var suffix = 2
        while self.names.contains(candidate) {
            candidate = "\(name)-\(suffix)"
            suffix += 1
        }
        self.names.insert(candidate)
        return candidate
    }

    /// The finished topology.
    public func build() throws(StreamsError) -> Topology {
        try Topology(nodes: self.nodes, internalTopics: self.internalTopics)
    }
}
