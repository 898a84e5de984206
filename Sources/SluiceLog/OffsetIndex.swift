import SluiceCore

/// A segment's sparse offset index: (offset relative to the segment's base, byte position) every
/// `index.interval.bytes`, as in Kafka's `.index` files (8 bytes an entry, big-endian).
struct OffsetIndex: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var relativeOffset: UInt32
        var position: UInt32
    }

    static let entryByteCount = 8
    let baseOffset: Int64
    private(set) var entries: [Entry] = []

    init(baseOffset: Int64) {
        self.baseOffset = baseOffset
    }

    /// Adds an entry for a batch starting at `offset` and `position`; both must grow.
    mutating func append(offset: Int64, position: Int64) {
        let relative = UInt32(offset - self.baseOffset)
        if let last = self.entries.last {
            precondition(relative > last.relativeOffset && UInt32(position) > last.position, "offset index entries must increase")
        }
        self.entries.append(Entry(relativeOffset: relative, position: UInt32(position)))
    }

    /// The position of the last indexed batch starting at or before `offset`; 0 when none.
    func position(for offset: Int64) -> (offset: Int64, position: Int64) {
        guard offset >= self.baseOffset, !self.entries.isEmpty else { return (self.baseOffset, 0) }
        let target = UInt64(offset - self.baseOffset)
        var low = 0, high = self.entries.count
        while low < high {
            let middle = (low + high) / 2
            if UInt64(self.entries[middle].relativeOffset) <= target { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return (self.baseOffset, 0) }
        let entry = self.entries[low - 1]
        return (self.baseOffset + Int64(entry.relativeOffset), Int64(entry.position))
    }

    /// Drops entries at or past `position` (after a truncation).
    mutating func truncate(toPosition position: Int64) {
        while let last = self.entries.last, Int64(last.position) >= position { self.entries.removeLast() }
    }

    var serialized: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(self.entries.count * Self.entryByteCount)
        for entry in self.entries {
            appendBigEndian(entry.relativeOffset, to: &bytes)
            appendBigEndian(entry.position, to: &bytes)
        }
        return bytes
    }

    /// Parses an index file and checks it against its segment: entries increase and point inside it.
    init(baseOffset: Int64, serialized bytes: [UInt8], segmentByteCount: Int64) throws(SluiceError) {
        self.baseOffset = baseOffset
        guard bytes.count % Self.entryByteCount == 0 else {
            throw SluiceError(.corruptData, "offset index of segment \(baseOffset) has \(bytes.count) bytes, not a multiple of 8")
        }
        var previous: Entry?
        for index in stride(from: 0, to: bytes.count, by: Self.entryByteCount) {
            let entry = Entry(relativeOffset: readBigEndian(bytes, index), position: readBigEndian(bytes, index + 4))
            if let previous, entry.relativeOffset <= previous.relativeOffset || entry.position <= previous.position {
                throw SluiceError(.corruptData, "offset index of segment \(baseOffset) does not increase at entry \(index / 8)")
            }
            guard Int64(entry.position) < segmentByteCount else {
                throw SluiceError(.corruptData, "offset index of segment \(baseOffset) points past the segment at entry \(index / 8)")
            }
            self.entries.append(entry)
            previous = entry
        }
    }
}

/// A segment's time index: (largest timestamp so far, offset of the batch that raised it), 12 bytes
/// an entry, sparse like the offset index. Finds where to start scanning for a timestamp.
struct TimeIndex: Sendable, Equatable {
    struct Entry: Sendable, Equatable {
        var timestamp: Int64
        var relativeOffset: UInt32
    }

    static let entryByteCount = 12
    let baseOffset: Int64
    private(set) var entries: [Entry] = []

    init(baseOffset: Int64) {
        self.baseOffset = baseOffset
    }

    /// Adds an entry if `timestamp` is larger than the last one.
    mutating func append(timestamp: Int64, offset: Int64) {
        if let last = self.entries.last, timestamp <= last.timestamp { return }
        self.entries.append(Entry(timestamp: timestamp, relativeOffset: UInt32(offset - self.baseOffset)))
    }

    /// An offset from which a scan finds the first record with a timestamp at or after `timestamp`:
    /// every record before the returned offset's batch is older.
    func scanStart(for timestamp: Int64) -> Int64 {
        var low = 0, high = self.entries.count
        while low < high {
            let middle = (low + high) / 2
            if self.entries[middle].timestamp < timestamp { low = middle + 1 } else { high = middle }
        }
        // entries[low - 1] is the last with a smaller timestamp: records up to its batch are older.
        guard low > 0 else { return self.baseOffset }
        return self.baseOffset + Int64(self.entries[low - 1].relativeOffset)
    }

