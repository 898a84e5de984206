import Foundation
import Logging
import SluiceCore

/// The embedded log: every topic of one data directory, their partitions, the group-commit flusher
/// and background retention and compaction. One process at a time holds a data directory.
///
/// Layout: `<dir>/topics/<topic>/topic.json` and `<dir>/topics/<topic>/<partition>/` with segments
/// named by base offset (`00000000000000000000.log`, `.index`, `.timeindex`, `.txnindex`),
/// producer-state snapshots, `recovery-point` and `log-start-offset`. `<dir>/.clean-shutdown` marks
/// a clean stop; without it, opening recovers every partition from its recovery point.
public final class Log: @unchecked Sendable {
    public let directory: String
    public let options: LogOptions
    /// Whether the previous process closed the log cleanly.
    public let wasCleanShutdown: Bool
    /// Corruption found and truncated while opening.
    public let recoveryReports: [CorruptionReport]

    private let directoryLock: DirectoryLock
    private let lock = Lock()
    private var topics: [String: Topic] = [:]
    private var isClosed = false
    private let flusher: GroupCommitFlusher?
    private var maintenance: MaintenanceThread?
    private let logger = Logger(label: "sluice.log")

    struct Topic {
        var config: TopicConfig
        var partitions: [Partition]
    }

    static let cleanShutdownFile = ".clean-shutdown"
    static let topicConfigFile = "topic.json"
    /// Kafka's limit on topic name length.
    public static let topicNameByteCountMax = 249

    var topicsDirectory: String { self.directory + "/topics" }

    /// Opens (creating if needed) the data directory, locks it and recovers its partitions.
    public init(directory: String, options: LogOptions = LogOptions()) throws(SluiceError) {
        self.directory = directory
        self.options = options
        try FileSystem.makeDirectory(directory)
        self.directoryLock = try DirectoryLock(directory: directory)
        let markerPath = directory + "/" + Self.cleanShutdownFile
        let clean = FileSystem.exists(markerPath)
        self.wasCleanShutdown = clean
        try FileSystem.makeDirectory(directory + "/topics")
        var reports: [CorruptionReport] = []
        var topics: [String: Topic] = [:]
        for name in try FileSystem.list(directory + "/topics") where FileSystem.isDirectory(directory + "/topics/" + name) {
            let topicDirectory = directory + "/topics/" + name
            if Self.isLeftover(name) {
                // A deletion that did not finish, or a creation that did not: neither was acknowledged.
                try FileSystem.removeTree(topicDirectory)
                continue
            }
            let configBytes: [UInt8]
            do {
                configBytes = try FileSystem.readAll(topicDirectory + "/" + Self.topicConfigFile)
            } catch {
                throw SluiceError(.corruptData, "topic directory \(topicDirectory) has no readable \(Self.topicConfigFile)", underlying: error)
            }
            var config: TopicConfig
            do {
                config = try JSONDecoder().decode(TopicConfig.self, from: Data(configBytes))
            } catch {
                throw SluiceError(.corruptData, "\(topicDirectory)/\(Self.topicConfigFile) is not a valid topic configuration", underlying: error)
            }
            if config.topicId == nil {
                config.topicId = Self.newTopicId()
                try Self.writeConfigFile(config, topicDirectory: topicDirectory)
            }
            var partitions: [Partition] = []
            for index in 0..<config.partitionCount {
                partitions.append(try Partition.open(
                    topicPartition: TopicPartition(name, index), directory: topicDirectory + "/\(index)", config: config,
                    durability: options.durability, cleanShutdown: clean, reports: &reports))
            }
            topics[name] = Topic(config: config, partitions: partitions)
        }
        // From here on a crash must trigger recovery again.
        if clean {
            try FileSystem.remove(markerPath)
            try FileSystem.syncDirectory(directory)
        }
        self.topics = topics
        self.recoveryReports = reports
        if case .groupCommit(let interval) = options.durability {
            self.flusher = GroupCommitFlusher(interval: interval)
        } else {
            self.flusher = nil
        }
        for report in reports { self.logger.warning("recovery truncated corrupt data: \(report)") }
        for topic in topics.values { for partition in topic.partitions { self.attach(partition) } }
        if options.runsMaintenance {
            self.maintenance = MaintenanceThread(log: self, interval: options.maintenanceInterval)
        }
    }

