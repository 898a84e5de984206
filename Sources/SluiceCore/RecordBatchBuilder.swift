import NIOCore

/// Builds a RecordBatch v2: records are encoded as they are added, the payload compressed and the
/// CRC computed at `build()`. Offsets are deltas from 0; the log assigns the base offset.
public struct RecordBatchBuilder: Sendable {
    public var baseOffset: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    public var compression: CompressionCodec
    public var timestampType: TimestampType = .createTime
    public var isTransactional: Bool = false
    public var isControl: Bool = false
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1
    /// When set, stored in the base timestamp with the KIP-534 attribute (compaction's delete horizon).
    public var deleteHorizon: Int64?
    /// When set, the batch's last offset delta, kept by compaction so that a rebuilt batch (even an
    /// empty one) still spans its original offsets and sequences.
    public var lastOffsetDeltaOverride: Int32?

    private var body: [UInt8] = []
    private var firstTimestamp: Int64?
    private var maxTimestamp: Int64 = -1
    private var timestamps: [Int64] = []
    private var lastOffsetDelta: Int32 = -1
    public private(set) var recordCount: Int = 0

    public init(compression: CompressionCodec = .none) {
        self.compression = compression
    }

    /// Bytes encoded so far, before compression and without the header.
    public var encodedByteCount: Int { self.body.count }

    /// Adds a record at the next offset delta.
    public mutating func append(_ record: ProducerRecord) {
        self.append(record, offsetDelta: self.lastOffsetDelta + 1)
    }

