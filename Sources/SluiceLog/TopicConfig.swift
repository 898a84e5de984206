import SluiceCore

/// How a topic's old data goes away: Kafka's `cleanup.policy`.
public struct CleanupPolicy: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Whole segments are deleted by time and size retention.
    public static let delete = CleanupPolicy(rawValue: 1)
    /// Only the latest value per key is kept; tombstones go after `deleteRetentionMs`.
    public static let compact = CleanupPolicy(rawValue: 2)

    /// Parses Kafka's spelling: `delete`, `compact` or `compact,delete`.
    public init(kafkaName: String) throws(SluiceError) {
        var policy: CleanupPolicy = []
        for part in kafkaName.split(separator: ",") {
            switch part.trimmingCharacters(in: " ") {
            case "delete": policy.insert(.delete)
            case "compact": policy.insert(.compact)
            default: throw SluiceError(.invalidConfiguration, "cleanup policy '\(part)' is not delete or compact")
            }
        }
        guard !policy.isEmpty else { throw SluiceError(.invalidConfiguration, "cleanup policy is empty") }
        self = policy
    }

    public var kafkaName: String {
        switch self {
        case .compact: "compact"
        case [.compact, .delete]: "compact,delete"
        default: "delete"
        }
    }
}

/// Per-topic settings, named and defaulted as Kafka's topic configs are.
public struct TopicConfig: Sendable, Hashable, Codable {
    /// Partitions of the topic.
    public var partitionCount: Int32
    /// Segments whose newest record is older than this are deleted (`retention.ms`); -1 keeps all.
    public var retentionMs: Int64 = 7 * 24 * 3600 * 1000
    /// Oldest segments are deleted while the partition is larger than this (`retention.bytes`); -1 keeps all.
    public var retentionBytes: Int64 = -1
    public var cleanupPolicy: CleanupPolicy = .delete
    /// A segment rolls when it would grow past this (`segment.bytes`).
    public var segmentBytes: Int64 = 1024 * 1024 * 1024
    /// A segment rolls when its first record is older than this (`segment.ms`).
    public var segmentMs: Int64 = 7 * 24 * 3600 * 1000
    /// Tombstones stay readable this long after compaction first sees them (`delete.retention.ms`).
    public var deleteRetentionMs: Int64 = 24 * 3600 * 1000
    /// A record is not compacted before it is this old (`min.compaction.lag.ms`).
    public var minCompactionLagMs: Int64 = 0
    /// Bytes between two offset-index entries (`index.interval.bytes`).
    public var indexIntervalBytes: Int32 = 4096
    /// The largest batch a producer may append (`max.message.bytes`).
    public var maxMessageBytes: Int32 = 1024 * 1024 + 12
    /// Whether the log stamps batches with its own clock (`message.timestamp.type=LogAppendTime`).
    public var logAppendTime: Bool = false
    /// The topic's id (KIP-516), 16 bytes as 32 hex digits; assigned when the topic is created.
    public var topicId: String?

    public init(partitionCount: Int32 = 1) {
        self.partitionCount = partitionCount
    }

    /// Bounds every value; the message names the Kafka config key.
    public func validate() throws(SluiceError) {
        func check(_ ok: Bool, _ message: String) throws(SluiceError) {
            if !ok { throw SluiceError(.invalidConfiguration, message) }
        }
        try check(self.partitionCount >= 1 && self.partitionCount <= Self.partitionCountMax,
                  "partitions must be between 1 and \(Self.partitionCountMax), got \(self.partitionCount)")
        try check(self.retentionMs >= -1, "retention.ms must be -1 or positive, got \(self.retentionMs)")
        try check(self.retentionBytes >= -1, "retention.bytes must be -1 or positive, got \(self.retentionBytes)")
        try check(self.segmentBytes >= Self.segmentBytesMin && self.segmentBytes <= Int64(Int32.max),
                  "segment.bytes must be between \(Self.segmentBytesMin) and \(Int32.max), got \(self.segmentBytes)")
        try check(self.segmentMs >= 1, "segment.ms must be positive, got \(self.segmentMs)")
        try check(self.deleteRetentionMs >= 0, "delete.retention.ms must be >= 0, got \(self.deleteRetentionMs)")
        try check(self.minCompactionLagMs >= 0, "min.compaction.lag.ms must be >= 0, got \(self.minCompactionLagMs)")
        try check(self.indexIntervalBytes >= 0, "index.interval.bytes must be >= 0, got \(self.indexIntervalBytes)")
        try check(self.maxMessageBytes >= 0 && Int(self.maxMessageBytes) <= Limits.batchBytesMax,
                  "max.message.bytes must be between 0 and \(Limits.batchBytesMax), got \(self.maxMessageBytes)")
    }

    /// The most partitions one topic may have.
    public static let partitionCountMax: Int32 = 10_000
    /// The smallest segment size accepted (Kafka's floor is 14 bytes; tests use small segments).
    public static let segmentBytesMin: Int64 = 1024

