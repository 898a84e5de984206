/// A stream grouped by key, ready to aggregate: Kafka Streams' `KGroupedStream`.
public struct KGroupedStream<Key: Hashable, Value> {
    @usableFromInline let stream: KStream<Key, Value>
    @usableFromInline let keySerde: Serde<Key>
    @usableFromInline let valueSerde: Serde<Value>

    @usableFromInline
    init(stream: KStream<Key, Value>, keySerde: Serde<Key>, valueSerde: Serde<Value>) {
        self.stream = stream
        self.keySerde = keySerde
        self.valueSerde = valueSerde
    }

    /// A running aggregate per key: a table whose every update flows downstream.
    public func aggregate<Accumulator, Result>(_ aggregator: Aggregator<Value, Accumulator, Result>, named name: String? = nil) -> KTable<Key, Result> {
        let builder = self.stream.builder
        let storeName = builder.uniqueName(name ?? "aggregate-\(builder.nodes.count)")
        let suffix = "\(storeName)-changelog"
        let keySerde = self.keySerde
        let id = builder.add(name: storeName, parents: [self.stream.node]) { context, children in
            KeyValueAggregateOperator(
                aggregator: aggregator,
                store: KeyValueStore(name: storeName, changelogTopic: context.internalTopicName(suffix), keySerde: keySerde,
                                     valueSerde: aggregator.accumulatorSerde),
                next: downstreamOperator(children, Key.self, Result.self))
        }
        builder.internalTopics.append(InternalTopic(suffix: suffix, kind: .changelog, writer: id))
        return KTable(builder: builder, node: id)
    }

    /// How many records per key.
    public func count(named name: String? = nil) -> KTable<Key, Int64> {
        self.aggregate(.count(), named: name)
    }

    /// Combines the values of each key with `combine`.
    public func reduce(_ combine: @escaping (Value, Value) -> Value, serde: Serde<Value>, named name: String? = nil) -> KTable<Key, Value> {
        self.aggregate(.reducing(combine, serde: serde), named: name)
    }

    /// Windows the groups in event time.
    public func windowedBy(_ windows: Windows, trigger: Trigger = .onWatermark, allowedLatenessMs: Int64 = 0) -> TimeWindowedKStream<Key, Value> {
        TimeWindowedKStream(grouped: self, windows: windows, trigger: trigger, allowedLatenessMs: allowedLatenessMs)
    }
}

/// A grouped stream cut into windows: Kafka Streams' `TimeWindowedKStream` and `SessionWindowedKStream`.
public struct TimeWindowedKStream<Key: Hashable, Value> {
    let grouped: KGroupedStream<Key, Value>
    let windows: Windows
    let trigger: Trigger
    let allowedLatenessMs: Int64

    /// An aggregate per key and window. `@inlinable` so that the window operator's record loop is
    /// specialised in the pipeline's module.
    @inlinable
    public func aggregate<Accumulator, Result>(_ aggregator: Aggregator<Value, Accumulator, Result>, named name: String? = nil)
        -> KTable<Windowed<Key>, Result> {
        self.addAggregate(
            aggregator, named: name,
            specialized: { (windowOperator: WindowAggregateOperator<Key, Value, Accumulator, Result>, records) in
                windowOperator.processRecords(records)
            },
            specializedSessions: { (sessionOperator: SessionAggregateOperator<Key, Value, Accumulator, Result>, records) in
                sessionOperator.processRecords(records)
            },
            specializedAdvance: { (windowOperator: WindowAggregateOperator<Key, Value, Accumulator, Result>, watermark) in
                windowOperator.advance(to: watermark)
            },
            specializedSessionsAdvance: { (sessionOperator: SessionAggregateOperator<Key, Value, Accumulator, Result>, watermark) in
                sessionOperator.advance(to: watermark)
            },
            specializedFlush: { (store: WindowStore<Key, Accumulator>, context) in store.flushEntries(context) })
    }

