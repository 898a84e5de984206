import SluiceCore

/// The on-disk form of the producer state: written at each segment roll and at shutdown, named by
/// the offset it covers up to, so recovery replays only the batches after it.
extension ProducerStateManager {
    static let snapshotMagic: [UInt8] = Array("SLPS".utf8)
    static let snapshotVersion: UInt16 = 1
    static let snapshotSuffix = ".snapshot"

    static func snapshotFileName(_ offset: Int64) -> String {
        segmentFileStem(offset) + snapshotSuffix
    }

    var snapshotBytes: [UInt8] {
        var bytes = Self.snapshotMagic
        appendBigEndian(Self.snapshotVersion, to: &bytes)
        appendBigEndian(self.lastMappedOffset, to: &bytes)
        appendBigEndian(UInt32(self.producers.count), to: &bytes)
        for entry in self.producers.values.sorted(by: { $0.producerId < $1.producerId }) {
            appendBigEndian(entry.producerId, to: &bytes)
            appendBigEndian(entry.epoch, to: &bytes)
            appendBigEndian(entry.coordinatorEpoch, to: &bytes)
            appendBigEndian(entry.lastTimestamp, to: &bytes)
            appendBigEndian(entry.currentTransactionFirstOffset ?? -1, to: &bytes)
            appendBigEndian(UInt8(entry.batches.count), to: &bytes)
            for batch in entry.batches {
                appendBigEndian(batch.firstSequence, to: &bytes)
                appendBigEndian(batch.lastSequence, to: &bytes)
                appendBigEndian(batch.firstOffset, to: &bytes)
                appendBigEndian(batch.lastOffset, to: &bytes)
                appendBigEndian(batch.timestamp, to: &bytes)
            }
        }
        appendBigEndian(CRC32C.checksum(bytes), to: &bytes)
        return bytes
    }

    init(snapshot bytes: [UInt8]) throws(SluiceError) {
        func corrupt(_ why: String) -> SluiceError { SluiceError(.corruptData, "producer state snapshot: \(why)") }
        guard bytes.count >= 22, Array(bytes[0..<4]) == Self.snapshotMagic else { throw corrupt("bad magic or too short") }
        let stored: UInt32 = readBigEndian(bytes, bytes.count - 4)
        guard CRC32C.checksum(Array(bytes[..<(bytes.count - 4)])) == stored else { throw corrupt("checksum mismatch") }
        guard readBigEndian(bytes, 4) as UInt16 == Self.snapshotVersion else { throw corrupt("unknown version") }
        var index = 6
        func next<T: FixedWidthInteger>(_: T.Type) throws(SluiceError) -> T {
            guard index + MemoryLayout<T>.size <= bytes.count - 4 else { throw corrupt("truncated") }
            defer { index += MemoryLayout<T>.size }
            return readBigEndian(bytes, index)
        }
        let lastMapped = try next(Int64.self)
        let count = try next(UInt32.self)
        var producers: [Int64: ProducerStateEntry] = [:]
        for _ in 0..<count {
            let producerId = try next(Int64.self)
            var entry = ProducerStateEntry(producerId: producerId, epoch: try next(Int16.self))
            entry.coordinatorEpoch = try next(Int32.self)
            entry.lastTimestamp = try next(Int64.self)
            let first = try next(Int64.self)
            entry.currentTransactionFirstOffset = first >= 0 ? first : nil
            let batchCount = try next(UInt8.self)
            for _ in 0..<batchCount {
                entry.batches.append(.init(
                    firstSequence: try next(Int32.self), lastSequence: try next(Int32.self),
                    firstOffset: try next(Int64.self), lastOffset: try next(Int64.self), timestamp: try next(Int64.self)))
            }
            producers[producerId] = entry
        }
        self.init(producers: producers, lastMappedOffset: lastMapped)
    }
}

/// The 20-digit stem of a segment's files: its base offset, zero padded.
func segmentFileStem(_ offset: Int64) -> String {
    let digits = String(offset)
    return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
}
