import NIOCore

/// A Kafka RecordBatch (magic v2) held as its exact bytes.
///
/// The log stores and serves these bytes as producers sent them; only the base offset and the
/// partition leader epoch (both outside the CRC) are rewritten. Header fields are read in place.
public struct RecordBatch: Sendable, Equatable {
    /// Byte offsets of the header fields.
    public enum Field {
        public static let baseOffset = 0
        public static let batchLength = 8
        public static let partitionLeaderEpoch = 12
        public static let magic = 16
        public static let crc = 17
        public static let attributes = 21
        public static let lastOffsetDelta = 23
        public static let baseTimestamp = 27
        public static let maxTimestamp = 35
        public static let producerId = 43
        public static let producerEpoch = 51
        public static let baseSequence = 53
        public static let recordCount = 57
    }

    /// Bytes of the batch header, before the records.
    public static let headerByteCount = 61
    /// Bytes before the part that `batchLength` counts (base offset and the length itself).
    public static let logOverheadByteCount = 12
    public static let currentMagic: Int8 = 2

    /// The batch bytes, reader index at the batch's first byte, exactly one batch readable.
    public private(set) var buffer: ByteBuffer

    /// Wraps bytes known to hold one whole, valid batch (read back from the log after validation).
    public init(unchecked buffer: ByteBuffer) {
        self.buffer = buffer
    }

    /// Wraps and validates one batch: size, magic, record count and CRC.
    public init(validating buffer: ByteBuffer) throws(SluiceError) {
        self.buffer = buffer
        try self.validate()
    }

    // MARK: Header fields

    @inline(__always)
    private func int64(_ field: Int) -> Int64 {
        self.buffer.getInteger(at: self.buffer.readerIndex + field, as: Int64.self)!
    }

    @inline(__always)
    private func int32(_ field: Int) -> Int32 {
        self.buffer.getInteger(at: self.buffer.readerIndex + field, as: Int32.self)!
    }

    @inline(__always)
    private func int16(_ field: Int) -> Int16 {
        self.buffer.getInteger(at: self.buffer.readerIndex + field, as: Int16.self)!
    }

    public var byteCount: Int { self.buffer.readableBytes }
    public var baseOffset: Int64 { self.int64(Field.baseOffset) }
    public var batchLength: Int32 { self.int32(Field.batchLength) }
    public var partitionLeaderEpoch: Int32 { self.int32(Field.partitionLeaderEpoch) }
    public var magic: Int8 { self.buffer.getInteger(at: self.buffer.readerIndex + Field.magic, as: Int8.self)! }
    public var crc: UInt32 { self.buffer.getInteger(at: self.buffer.readerIndex + Field.crc, as: UInt32.self)! }
    public var attributes: Int16 { self.int16(Field.attributes) }
    public var lastOffsetDelta: Int32 { self.int32(Field.lastOffsetDelta) }
    public var baseTimestamp: Int64 { self.int64(Field.baseTimestamp) }
    public var maxTimestamp: Int64 { self.int64(Field.maxTimestamp) }
    public var producerId: Int64 { self.int64(Field.producerId) }
    public var producerEpoch: Int16 { self.int16(Field.producerEpoch) }
    public var baseSequence: Int32 { self.int32(Field.baseSequence) }
    public var recordCount: Int32 { self.int32(Field.recordCount) }

    /// The offset of the last record (a batch whose records were compacted away keeps its range).
    /// Wraps instead of trapping on a corrupt base offset; `hasPlausibleOffsets` rejects those.
    public var lastOffset: Int64 { self.baseOffset &+ Int64(self.lastOffsetDelta) }
    /// The offset after this batch.
    public var nextOffset: Int64 { self.lastOffset &+ 1 }

    /// Whether the offsets can be stored in a segment starting at `segmentBaseOffset`: not negative,
    /// no overflow, and within the 32-bit relative offsets of the segment's index. The base offset
    /// is outside the CRC, so storage checks this separately.
    public func hasPlausibleOffsets(segmentBaseOffset: Int64) -> Bool {
        let base = self.baseOffset
        let delta = Int64(self.lastOffsetDelta)
        guard base >= segmentBaseOffset, delta >= 0, base <= Int64.max - delta - 1 else { return false }
        return base + delta - segmentBaseOffset <= Int64(UInt32.max)
    }
    /// The sequence of the batch's last record, wrapping at Int32.max as Kafka does.
    public var lastSequence: Int32 {
        guard self.baseSequence >= 0 else { return -1 }
        let sequence = Int64(self.baseSequence) + Int64(self.lastOffsetDelta)
        return sequence > Int64(Int32.max) ? Int32(sequence - Int64(Int32.max) - 1) : Int32(sequence)
    }

