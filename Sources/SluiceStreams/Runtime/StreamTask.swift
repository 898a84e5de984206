import NIOCore
import SluiceCore
import SluiceLog

/// One sub-topology on one partition: its operators, its input partitions and their event time.
/// A task runs on one stream thread; nothing in it is shared.
final class StreamTask {
    let id: TaskId
    let context: TaskContext
    private(set) var inputs: [TaskInput]
    private let operators: [OperatorNode]
    private let sources: [RecordSource]
    /// The task's watermark: the least watermark over its active inputs, never moving back.
    private(set) var watermark = Watermark.unknown
    /// Whether the task read anything since its last commit.
    var hasProgress = false

    init(id: TaskId, context: TaskContext, topology: Topology, subtopology: Subtopology, upstreamTaskCounts: [String: Int]) throws {
        self.id = id
        self.context = context
        var built: [Int: OperatorNode] = [:]
        func build(_ node: Int) throws -> OperatorNode {
            if let existing = built[node] { return existing }
            let children = try topology.nodes[node].children.map(build)
            let made = try topology.nodes[node].make(context, children)
            built[node] = made
            return made
        }
        var inputs: [TaskInput] = []
        var sources: [RecordSource] = []
        for sourceId in subtopology.sources {
            guard case .source(let spec) = topology.nodes[sourceId].kind, let source = try build(sourceId) as? RecordSource else {
                preconditionFailure("node \(sourceId) is not a source")
            }
            let topic = spec.isInternal ? context.internalTopicName(spec.topic) : spec.topic
            inputs.append(TaskInput(topicPartition: TopicPartition(topic, id.partition), source: source, outOfOrdernessMs: spec.outOfOrdernessMs,
                                    upstreamTaskCount: spec.isInternal ? upstreamTaskCounts[spec.topic] : nil))
            sources.append(source)
        }
        for node in subtopology.nodes where built[node] == nil { _ = try build(node) }
        self.inputs = inputs
        self.sources = sources
        self.operators = subtopology.nodes.compactMap { built[$0] }
    }

    private var isolation: IsolationLevel { self.context.settings.guarantee == .exactlyOnce ? .readCommitted : .readUncommitted }

    /// Opens the operators, restores the stores, and resumes the inputs from the last commit.
    func initialize(committed: TaskCommit?, nowMs: Int64) throws {
        self.context.processingTimeMs = nowMs
        for node in self.operators { try node.open(self.context) }
        for store in self.context.stores { try store.restore(self.context) }
        for index in self.inputs.indices {
            let topicPartition = self.inputs[index].topicPartition
            let bounds = try self.context.client.offsets(of: topicPartition)
            if let position = committed?.inputs.first(where: { $0.topic == topicPartition.topic && $0.partition == topicPartition.partition }) {
                self.inputs[index].offset = max(position.offset, bounds.start)
                self.inputs[index].maxTimestamp = position.maxTimestamp
                if let upstream = position.upstreamWatermarks, upstream.count == self.inputs[index].upstreamWatermarks.count {
                    self.inputs[index].upstreamWatermarks = upstream
                }
            } else {
                self.inputs[index].offset = bounds.start
            }
            self.inputs[index].lastDataMs = nowMs
            if self.context.settings.stopAtEnd && self.inputs[index].upstreamTaskCount == nil {
                self.inputs[index].endOffset = self.isolation == .readCommitted ? bounds.lastStable : bounds.highWatermark
            }
        }
        self.watermark = self.computeWatermark(nowMs: nowMs)
        for source in self.sources { source.restoreWatermark(self.watermark) }
        self.context.watermark = self.watermark
    }

    /// Whether every input of a bounded run was read to its end.
    var isFinished: Bool { self.inputs.allSatisfy(\.isFinished) }

    /// The least watermark over the inputs that still hold it back: not idle past the timeout,
    /// not finished; when all are idle, the greatest. Monotone.
    private func computeWatermark(nowMs: Int64) -> Int64 {
        if self.context.settings.stopAtEnd && self.isFinished { return Watermark.end }
        var least = Int64.max
        var greatest = Watermark.unknown
        var active = 0
        for input in self.inputs where !input.isFinished {
            greatest = max(greatest, input.watermark)
            if self.inputs.count > 1 && nowMs - input.lastDataMs >= self.context.settings.idleTimeoutMs { continue }
            least = min(least, input.watermark)
            active += 1
        }
        // When every input is idle the greatest of their watermarks holds, as Flink's watermark valve does.
        guard active > 0 else { return max(self.watermark, greatest) }
        return max(self.watermark, least)
    }