    /// Adds a record with an explicit offset delta (compaction keeps the original offsets).
    public mutating func append(_ record: ProducerRecord, offsetDelta: Int32) {
        precondition(offsetDelta > self.lastOffsetDelta, "offset deltas must increase within a batch")
        let base = self.deleteHorizon ?? self.firstTimestamp ?? record.timestamp
        if self.firstTimestamp == nil { self.firstTimestamp = record.timestamp }
        self.maxTimestamp = max(self.maxTimestamp, record.timestamp)
        self.lastOffsetDelta = offsetDelta
        self.recordCount += 1

        // The record's length comes first, so its fields are sized before they are written: no
        // temporary buffer per record.
        let timestampDelta = record.timestamp &- base
        var length = 1 + Varint.encodedByteCount(timestampDelta) + Varint.encodedByteCount(Int64(offsetDelta))
        length += Self.encodedByteCount(record.key) + Self.encodedByteCount(record.value)
        length += Varint.encodedByteCount(Int64(record.headers.count))
        for header in record.headers {
            length += Self.encodedByteCount(utf8Count: header.key.utf8.count) + Self.encodedByteCount(header.value)
        }
        // The length, attributes, deltas and the key's length in one append: most of a small record's bytes.
        withUnsafeTemporaryAllocation(byteCount: Self.leadingFieldsByteCountMax, alignment: 1) { scratch in
            let fields = scratch.baseAddress!
            var byteCount = Varint.write(Int64(length), to: fields)
            fields.storeBytes(of: 0, toByteOffset: byteCount, as: UInt8.self)  // attributes
            byteCount += 1
            byteCount += Varint.write(timestampDelta, to: fields + byteCount)
            byteCount += Varint.write(Int64(offsetDelta), to: fields + byteCount)
            byteCount += Varint.write(Int64(record.key?.count ?? -1), to: fields + byteCount)
            self.body.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<byteCount]))
        }
        if let key = record.key { self.body.append(contentsOf: key) }
        Self.appendBytes(record.value, to: &self.body)
        Varint.append(Int64(record.headers.count), to: &self.body)
        for header in record.headers {
            Varint.append(Int64(header.key.utf8.count), to: &self.body)
            self.body.append(contentsOf: header.key.utf8)
            Self.appendBytes(header.value, to: &self.body)
        }
    }

    /// The most bytes of a record's leading fields: four varints and the attributes byte.
    private static let leadingFieldsByteCountMax = 4 * Varint.bytesMax + 1

    private static func encodedByteCount(_ bytes: [UInt8]?) -> Int {
        guard let bytes else { return Varint.encodedByteCount(-1) }
        return Self.encodedByteCount(utf8Count: bytes.count)
    }

    private static func encodedByteCount(utf8Count count: Int) -> Int {
        Varint.encodedByteCount(Int64(count)) + count
    }

    private static func appendBytes(_ bytes: [UInt8]?, to fields: inout [UInt8]) {
        guard let bytes else {
            Varint.append(-1, to: &fields)
            return
        }
        Varint.append(Int64(bytes.count), to: &fields)
        fields.append(contentsOf: bytes)
    }

    /// The finished batch. Throws when compression fails or its codec is unavailable.
    public func build() throws(SluiceError) -> RecordBatch {
        let payload: [UInt8] = self.compression == .none || self.recordCount == 0 ? self.body : try self.compression.compress(self.body)
        var buffer = ByteBufferAllocator().buffer(capacity: RecordBatch.headerByteCount + payload.count)
        let baseTimestamp = self.deleteHorizon ?? self.firstTimestamp ?? -1
        var attributes = Int16(self.recordCount == 0 ? 0 : self.compression.rawValue)
        if self.timestampType == .logAppendTime { attributes |= 0x08 }
        if self.isTransactional { attributes |= 0x10 }
        if self.isControl { attributes |= 0x20 }
        if self.deleteHorizon != nil { attributes |= 0x40 }
        buffer.writeInteger(self.baseOffset)
        buffer.writeInteger(Int32(RecordBatch.headerByteCount - RecordBatch.logOverheadByteCount + payload.count))
        buffer.writeInteger(self.partitionLeaderEpoch)
        buffer.writeInteger(RecordBatch.currentMagic)
        buffer.writeInteger(UInt32(0))  // CRC, filled below
        buffer.writeInteger(attributes)
        buffer.writeInteger(self.lastOffsetDeltaOverride ?? max(self.lastOffsetDelta, 0))
        buffer.writeInteger(baseTimestamp)
        buffer.writeInteger(self.maxTimestamp)
        buffer.writeInteger(self.producerId)
        buffer.writeInteger(self.producerEpoch)
        buffer.writeInteger(self.baseSequence)
        buffer.writeInteger(Int32(self.recordCount))
        buffer.writeBytes(payload)
        var batch = RecordBatch(unchecked: buffer)
        buffer = batch.buffer
        buffer.setInteger(batch.computeCRC(), at: RecordBatch.Field.crc)
        batch = RecordBatch(unchecked: buffer)
        return batch
    }

    /// Convenience: a batch of `records` with this builder's settings.
    public static func batch(
        _ records: [ProducerRecord],
        compression: CompressionCodec = .none,
        configure: (inout RecordBatchBuilder) -> Void = { _ in }
    ) throws(SluiceError) -> RecordBatch {
        var builder = RecordBatchBuilder(compression: compression)
        configure(&builder)
        for record in records { builder.append(record) }
        return try builder.build()
    }

    /// A control batch marking the end of a transaction, as a transaction coordinator writes it.
    public static func controlBatch(
        _ type: ControlRecordType,
        producerId: Int64,
        producerEpoch: Int16,
        coordinatorEpoch: Int32 = 0,
        timestamp: Int64
    ) -> RecordBatch {
        var builder = RecordBatchBuilder(compression: .none)
        builder.isControl = true
        builder.isTransactional = true
        builder.producerId = producerId
        builder.producerEpoch = producerEpoch
        var key: [UInt8] = [0, 0]  // version 0
        key.append(contentsOf: withUnsafeBytes(of: type.rawValue.bigEndian, Array.init))
        var value: [UInt8] = [0, 0]
        value.append(contentsOf: withUnsafeBytes(of: coordinatorEpoch.bigEndian, Array.init))
        builder.append(ProducerRecord(key: key, value: value, timestamp: timestamp))
        // An uncompressed build cannot fail.
        return try! builder.build()
    }
}