    @usableFromInline
    func addAggregate<Accumulator, Result>(
        _ aggregator: Aggregator<Value, Accumulator, Result>, named name: String?,
        specialized: @escaping (WindowAggregateOperator<Key, Value, Accumulator, Result>, [StreamRecord<Key, Value>]) -> Void,
        specializedSessions: @escaping (SessionAggregateOperator<Key, Value, Accumulator, Result>, [StreamRecord<Key, Value>]) -> Void,
        specializedAdvance: @escaping (WindowAggregateOperator<Key, Value, Accumulator, Result>, Int64) -> Void,
        specializedSessionsAdvance: @escaping (SessionAggregateOperator<Key, Value, Accumulator, Result>, Int64) -> Void,
        specializedFlush: @escaping (WindowStore<Key, Accumulator>, TaskContext) -> Void
    ) -> KTable<Windowed<Key>, Result> {
        let builder = self.grouped.stream.builder
        let storeName = builder.uniqueName(name ?? "window-aggregate-\(builder.nodes.count)")
        let suffix = "\(storeName)-changelog"
        let (keySerde, valueSerde, windows, trigger, lateness) = (self.grouped.keySerde, self.grouped.valueSerde, self.windows, self.trigger,
                                                                   self.allowedLatenessMs)
        let id = builder.add(name: storeName, parents: [self.grouped.stream.node]) { context, children in
            try windows.validate()
            guard lateness >= 0 else { throw StreamsError(.invalidTopology, "allowed lateness must not be negative") }
            let next = downstreamOperator(children, Windowed<Key>.self, Result.self)
            let changelog = context.internalTopicName(suffix)
            switch windows {
            case .session:
                guard aggregator.merge != nil else {
                    throw StreamsError(.invalidTopology, "session windows merge aggregates: \(storeName) needs an aggregator with merge")
                }
                return SessionAggregateOperator(
                    windows: windows, trigger: trigger, allowedLatenessMs: lateness, aggregator: aggregator,
                    store: SessionStore(name: storeName, changelogTopic: changelog, keySerde: keySerde, accumulatorSerde: aggregator.accumulatorSerde),
                    valueSerde: valueSerde, next: next, processBatch: specializedSessions, advanceSpecialized: specializedSessionsAdvance)
            case .sliding(let size):
                return SlidingAggregateOperator(
                    size: size, allowedLatenessMs: lateness, aggregator: aggregator,
                    store: KeyValueStore(name: storeName, changelogTopic: changelog, keySerde: keySerde, valueSerde: .slidingEntries(valueSerde)),
                    keySerde: keySerde, valueSerde: valueSerde, next: next)
            default:
                return WindowAggregateOperator(
                    windows: windows, trigger: trigger, allowedLatenessMs: lateness, aggregator: aggregator,
                    store: WindowStore(name: storeName, changelogTopic: changelog, keySerde: keySerde, accumulatorSerde: aggregator.accumulatorSerde,
                                       flushSpecialized: specializedFlush),
                    valueSerde: valueSerde, next: next, processBatch: specialized, advanceSpecialized: specializedAdvance)
            }
        }
        builder.internalTopics.append(InternalTopic(suffix: suffix, kind: .changelog, writer: id))
        return KTable(builder: builder, node: id)
    }

    /// How many records per key and window.
    @inlinable
    public func count(named name: String? = nil) -> KTable<Windowed<Key>, Int64> {
        self.aggregate(.count(), named: name)
    }

    /// Combines the values of each key and window.
    public func reduce(_ combine: @escaping (Value, Value) -> Value, serde: Serde<Value>, named name: String? = nil) -> KTable<Windowed<Key>, Value> {
        self.aggregate(.reducing(combine, serde: serde), named: name)
    }
}

/// A table: the latest value per key, as a changelog stream of updates (Kafka Streams' `KTable`).
/// Aggregations yield tables; `toStream()` turns one back into the stream of its changes.
public struct KTable<Key, Value> {
    let builder: StreamsBuilder
    let node: Int

    /// The table's updates as a stream.
    public func toStream() -> KStream<Key, Value> {
        KStream(builder: self.builder, node: self.node, keyChanged: false)
    }
}

extension Serde {
    /// A windowed key: the key's bytes followed by the window's start and end (8 bytes big-endian each).
    public static func windowed<Key>(_ key: Serde<Key>) -> Serde<Windowed<Key>> where Value == Windowed<Key> {
        Serde<Windowed<Key>>(
            serialize: { WindowCodec.encodeKey($0, key) },
            deserialize: { buffer in
                guard let buffer else { throw DeserializationError("a windowed key cannot be null") }
                return try WindowCodec.decodeKey(buffer, key)
            }
        )
    }
}
