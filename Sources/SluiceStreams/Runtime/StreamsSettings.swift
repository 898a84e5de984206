/// How a pipeline runs. Defaults follow Kafka Streams where it has the same knob.
public struct StreamsSettings: Sendable {
    public enum Guarantee: String, Sendable, CaseIterable {
        /// Output, state changes and input offsets commit in one log transaction; inputs are read read_committed.
        case exactlyOnce = "exactly-once"
        /// Output and state are made durable before offsets are committed: nothing lost, duplicates possible after a crash.
        case atLeastOnce = "at-least-once"
    }

    /// The application's name: the prefix of its internal topics and the key of its commits.
    public var applicationId: String
    public var guarantee: Guarantee = .exactlyOnce
    /// Stream threads; tasks are spread over them.
    public var threadCount: Int = 1
    /// Milliseconds between commits (Kafka Streams: 100 under exactly-once, 30 000 otherwise).
    public var commitIntervalMs: Int64 = 100
    /// Micro-batch mode: each interval's input is processed and committed as one batch.
    public var microBatch: MicroBatchSettings?
    /// Where stores keep local snapshots.
    public var stateDirectory: String
    /// Milliseconds between store snapshots (0: at every commit).
    public var snapshotIntervalMs: Int64 = 60_000
    /// Bytes read from one input partition per poll.
    public var fetchBytesMax: Int = 1 << 20
    /// Bytes of input records a task takes per poll before yielding to the others: the bound of
    /// what sits between the source and the operators.
    public var taskBatchBytesMax: Int = 1 << 20
    /// A partition without new data for this long stops holding back the task's watermark.
    public var idleTimeoutMs: Int64 = 5_000
    /// Stop once every input is read to the end offsets it had at start (bounded runs, tests,
    /// batch jobs): the watermark then moves to the end of time, completing every window.
    public var stopAtEnd = false
    /// Milliseconds a thread pauses after each poll that read records: a crude throughput cap, for
    /// tests that must catch a pipeline mid-run and for demos. 0 (the default) never pauses.
    public var pollPauseMs: Int64 = 0

    public init(applicationId: String, stateDirectory: String) {
        self.applicationId = applicationId
        self.stateDirectory = stateDirectory
    }

    func deadLetterTopic(_ applicationId: String) -> String { "\(applicationId)-dead-letters" }
    func lateRecordsTopic(_ applicationId: String) -> String { "\(applicationId)-late-records" }
    /// Where commits (input positions, event time, micro-batch ids) are recorded.
    public var offsetsTopic: String { "\(self.applicationId)-offsets" }

    func validate() throws(StreamsError) {
        guard !self.applicationId.isEmpty, self.applicationId.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
            throw StreamsError(.invalidConfiguration, "application id \"\(self.applicationId)\" must be letters, digits, '.', '_' or '-'")
        }
        guard self.threadCount >= 1 && self.threadCount <= Self.threadCountMax else {
            throw StreamsError(.invalidConfiguration, "thread count \(self.threadCount) must be in 1...\(Self.threadCountMax)")
        }
        guard self.commitIntervalMs >= 0 else { throw StreamsError(.invalidConfiguration, "the commit interval must not be negative") }
        guard self.fetchBytesMax > 0, self.taskBatchBytesMax > 0 else {
            throw StreamsError(.invalidConfiguration, "fetch and batch sizes must be positive")
        }
        if let microBatch = self.microBatch { try microBatch.validate() }
    }

    public static let threadCountMax = 256
}

/// Micro-batching: the input of each interval forms one batch, processed and committed together,
/// numbered by a deterministic batch id (the count of batches committed before it).
public struct MicroBatchSettings: Sendable, Equatable {
    /// Milliseconds per batch.
    public var intervalMs: Int64
    /// When set, the interval adapts to the load: it shrinks while batches finish well under the
    /// target latency and grows when they take longer, within `intervalMs / 10 ... intervalMs * 10`.
    public var targetLatencyMs: Int64?

    public init(intervalMs: Int64, targetLatencyMs: Int64? = nil) {
        self.intervalMs = intervalMs
        self.targetLatencyMs = targetLatencyMs
    }

    func validate() throws(StreamsError) {
        guard self.intervalMs > 0 else { throw StreamsError(.invalidConfiguration, "the micro-batch interval must be positive") }
        if let target = self.targetLatencyMs, target <= 0 {
            throw StreamsError(.invalidConfiguration, "the target latency must be positive")
        }
    }
}