    mutating func truncate(toOffset offset: Int64) {
        while let last = self.entries.last, self.baseOffset + Int64(last.relativeOffset) >= offset { self.entries.removeLast() }
    }

    var serialized: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(self.entries.count * Self.entryByteCount)
        for entry in self.entries {
            appendBigEndian(entry.timestamp, to: &bytes)
            appendBigEndian(entry.relativeOffset, to: &bytes)
        }
        return bytes
    }

    init(baseOffset: Int64, serialized bytes: [UInt8], nextOffset: Int64) throws(SluiceError) {
        self.baseOffset = baseOffset
        guard bytes.count % Self.entryByteCount == 0 else {
            throw SluiceError(.corruptData, "time index of segment \(baseOffset) has \(bytes.count) bytes, not a multiple of 12")
        }
        var previous: Entry?
        for index in stride(from: 0, to: bytes.count, by: Self.entryByteCount) {
            let entry = Entry(timestamp: readBigEndian(bytes, index), relativeOffset: readBigEndian(bytes, index + 8))
            if let previous, entry.timestamp <= previous.timestamp || entry.relativeOffset < previous.relativeOffset {
                throw SluiceError(.corruptData, "time index of segment \(baseOffset) does not increase at entry \(index / 12)")
            }
            guard baseOffset + Int64(entry.relativeOffset) < nextOffset else {
                throw SluiceError(.corruptData, "time index of segment \(baseOffset) points past the segment at entry \(index / 12)")
            }
            self.entries.append(entry)
            previous = entry
        }
    }
}

/// An aborted transaction as the transaction index records it (Kafka's AbortedTxn, 34 bytes).
public struct AbortedTransaction: Sendable, Hashable {
    public var producerId: Int64
    public var firstOffset: Int64
    /// The offset of the abort marker.
    public var lastOffset: Int64
    /// The last stable offset once this transaction ended.
    public var lastStableOffset: Int64

    public init(producerId: Int64, firstOffset: Int64, lastOffset: Int64, lastStableOffset: Int64) {
        self.producerId = producerId
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.lastStableOffset = lastStableOffset
    }
}

/// A segment's aborted-transaction index: the transactions whose abort marker lies in it.
struct TransactionIndex: Sendable, Equatable {
    static let entryByteCount = 34
    static let version: Int16 = 0
    private(set) var entries: [AbortedTransaction] = []

    init() {}

    mutating func append(_ entry: AbortedTransaction) {
        self.entries.append(entry)
    }

    mutating func truncate(toOffset offset: Int64) {
        self.entries.removeAll { $0.lastOffset >= offset }
    }

    var serialized: [UInt8] {
        var bytes: [UInt8] = []
        for entry in self.entries {
            appendBigEndian(Self.version, to: &bytes)
            appendBigEndian(entry.producerId, to: &bytes)
            appendBigEndian(entry.firstOffset, to: &bytes)
            appendBigEndian(entry.lastOffset, to: &bytes)
            appendBigEndian(entry.lastStableOffset, to: &bytes)
        }
        return bytes
    }

    init(serialized bytes: [UInt8], segmentBaseOffset: Int64) throws(SluiceError) {
        guard bytes.count % Self.entryByteCount == 0 else {
            throw SluiceError(.corruptData, "transaction index of segment \(segmentBaseOffset) has \(bytes.count) bytes, not a multiple of 34")
        }
        for index in stride(from: 0, to: bytes.count, by: Self.entryByteCount) {
            let version: Int16 = readBigEndian(bytes, index)
            guard version == Self.version else {
                throw SluiceError(.corruptData, "transaction index of segment \(segmentBaseOffset) has entry version \(version)")
            }
            self.entries.append(AbortedTransaction(
                producerId: readBigEndian(bytes, index + 2),
                firstOffset: readBigEndian(bytes, index + 10),
                lastOffset: readBigEndian(bytes, index + 18),
                lastStableOffset: readBigEndian(bytes, index + 26)
            ))
        }
    }
}

@inline(__always)
func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
}

@inline(__always)
func readBigEndian<T: FixedWidthInteger>(_ bytes: [UInt8], _ index: Int) -> T {
    var value = T.zero
    for byteIndex in 0..<MemoryLayout<T>.size {
        value = (value << 8) | T(truncatingIfNeeded: bytes[index + byteIndex])
    }
    return value
}