    /// Applies `key=value` overrides in Kafka's config names.
    public mutating func apply(_ key: String, _ value: String) throws(SluiceError) {
        func int64() throws(SluiceError) -> Int64 {
            guard let number = Int64(value) else {
                throw SluiceError(.invalidConfiguration, "\(key) must be an integer, got '\(value)'")
            }
            return number
        }
        switch key {
        case "retention.ms": self.retentionMs = try int64()
        case "retention.bytes": self.retentionBytes = try int64()
        case "cleanup.policy": self.cleanupPolicy = try CleanupPolicy(kafkaName: value)
        case "segment.bytes": self.segmentBytes = try int64()
        case "segment.ms": self.segmentMs = try int64()
        case "delete.retention.ms": self.deleteRetentionMs = try int64()
        case "min.compaction.lag.ms": self.minCompactionLagMs = try int64()
        case "index.interval.bytes": self.indexIntervalBytes = Int32(clamping: try int64())
        case "max.message.bytes": self.maxMessageBytes = Int32(clamping: try int64())
        case "message.timestamp.type":
            switch value {
            case "CreateTime": self.logAppendTime = false
            case "LogAppendTime": self.logAppendTime = true
            default: throw SluiceError(.invalidConfiguration, "message.timestamp.type must be CreateTime or LogAppendTime, got '\(value)'")
            }
        default: throw SluiceError(.invalidConfiguration, "unknown topic config '\(key)'")
        }
        try self.validate()
    }

    /// The settings in Kafka's names, for `describe`.
    public var kafkaEntries: [(key: String, value: String)] {
        [
            ("cleanup.policy", self.cleanupPolicy.kafkaName),
            ("retention.ms", String(self.retentionMs)),
            ("retention.bytes", String(self.retentionBytes)),
            ("segment.bytes", String(self.segmentBytes)),
            ("segment.ms", String(self.segmentMs)),
            ("delete.retention.ms", String(self.deleteRetentionMs)),
            ("min.compaction.lag.ms", String(self.minCompactionLagMs)),
            ("index.interval.bytes", String(self.indexIntervalBytes)),
            ("max.message.bytes", String(self.maxMessageBytes)),
            ("message.timestamp.type", self.logAppendTime ? "LogAppendTime" : "CreateTime"),
        ]
    }
}

/// How appends become durable.
public enum DurabilityPolicy: Sendable, Hashable {
    /// Each append is fsynced before it is acknowledged.
    case fsyncPerAppend
    /// Appends are fsynced together by a flusher thread; each is acknowledged once its data is
    /// durable. The flusher syncs as soon as the previous sync finished, so that every append written
    /// meanwhile shares the next one; a non-zero `interval` also spaces syncs at least that far
    /// apart, trading latency for fewer syncs on slow disks. The default, with no interval.
    case groupCommit(interval: Duration)
    /// The operating system writes pages back when it likes; appends are acknowledged once written.
    case osManaged

    public static let `default` = DurabilityPolicy.groupCommit(interval: .zero)
}

/// Settings of the whole log (all topics of one data directory).
public struct LogOptions: Sendable {
    public var durability: DurabilityPolicy = .default
    /// How often retention and compaction run.
    public var maintenanceInterval: Duration = .seconds(30)
    /// Whether topics are created on first use by `partition(for:)` callers that ask for it.
    public var defaultTopicConfig = TopicConfig(partitionCount: 1)
    /// Whether background maintenance (retention, compaction) runs at all.
    public var runsMaintenance = true
    /// Bytes at the end of each partition that stay in the page cache once synced; the synced data
    /// before them is dropped from it (drop-behind), and so is what a reader catching up reads from
    /// before them. `nil` (the default) leaves the page cache to the OS, as Kafka does.
    ///
    /// A log written at hundreds of MB/s otherwise fills memory with pages that no tailing reader
    /// needs, and where fresh pages are dear (a VM whose host backs guest memory lazily, as the
    /// 2-core machines of the benchmarks) the kernel spends more time finding pages for writes than
    /// copying into them: 1 to 2 ms of CPU per MB written against 0.25 ms with recycled pages. The
    /// price: a reader further behind than the tail reads from the disk. `sluice serve` and the
    /// other commands turn it on with `streamingPageCacheTailBytes`.
    public var pageCacheTailBytes: Int64?
    /// The tail a streaming server keeps cached per partition: tens of megabytes, seconds of a busy
    /// partition, so that readers keeping up read from memory.
    public static let streamingPageCacheTailBytes: Int64 = 32 * 1024 * 1024

    public init(durability: DurabilityPolicy = .default) {
        self.durability = durability
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        self[...].trimmingCharacters(in: set)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> Substring {
        var slice = self
        while slice.first == character { slice.removeFirst() }
        while slice.last == character { slice.removeLast() }
        return slice
    }
}
