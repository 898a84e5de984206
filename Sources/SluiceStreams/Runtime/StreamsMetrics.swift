import Metrics
import Synchronization

/// A pipeline's figures, reported through swift-metrics (whatever backend the process bootstraps)
/// and kept as plain totals that tests and the CLI read.
public final class StreamsMetrics: Sendable {
    public let recordsIn: MetricCounter
    public let recordsOut: MetricCounter
    public let lateRecords: MetricCounter
    public let deadLetterRecords: MetricCounter
    public let changelogRecords: MetricCounter
    public let restoredRecords: MetricCounter
    public let commits: MetricCounter
    /// Nanoseconds of the last commit.
    public let commitLatency: Metrics.Timer
    /// Records behind the end of the inputs, summed over tasks, as of the last poll.
    public let lag: Gauge
    /// Milliseconds between wall-clock time and the slowest task's watermark.
    public let watermarkDelay: Gauge

    /// Per stream thread: records behind and the least task watermark, as of its last commit.
    private let threadFigures = Mutex<[Int: (lag: Int64, watermark: Int64)]>([:])

    /// A thread's figures after a commit; the gauges report the application's totals.
    func record(thread: Int, lag: Int64, watermark: Int64, nowMs: Int64) {
        let (totalLag, slowest) = self.threadFigures.withLock { figures -> (Int64, Int64) in
            figures[thread] = (lag, watermark)
            return (figures.values.reduce(0) { $0 + $1.lag }, figures.values.map(\.watermark).min() ?? watermark)
        }
        self.lag.record(totalLag)
        if slowest != Watermark.unknown && slowest != Watermark.end { self.watermarkDelay.record(max(0, nowMs - slowest)) }
        self.lastLag.store(totalLag, ordering: .relaxed)
    }

    /// Records behind the end of the inputs, as of the last commits.
    public var lagRecords: Int64 { self.lastLag.load(ordering: .relaxed) }
    private let lastLag = Atomic<Int64>(0)

    init(applicationId: String) {
        let dimensions = [("application", applicationId)]
        self.recordsIn = MetricCounter("sluice_streams_records_in", dimensions)
        self.recordsOut = MetricCounter("sluice_streams_records_out", dimensions)
        self.lateRecords = MetricCounter("sluice_streams_late_records", dimensions)
        self.deadLetterRecords = MetricCounter("sluice_streams_dead_letter_records", dimensions)
        self.changelogRecords = MetricCounter("sluice_streams_changelog_records", dimensions)
        self.restoredRecords = MetricCounter("sluice_streams_restored_records", dimensions)
        self.commits = MetricCounter("sluice_streams_commits", dimensions)
        self.commitLatency = Metrics.Timer(label: "sluice_streams_commit_latency", dimensions: dimensions)
        self.lag = Gauge(label: "sluice_streams_lag_records", dimensions: dimensions)
        self.watermarkDelay = Gauge(label: "sluice_streams_watermark_delay_ms", dimensions: dimensions)
    }
}

/// A counter reported to swift-metrics that also keeps its total for the process to read.
public final class MetricCounter: Sendable {
    private let counter: Counter
    private let total = Atomic<Int>(0)

    init(_ label: String, _ dimensions: [(String, String)]) {
        self.counter = Counter(label: label, dimensions: dimensions)
    }

    public func increment(by amount: Int = 1) {
        guard amount > 0 else { return }
        self.total.add(amount, ordering: .relaxed)
        self.counter.increment(by: amount)
    }

    public var value: Int { self.total.load(ordering: .relaxed) }

    /// A counter outside any application's metrics (a benchmark's sink).
    public static func standalone(_ label: String = "sluice_counter") -> MetricCounter {
        MetricCounter(label, [])
    }
}
