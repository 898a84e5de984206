import SluiceCore

/// One input partition of a task and its event-time state.
struct TaskInput {
    let topicPartition: TopicPartition
    let source: RecordSource
    /// Disorder accepted before the watermark passes a record (ms); source topics only.
    let outOfOrdernessMs: Int64
    /// For repartition topics: how many upstream tasks write to it (each reports its watermark).
    let upstreamTaskCount: Int?
    /// The next offset to read.
    var offset: Int64 = 0
    /// The greatest event time read so far.
    var maxTimestamp = Watermark.unknown
    var upstreamWatermarks: [Int64] = []
    /// Processing time (ms) data last arrived, for the idleness timeout.
    var lastDataMs: Int64 = 0
    /// Bounded runs: the offset where the input ends.
    var endOffset: Int64?

    init(topicPartition: TopicPartition, source: RecordSource, outOfOrdernessMs: Int64, upstreamTaskCount: Int?) {
        self.topicPartition = topicPartition
        self.source = source
        self.outOfOrdernessMs = outOfOrdernessMs
        self.upstreamTaskCount = upstreamTaskCount
        if let upstreamTaskCount { self.upstreamWatermarks = Array(repeating: Watermark.unknown, count: upstreamTaskCount) }
    }

    /// The partition's watermark: the greatest event time less the disorder (and 1 ms, as Flink's
    /// bounded-out-of-orderness strategy), or for a repartition topic the least watermark of its writers.
    var watermark: Int64 {
        if self.upstreamTaskCount != nil { return self.upstreamWatermarks.min() ?? Watermark.unknown }
        guard self.maxTimestamp != Watermark.unknown else { return Watermark.unknown }
        if self.maxTimestamp == Watermark.end { return Watermark.end }
        return self.maxTimestamp &- self.outOfOrdernessMs &- 1
    }

    /// Whether a bounded input has been read to its end.
    var isFinished: Bool {
        if self.upstreamTaskCount != nil { return self.upstreamWatermarks.allSatisfy { $0 == Watermark.end } }
        guard let endOffset = self.endOffset else { return false }
        return self.offset >= endOffset
    }

    var position: InputPosition {
        InputPosition(topic: self.topicPartition.topic, partition: self.topicPartition.partition, offset: self.offset,
                      maxTimestamp: self.maxTimestamp, upstreamWatermarks: self.upstreamTaskCount == nil ? nil : self.upstreamWatermarks)
    }
}