    private func attach(_ partition: Partition) {
        partition.pageCacheTailBytes = self.options.pageCacheTailBytes
        if let flusher = self.flusher {
            partition.onDirty = { [flusher] partition in flusher.schedule(partition) }
        }
    }

    static let deletedSuffix = ".deleted"
    static let creatingSuffix = ".creating"
    /// Separates a topic's name from the rest in the name of a directory being created or deleted:
    /// no topic name holds it, so no topic is ever taken for such a directory.
    static let stagingSeparator = "~"

    /// The directory a topic is built in (`creatingSuffix`) or moved to before removal (`deletedSuffix`).
    static func stagingName(_ topic: String, _ suffix: String) -> String {
        topic + Self.stagingSeparator + String(UInt64.random(in: 0...UInt64.max), radix: 16) + suffix
    }

    /// Whether a name in the topics directory is a creation's or a deletion's leftover.
    static func isLeftover(_ name: String) -> Bool {
        name.contains(Self.stagingSeparator) && (name.hasSuffix(Self.deletedSuffix) || name.hasSuffix(Self.creatingSuffix))
    }

    // MARK: Topics

    /// Checks a topic name as Kafka does: 1 to 249 of `[a-zA-Z0-9._-]`, not `.` or `..`.
    public static func validateTopicName(_ name: String) throws(SluiceError) {
        guard !name.isEmpty, name.utf8.count <= topicNameByteCountMax, name != ".", name != ".." else {
            throw SluiceError(.invalidConfiguration, "topic name '\(name)' must have 1 to \(topicNameByteCountMax) characters and not be '.' or '..'")
        }
        guard name.utf8.allSatisfy({ byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }) else {
            throw SluiceError(.invalidConfiguration, "topic name '\(name)' may only hold ASCII letters, digits, '.', '_' and '-'")
        }
    }

    public func createTopic(_ name: String, config requested: TopicConfig) throws(SluiceError) {
        try Self.validateTopicName(name)
        try requested.validate()
        var config = requested
        if config.topicId == nil { config.topicId = Self.newTopicId() }
        try self.lock.withLock { () throws(SluiceError) in
            guard !self.isClosed else { throw SluiceError(.closed, "the log is closed") }
            guard self.topics[name] == nil else { throw SluiceError(.topicExists, "topic '\(name)' already exists") }
            // Built aside and renamed into place, so that a crash leaves either no topic or all of it
            // (its configuration and every partition's directory), never a directory without a config.
            let topicDirectory = self.topicsDirectory + "/" + name
            let staging = self.topicsDirectory + "/" + Self.stagingName(name, Self.creatingSuffix)
            try FileSystem.makeDirectory(staging)
            try self.writeConfig(config, topicDirectory: staging)
            for index in 0..<config.partitionCount { try FileSystem.makeDirectory(staging + "/\(index)") }
            try FileSystem.syncDirectory(staging)
            try FileSystem.rename(staging, topicDirectory)
            var partitions: [Partition] = []
            var reports: [CorruptionReport] = []
            for index in 0..<config.partitionCount {
                let partition = try Partition.open(
                    topicPartition: TopicPartition(name, index), directory: topicDirectory + "/\(index)", config: config,
                    durability: self.options.durability, cleanShutdown: true, reports: &reports)
                self.attach(partition)
                partitions.append(partition)
            }
            try FileSystem.syncDirectory(topicDirectory)
            try FileSystem.syncDirectory(self.topicsDirectory)
            self.topics[name] = Topic(config: config, partitions: partitions)
        }
    }