    /// Reads what the inputs have (up to the task's batch bound) and runs it through the operators.
    /// Returns the records read.
    func poll(nowMs: Int64) throws -> Int {
        self.context.processingTimeMs = nowMs
        var budget = self.context.settings.taskBatchBytesMax
        var total = 0
        for index in self.inputs.indices where budget > 0 {
            let input = self.inputs[index]
            if let end = input.endOffset, input.offset >= end { continue }
            let fetched = try self.context.client.fetch(input.topicPartition, from: input.offset,
                                                        maxBytes: min(budget, self.context.settings.fetchBytesMax), isolation: self.isolation)
            guard fetched.records.readableBytes > 0 else { continue }
            budget -= fetched.records.readableBytes
            let upper = self.inputs[index].endOffset ?? Int64.max
            var next = input.offset
            var batches = RecordBatchSequence(fetched.records)
            while let batch = try batches.next() {
                next = batch.nextOffset
                if batch.isControl { continue }
                if self.isolation == .readCommitted && fetched.isAborted(batch) { continue }
                total += try self.deliver(batch, input: index, offsets: input.offset..<upper, nowMs: nowMs)
            }
            if let end = self.inputs[index].endOffset { next = min(next, max(end, input.offset)) }
            self.inputs[index].offset = next
            self.inputs[index].lastDataMs = nowMs
            self.hasProgress = true
        }
        let watermark = self.computeWatermark(nowMs: nowMs)
        self.watermark = watermark
        self.context.watermark = watermark
        for source in self.sources { source.advanceWatermark(to: watermark) }
        if let failure = self.context.failure { throw failure }
        return total
    }

    /// Hands a batch of input `index` to its source, tracking event time record by record.
    private func deliver(_ batch: RecordBatch, input index: Int, offsets: Range<Int64>, nowMs: Int64) throws -> Int {
        let single = self.inputs.count == 1
        let isRepartition = self.inputs[index].upstreamTaskCount != nil
        return try self.inputs[index].source.process(
            batch: batch, offsets: offsets, from: self.inputs[index].topicPartition,
            observe: { eventTime in
                let before = self.watermark
                let isLater = eventTime > self.inputs[index].maxTimestamp
                if isLater { self.inputs[index].maxTimestamp = eventTime }
                // A single input's watermark moves only with its greatest event time (the task's is at least the
                // input's after every poll): no need to compute it for a record that is not later.
                if !isRepartition && (isLater || !single) {
                    let candidate = single ? self.inputs[index].watermark : self.computeWatermark(nowMs: nowMs)
                    if candidate > self.watermark { self.watermark = candidate }
                }
                return before
            },
            watermarkRecord: isRepartition ? { upstream, watermark in
                let task = Int(upstream)
                if task < self.inputs[index].upstreamWatermarks.count {
                    self.inputs[index].upstreamWatermarks[task] = max(self.inputs[index].upstreamWatermarks[task], watermark)
                }
                self.watermark = self.computeWatermark(nowMs: nowMs)
            } : nil)
    }

    /// Writes buffered output and state changes, before a commit.
    func flush() throws {
        for node in self.operators { try node.flush() }
        for store in self.context.stores { store.flush(self.context) }
        if let failure = self.context.failure { throw failure }
    }

    /// What the commit records for this task.
    var commitState: TaskCommit {
        TaskCommit(task: self.id.description, inputs: self.inputs.map(\.position))
    }

    /// After a commit: the repartition records this task has committed to having read are deleted
    /// (as Kafka Streams purges its repartition topics), so those topics do not grow without bound.
    func purgeRepartitionInputs() throws {
        for input in self.inputs where input.upstreamTaskCount != nil && input.offset > 0 {
            try self.context.client.deleteRecords(input.topicPartition, before: input.offset)
        }
    }

    /// Snapshots the stores as of the changelog they wrote (after a commit).
    func snapshotStores() throws {
        for store in self.context.stores {
            let offsets = try self.context.client.offsets(of: TopicPartition(store.changelogTopic, self.id.partition))
            try store.snapshot(self.context, changelogOffset: offsets.highWatermark)
        }
    }

    /// Read positions, for waiting on new data.
    var positions: [TopicPartition: Int64] {
        var positions: [TopicPartition: Int64] = [:]
        for input in self.inputs where !(input.endOffset.map { input.offset >= $0 } ?? false) { positions[input.topicPartition] = input.offset }
        return positions
    }

    /// Records not read yet on the inputs (lag), as of now.
    func lag() -> Int64 {
        var lag: Int64 = 0
        for input in self.inputs {
            if let offsets = try? self.context.client.offsets(of: input.topicPartition) {
                lag += max(0, (self.isolation == .readCommitted ? offsets.lastStable : offsets.highWatermark) - input.offset)
            }
        }
        return lag
    }
}
