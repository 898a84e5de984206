import SluiceCore

/// The state of one transactional id, as the transaction coordinator keeps it in
/// `__transaction_state` (Kafka's TransactionMetadata, simplified to what one node needs).
struct TransactionMetadata: Sendable, Equatable {
    enum State: Int8, Sendable {
        case empty = 0
        case ongoing = 1
        case prepareCommit = 2
        case prepareAbort = 3
        case completeCommit = 4
        case completeAbort = 5
        case dead = 6
        case prepareEpochFence = 7

        var name: String {
            switch self {
            case .empty: "Empty"
            case .ongoing: "Ongoing"
            case .prepareCommit: "PrepareCommit"
            case .prepareAbort: "PrepareAbort"
            case .completeCommit: "CompleteCommit"
            case .completeAbort: "CompleteAbort"
            case .dead: "Dead"
            case .prepareEpochFence: "PrepareEpochFence"
            }
        }
    }

    var transactionalId: String
    var producerId: Int64
    var producerEpoch: Int16
    var timeoutMs: Int32
    var state: State
    var partitions: Set<TopicPartition>
    /// Consumer groups whose offsets the transaction commits (AddOffsetsToTxn).
    var groups: Set<String>
    var startTimestampMs: Int64
    var lastUpdateTimestampMs: Int64

    /// Binary form for the compacted `__transaction_state` topic.
    var serialized: [UInt8] {
        var bytes: [UInt8] = [1]  // version
        bytes.appendInteger(self.producerId)
        bytes.appendInteger(self.producerEpoch)
        bytes.appendInteger(self.timeoutMs)
        bytes.appendInteger(self.state.rawValue)
        bytes.appendInteger(self.startTimestampMs)
        bytes.appendInteger(self.lastUpdateTimestampMs)
        let partitions = self.partitions.sorted()
        bytes.appendInteger(Int32(partitions.count))
        for partition in partitions {
            bytes.appendString(partition.topic)
            bytes.appendInteger(partition.partition)
        }
        let groups = self.groups.sorted()
        bytes.appendInteger(Int32(groups.count))
        for group in groups { bytes.appendString(group) }
        return bytes
    }

    init(transactionalId: String, producerId: Int64, producerEpoch: Int16, timeoutMs: Int32, state: State, now: Int64) {
        self.transactionalId = transactionalId
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.timeoutMs = timeoutMs
        self.state = state
        self.partitions = []
        self.groups = []
        self.startTimestampMs = -1
        self.lastUpdateTimestampMs = now
    }

    init(transactionalId: String, serialized bytes: [UInt8]) throws(SluiceError) {
        var reader = ByteReader(bytes)
        guard try reader.integer(as: UInt8.self) == 1 else {
            throw SluiceError(.corruptData, "transaction state of '\(transactionalId)' has an unknown version")
        }
        self.transactionalId = transactionalId
        self.producerId = try reader.integer(as: Int64.self)
        self.producerEpoch = try reader.integer(as: Int16.self)
        self.timeoutMs = try reader.integer(as: Int32.self)
        guard let state = State(rawValue: try reader.integer(as: Int8.self)) else {
            throw SluiceError(.corruptData, "transaction state of '\(transactionalId)' has an unknown state")
        }
        self.state = state
        self.startTimestampMs = try reader.integer(as: Int64.self)
        self.lastUpdateTimestampMs = try reader.integer(as: Int64.self)
        var partitions: Set<TopicPartition> = []
        for _ in 0..<(try reader.count()) {
            partitions.insert(TopicPartition(try reader.string(), try reader.integer(as: Int32.self)))
        }
        self.partitions = partitions
        var groups: Set<String> = []
        for _ in 0..<(try reader.count()) { groups.insert(try reader.string()) }
        self.groups = groups
    }
}

extension [UInt8] {
    mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { self.append(contentsOf: $0) }
    }

    mutating func appendString(_ value: String) {
        let utf8 = Array(value.utf8)
        self.appendInteger(Int32(utf8.count))
        self.append(contentsOf: utf8)
    }
}

/// Reads the big-endian integers and length-prefixed strings of the coordinators' internal records.
struct ByteReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { self.index == self.bytes.count }

    mutating func integer<T: FixedWidthInteger>(as: T.Type) throws(SluiceError) -> T {
        let size = MemoryLayout<T>.size
        guard self.index + size <= self.bytes.count else { throw SluiceError(.corruptData, "internal record is truncated") }
        var value = T.zero
        for offset in 0..<size { value = value << 8 | T(truncatingIfNeeded: self.bytes[self.index + offset]) }
        self.index += size
        return value
    }

    mutating func count() throws(SluiceError) -> Int {
        let count = try self.integer(as: Int32.self)
        guard count >= 0, Int(count) <= self.bytes.count - self.index else { throw SluiceError(.corruptData, "internal record has a bad count") }
        return Int(count)
    }

    mutating func string() throws(SluiceError) -> String {
        let length = try self.count()
        defer { self.index += length }
        return String(decoding: self.bytes[self.index..<(self.index + length)], as: UTF8.self)
    }

    mutating func bytesField() throws(SluiceError) -> [UInt8] {
        let length = try self.count()
        defer { self.index += length }
        return Array(self.bytes[self.index..<(self.index + length)])
    }
}