    /// A random version-4 UUID as 32 hex digits.
    static func newTopicId() -> String {
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    private func writeConfig(_ config: TopicConfig, topicDirectory: String) throws(SluiceError) {
        try Self.writeConfigFile(config, topicDirectory: topicDirectory)
    }

    private static func writeConfigFile(_ config: TopicConfig, topicDirectory: String) throws(SluiceError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do { data = try encoder.encode(config) } catch { throw SluiceError(.invalidConfiguration, "cannot encode topic config", underlying: error) }
        try FileSystem.writeAtomically(Array(data), to: topicDirectory + "/" + Self.topicConfigFile)
    }

    /// Deletes a topic and its data. Readers holding its partitions see them closed.
    public func deleteTopic(_ name: String) throws(SluiceError) {
        let topic: Topic = try self.lock.withLock { () throws(SluiceError) -> Topic in
            guard let topic = self.topics.removeValue(forKey: name) else {
                throw SluiceError(.unknownTopic, "topic '\(name)' does not exist")
            }
            return topic
        }
        for partition in topic.partitions { try? partition.close() }
        let topicDirectory = self.topicsDirectory + "/" + name
        let doomed = self.topicsDirectory + "/" + Self.stagingName(name, Self.deletedSuffix)
        try FileSystem.rename(topicDirectory, doomed)
        try FileSystem.syncDirectory(self.topicsDirectory)
        try FileSystem.removeTree(doomed)
    }

    /// Changes a topic's settings (not its partition count).
    public func alterTopicConfig(_ name: String, _ change: (inout TopicConfig) throws(SluiceError) -> Void) throws(SluiceError) {
        try self.lock.withLock { () throws(SluiceError) in
            guard var topic = self.topics[name] else { throw SluiceError(.unknownTopic, "topic '\(name)' does not exist") }
            var config = topic.config
            try change(&config)
            try config.validate()
            guard config.partitionCount == topic.config.partitionCount else {
                throw SluiceError(.invalidConfiguration, "the partition count changes through addPartitions")
            }
            try self.writeConfig(config, topicDirectory: self.topicsDirectory + "/" + name)
            topic.config = config
            for partition in topic.partitions { partition.lock.withLock { partition.config = config } }
            self.topics[name] = topic
        }
    }

    /// Adds partitions to a topic (Kafka's CreatePartitions): counts only grow.
    public func addPartitions(_ name: String, totalCount: Int32) throws(SluiceError) {
        try self.lock.withLock { () throws(SluiceError) in
            guard var topic = self.topics[name] else { throw SluiceError(.unknownTopic, "topic '\(name)' does not exist") }
            guard totalCount > topic.config.partitionCount, totalCount <= TopicConfig.partitionCountMax else {
                throw SluiceError(.invalidConfiguration, "topic '\(name)' has \(topic.config.partitionCount) partitions; the new count must be larger and at most \(TopicConfig.partitionCountMax)")
            }
            let topicDirectory = self.topicsDirectory + "/" + name
            var config = topic.config
            var reports: [CorruptionReport] = []
            for index in config.partitionCount..<totalCount {
                let partition = try Partition.open(
                    topicPartition: TopicPartition(name, index), directory: topicDirectory + "/\(index)", config: config,
                    durability: self.options.durability, cleanShutdown: true, reports: &reports)
                self.attach(partition)
                topic.partitions.append(partition)
            }
            config.partitionCount = totalCount
            try self.writeConfig(config, topicDirectory: topicDirectory)
            topic.config = config
            self.topics[name] = topic
        }
    }

    public var topicNames: [String] { self.lock.withLock { self.topics.keys.sorted() } }

    public func topicConfig(_ name: String) throws(SluiceError) -> TopicConfig {
        try self.lock.withLock { () throws(SluiceError) -> TopicConfig in
            guard let topic = self.topics[name] else { throw SluiceError(.unknownTopic, "topic '\(name)' does not exist") }
            return topic.config
        }
    }

    public func partitions(of topic: String) throws(SluiceError) -> [Partition] {
        try self.lock.withLock { () throws(SluiceError) -> [Partition] in
            guard let entry = self.topics[topic] else { throw SluiceError(.unknownTopic, "topic '\(topic)' does not exist") }
            return entry.partitions
        }
    }

    public func partition(_ topicPartition: TopicPartition) throws(SluiceError) -> Partition {
        let partitions = try self.partitions(of: topicPartition.topic)
        guard topicPartition.partition >= 0, Int(topicPartition.partition) < partitions.count else {
            throw SluiceError(.unknownPartition, "topic '\(topicPartition.topic)' has no partition \(topicPartition.partition) (it has \(partitions.count))")
        }
        return partitions[Int(topicPartition.partition)]
    }

    var allPartitions: [Partition] { self.lock.withLock { self.topics.values.flatMap(\.partitions) } }

    // MARK: Maintenance and shutdown

    /// Applies retention and compaction to every partition once.
    public func runMaintenance(now: Int64 = currentTimeMillis()) {
        for partition in self.allPartitions {
            do {
                try partition.applyRetention(now: now)
                try partition.compact(now: now)
            } catch {
                self.logger.error("maintenance of \(partition.topicPartition) failed: \(error)")
            }
        }
    }

    /// Syncs every partition now.
    public func flush() throws(SluiceError) {
        for partition in self.allPartitions { try partition.flush() }
    }

    /// Stops background threads and releases the directory without syncing, snapshotting or marking
    /// the shutdown clean: the directory is left as a crash would leave it, apart from what was already
    /// synced. For recovery tests that run in one process.
    public func abandon() {
        let partitions: [Partition]? = self.lock.withLock {
            guard !self.isClosed else { return nil }
            self.isClosed = true
            return self.topics.values.flatMap(\.partitions)
        }
        guard let partitions else { return }
        self.maintenance?.stop()
        self.flusher?.stop()
        for partition in partitions { partition.lock.withLock { partition.isClosed = true } }
        self.directoryLock.release()
    }

    /// Stops background work, syncs and closes every partition and marks the shutdown clean.
    public func close() throws(SluiceError) {
        let partitions: [Partition]? = self.lock.withLock {
            guard !self.isClosed else { return nil }
            self.isClosed = true
            return self.topics.values.flatMap(\.partitions)
        }
        guard let partitions else { return }
        self.maintenance?.stop()
        self.flusher?.stop()
        var firstError: SluiceError?
        for partition in partitions {
            do { try partition.close() } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
        try FileSystem.writeAtomically([], to: self.directory + "/" + Self.cleanShutdownFile)
        self.directoryLock.release()
    }
}

/// Runs retention and compaction every interval on its own thread.
final class MaintenanceThread: @unchecked Sendable {
    static let threadName = "sluice-maint"
    private let lock = Lock()
    private let condition = Condition()
    private var isStopping = false
    private var isStopped = false

    init(log: Log, interval: Duration) {
        let nanoseconds = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
        let thread = namedThread(Self.threadName) { [self, weak log] in
            while true {
                let stopping = self.lock.withLock { () -> Bool in
                    if !self.isStopping { self.lock.wait(on: self.condition, timeoutNanoseconds: nanoseconds) }
                    return self.isStopping
                }
                if stopping { break }
                log?.runMaintenance()
            }
            self.lock.withLock {
                self.isStopped = true
                self.condition.broadcast()
            }
        }
        thread.start()
    }

    func stop() {
        self.lock.withLock {
            self.isStopping = true
            self.condition.broadcast()
            while !self.isStopped { self.lock.wait(on: self.condition) }
        }
    }
}
