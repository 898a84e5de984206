import NIOCore
import SluiceCore
import SluiceLog
import SluiceStreams
import _SluiceTestSupport

/// An input record of the window tests: a key, an integer value and an event time.
struct InputRecord: Sendable {
    var key: String
    var value: Int64
    var timestamp: Int64
}

/// Writes `records` into `topic` (created with `partitionCount` partitions), each to the partition
/// murmur2 of its key picks, in batches of random sizes so that batch boundaries vary.
func produce(_ records: [InputRecord], to topic: String, partitionCount: Int32, log: Log, random: inout SeededRandom) throws {
    try log.createTopic(topic, config: TopicConfig.keepingAll(partitionCount: partitionCount))
    var pending: [Int32: [ProducerRecord]] = [:]
    func flush(_ partition: Int32) throws {
        guard let records = pending[partition], !records.isEmpty else { return }
        _ = try log.partition(TopicPartition(topic, partition)).append(try RecordBatchBuilder.batch(records))
        pending[partition] = []
    }
    for record in records {
        let key = Array(record.key.utf8)
        let partition = Murmur2.partition(forKey: key, partitionCount: partitionCount)
        pending[partition, default: []].append(ProducerRecord(key: key, value: withUnsafeBytes(of: record.value.bigEndian) { Array($0) },
                                                              timestamp: record.timestamp))
        if pending[partition]!.count >= Int.random(in: 1...40, using: &random) { try flush(partition) }
    }
    for partition in 0..<partitionCount { try flush(partition) }
    try log.flush()
}

/// Every committed record of `topic`, per partition in offset order.
func readAll(_ topic: String, log: Log) throws -> [Int32: [Record]] {
    var result: [Int32: [Record]] = [:]
    for partition in try log.partitions(of: topic) {
        var offset = partition.startOffset
        var records: [Record] = []
        while true {
            let read = try partition.readRecords(from: offset, maxBytes: 1 << 20, isolation: .readCommitted)
            records.append(contentsOf: read.records)
            if read.nextOffset == offset { break }
            offset = read.nextOffset
        }
        result[partition.topicPartition.partition] = records
    }
    return result
}

/// A window result as the tests compare them.
struct WindowResult: Hashable, CustomStringConvertible {
    var key: String
    var window: Window
    var value: Int64

    var description: String { "\(self.key)\(self.window)=\(self.value)" }
}

/// The results in `topic`, grouped per key and window in the order they were emitted.
func windowResults(_ topic: String, log: Log) throws -> [String: [Int64]] {
    var grouped: [String: [Int64]] = [:]
    let serde = Serde<Windowed<String>>.windowed(.string)
    for (_, records) in try readAll(topic, log: log) {
        for record in records {
            let windowed = try serde.deserialize(record.key)
            let value = try Serde<Int64>.int64.deserialize(record.value)
            grouped["\(windowed.key)\(windowed.window)", default: []].append(value)
        }
    }
    return grouped
}

extension TopicConfig {
    /// A topic that keeps its records whatever their times. The tests' event times lie in 1970, and
    /// time retention (7 days unless set) deletes such records, the active segment's too, at the
    /// log's first maintenance pass, 30 s after it opens: a test slowed past that by a loaded
    /// machine would find its input gone.
    static func keepingAll(partitionCount: Int32) -> TopicConfig {
        var config = TopicConfig(partitionCount: partitionCount)
        config.retentionMs = -1
        return config
    }
}