    // MARK: Attributes

    public var compression: CompressionCodec? { CompressionCodec(rawValue: Int(self.attributes & 0x07)) }
    public var timestampType: TimestampType { self.attributes & 0x08 != 0 ? .logAppendTime : .createTime }
    public var isTransactional: Bool { self.attributes & 0x10 != 0 }
    public var isControl: Bool { self.attributes & 0x20 != 0 }
    /// KIP-534: set by compaction when the base timestamp holds the tombstone delete horizon.
    public var hasDeleteHorizon: Bool { self.attributes & 0x40 != 0 }
    public var hasProducerId: Bool { self.producerId >= 0 }

    // MARK: Validation

    /// The total size of the batch that starts at `index` of `buffer`, from its length field, or nil
    /// when fewer than 12 bytes are there. Does not check the value.
    public static func sizeOfBatch(in buffer: ByteBuffer, at index: Int) -> Int? {
        guard let length = buffer.getInteger(at: index + Field.batchLength, as: Int32.self) else { return nil }
        return logOverheadByteCount + Int(length)
    }

    /// Checks the batch's structure and CRC; does not decode records.
    public func validate() throws(SluiceError) {
        let size = self.buffer.readableBytes
        guard size >= Self.headerByteCount else {
            throw SluiceError(.corruptData, "record batch of \(size) bytes is shorter than its \(Self.headerByteCount)-byte header")
        }
        guard size <= Limits.batchBytesMax else {
            throw SluiceError(.limitExceeded, "record batch of \(size) bytes exceeds batchBytesMax \(Limits.batchBytesMax)")
        }
        let declared = Self.logOverheadByteCount + Int(self.batchLength)
        guard declared == size else {
            throw SluiceError(.corruptData, "record batch length field says \(declared) bytes, buffer holds \(size)")
        }
        guard self.magic == Self.currentMagic else {
            throw SluiceError(.corruptData, "record batch magic \(self.magic) is not \(Self.currentMagic)")
        }
        guard self.recordCount >= 0, Int(self.recordCount) <= Limits.batchRecordCountMax else {
            throw SluiceError(.corruptData, "record batch claims \(self.recordCount) records")
        }
        guard self.lastOffsetDelta >= 0 else {
            throw SluiceError(.corruptData, "record batch last offset delta \(self.lastOffsetDelta) is negative")
        }
        let computed = self.computeCRC()
        guard computed == self.crc else {
            throw SluiceError(.checksumMismatch, "record batch CRC is \(hex(self.crc)), computed \(hex(computed))")
        }
    }

    /// CRC32C of the bytes from the attributes to the end.
    public func computeCRC() -> UInt32 {
        self.buffer.withUnsafeReadableBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[Field.attributes...]))
        }
    }

    // MARK: Rewrites (outside the CRC)

    /// Sets the base offset: the log assigns offsets when it appends.
    public mutating func setBaseOffset(_ offset: Int64) {
        self.buffer.setInteger(offset, at: self.buffer.readerIndex + Field.baseOffset)
    }

    public mutating func setPartitionLeaderEpoch(_ epoch: Int32) {
        self.buffer.setInteger(epoch, at: self.buffer.readerIndex + Field.partitionLeaderEpoch)
    }

    /// Marks the batch as stamped with log-append time and sets max timestamp, then re-checksums:
    /// what the broker does for a topic with `message.timestamp.type=LogAppendTime`.
    public mutating func setLogAppendTime(_ timestamp: Int64) {
        let start = self.buffer.readerIndex
        self.buffer.setInteger(self.attributes | 0x08, at: start + Field.attributes)
        self.buffer.setInteger(timestamp, at: start + Field.maxTimestamp)
        self.buffer.setInteger(self.computeCRC(), at: start + Field.crc)
    }
}

@usableFromInline
func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}
