import NIOCore

extension RecordBatch {
    /// Reads a batch's records one at a time. Keys, values and header values are slices of the
    /// batch (or of its decompressed payload), never copies.
    public struct RecordReader: Sendable {
        private let payload: ByteBuffer
        private var position: Int
        private var remainingCount: Int
        private let baseOffset: Int64
        private let baseTimestamp: Int64
        private let logAppendTime: Int64?
        private let lastOffsetDelta: Int64

        init(batch: RecordBatch, payload: ByteBuffer) {
            self.payload = payload
            self.position = payload.readerIndex
            self.remainingCount = Int(batch.recordCount)
            self.baseOffset = batch.baseOffset
            self.baseTimestamp = batch.baseTimestamp
            self.logAppendTime = batch.timestampType == .logAppendTime ? batch.maxTimestamp : nil
            self.lastOffsetDelta = Int64(batch.lastOffsetDelta)
        }

        /// The records not read yet.
        public var remainingRecordCount: Int { self.remainingCount }

        /// The next record, or nil after the last. Throws on malformed record bytes.
        public mutating func next() throws(SluiceError) -> Record? {
            guard self.remainingCount > 0 else {
                guard self.position == self.payload.writerIndex else {
                    throw SluiceError(.corruptData, "\(self.payload.writerIndex - self.position) bytes follow the last record of the batch")
                }
                return nil
            }
            self.remainingCount -= 1
            let start = self.position
            let decoded = try self.payload.withUnsafeReadableBytes { (raw) throws(SluiceError) -> DecodedRecord in
                var index = start - self.payload.readerIndex
                return try DecodedRecord.decode(raw, at: &index, readerBase: self.payload.readerIndex)
            }
            self.position = decoded.end
            guard decoded.offsetDelta >= 0, decoded.offsetDelta <= self.lastOffsetDelta else {
                throw SluiceError(.corruptData, "record offset delta \(decoded.offsetDelta) outside the batch's 0...\(self.lastOffsetDelta)")
            }
            var headers: [RecordHeader] = []
            if !decoded.headers.isEmpty {
                headers.reserveCapacity(decoded.headers.count)
                for header in decoded.headers {
                    let key = self.payload.getString(at: header.keyStart, length: header.keyLength) ?? ""
                    let value = header.valueLength < 0 ? nil : self.payload.getSlice(at: header.valueStart, length: header.valueLength)
                    headers.append(RecordHeader(key: key, value: value))
                }
            }
            return Record(
                offset: self.baseOffset + decoded.offsetDelta,
                timestamp: self.logAppendTime ?? (self.baseTimestamp &+ decoded.timestampDelta),
                key: decoded.keyLength < 0 ? nil : self.payload.getSlice(at: decoded.keyStart, length: decoded.keyLength),
                value: decoded.valueLength < 0 ? nil : self.payload.getSlice(at: decoded.valueStart, length: decoded.valueLength),
                headers: headers
            )
        }
    }

    /// A reader over the records, decompressing the payload first when the batch is compressed.
    public func recordReader() throws(SluiceError) -> RecordReader {
        RecordReader(batch: self, payload: try self.recordsPayload())
    }

    /// The records' bytes after the header, decompressed when the batch is compressed.
    func recordsPayload() throws(SluiceError) -> ByteBuffer {
        guard let codec = self.compression else {
            throw SluiceError(.codecUnavailable, "record batch uses unknown compression type \(self.attributes & 0x07)")
        }
        var payload = self.buffer
        payload.moveReaderIndex(forwardBy: Self.headerByteCount)
        if codec != .none {
            let decompressed = try payload.withUnsafeReadableBytes { (raw) throws(SluiceError) -> [UInt8] in
                try codec.decompress(raw, decompressedBytesMax: Limits.decompressedBytesMax)
            }
            payload = ByteBuffer(bytes: decompressed)
        }
        return payload
    }

    /// Decodes every record and checks what the header promises, as a broker does before it accepts a
    /// produced batch: the record count, and offset deltas 0, 1, 2, ... up to the last offset delta.
    /// With `requireKeys`, a record without a key is refused (compacted topics need keys). Walks the
    /// bytes in place: no record values are built.
    public func validateRecords(requireKeys: Bool = false) throws(SluiceError) {
        let count = Int(self.recordCount)
        guard Int64(self.lastOffsetDelta) == Int64(count) - 1 || (count == 0 && self.lastOffsetDelta == 0) else {
            throw SluiceError(.corruptData, "record batch says \(count) records but its last offset delta is \(self.lastOffsetDelta)")
        }
        guard let codec = self.compression else {
            throw SluiceError(.codecUnavailable, "record batch uses unknown compression type \(self.attributes & 0x07)")
        }
        var payload = self.buffer
        payload.moveReaderIndex(forwardBy: Self.headerByteCount)
        if codec != .none {
            let decompressed = try payload.withUnsafeReadableBytes { (raw) throws(SluiceError) -> [UInt8] in
                try codec.decompress(raw, decompressedBytesMax: Limits.decompressedBytesMax)
            }
            payload = ByteBuffer(bytes: decompressed)
        }
        let requireKeys = requireKeys && !self.isControl
        let outcome: Result<Void, SluiceError> = payload.withUnsafeReadableBytes { raw in
            Result { () throws(SluiceError) in
                var index = 0
                for expected in 0..<count {
                    let decoded = try DecodedRecord.decode(raw, at: &index, readerBase: 0, collectHeaders: false)
                    guard decoded.offsetDelta == Int64(expected) else {
                        throw SluiceError(.corruptData, "record \(expected) of the batch has offset delta \(decoded.offsetDelta)")
                    }
                    if requireKeys && decoded.keyLength < 0 {
                        throw SluiceError(.invalidRequest, "a compacted topic needs a key on every record; record \(expected) has none")
                    }
                }
                guard index == raw.count else {
                    throw SluiceError(.corruptData, "\(raw.count - index) bytes follow the \(count) records the batch header announces")
                }
            }
        }
        try outcome.get()
    }

    /// All records, decoded. For large batches prefer `recordReader()`.
    public func records() throws(SluiceError) -> [Record] {
        var reader = try self.recordReader()
        var records: [Record] = []
        records.reserveCapacity(Int(self.recordCount))
        while let record = try reader.next() { records.append(record) }
        return records
    }

    /// For a control batch, what its (single) control record marks, with the coordinator epoch.
    public func controlRecord() throws(SluiceError) -> (type: ControlRecordType, coordinatorEpoch: Int32)? {
        guard self.isControl else { return nil }
        var reader = try self.recordReader()
        guard let record = try reader.next(), let key = record.key, key.readableBytes >= 4 else {
            throw SluiceError(.corruptData, "control batch at offset \(self.baseOffset) has no control record key")
        }
        let typeCode = key.getInteger(at: key.readerIndex + 2, as: Int16.self)!
        guard let type = ControlRecordType(rawValue: typeCode) else {
            throw SluiceError(.corruptData, "control batch at offset \(self.baseOffset) has unknown control type \(typeCode)")
        }
        var coordinatorEpoch: Int32 = 0
        if let value = record.value, value.readableBytes >= 6 {
            coordinatorEpoch = value.getInteger(at: value.readerIndex + 2, as: Int32.self)!
        }
        return (type, coordinatorEpoch)
    }
}

/// Positions of one record's parts inside a payload; positions are reader-relative indexes.
struct DecodedRecord {
    struct Header {
        var keyStart: Int
        var keyLength: Int
        var valueStart: Int
        var valueLength: Int
    }

    var timestampDelta: Int64
    var offsetDelta: Int64
    var keyStart: Int
    var keyLength: Int
    var valueStart: Int
    var valueLength: Int
    var headers: [Header]
    var end: Int

    /// Decodes the record at `index` of `raw`; `readerBase` converts raw indexes to buffer indexes.
    @inline(__always)
    static func decode(_ raw: UnsafeRawBufferPointer, at index: inout Int, readerBase: Int, collectHeaders: Bool = true) throws(SluiceError) -> DecodedRecord {
        let recordStart = index
        let length = try Varint.read(raw, at: &index)
        guard length >= 0, Int(length) <= raw.count - index else {
            throw SluiceError(.corruptData, "record at byte \(recordStart) claims \(length) bytes, \(raw.count - index) remain")
        }
        let end = index + Int(length)
        let body = UnsafeRawBufferPointer(rebasing: raw[..<end])
        guard index < end else { throw SluiceError(.corruptData, "empty record at byte \(recordStart)") }
        index += 1  // attributes: unused in v2
        let timestampDelta = try Varint.read(body, at: &index)
        let offsetDelta = try Varint.read(body, at: &index)
        let (keyStart, keyLength) = try readBytes(body, at: &index, what: "key")
        let (valueStart, valueLength) = try readBytes(body, at: &index, what: "value")
        let headerCount = try Varint.read(body, at: &index)
        guard headerCount >= 0, headerCount <= Limits.recordHeaderCountMax else {
            throw SluiceError(.corruptData, "record at byte \(recordStart) claims \(headerCount) headers")
        }
        var headers: [Header] = []
        if headerCount > 0 {
            if collectHeaders { headers.reserveCapacity(Int(headerCount)) }
            for _ in 0..<headerCount {
                let (hkStart, hkLength) = try readBytes(body, at: &index, what: "header key")
                guard hkLength >= 0 else { throw SluiceError(.corruptData, "null header key in record at byte \(recordStart)") }
                let (hvStart, hvLength) = try readBytes(body, at: &index, what: "header value")
                if collectHeaders {
                    headers.append(Header(keyStart: hkStart + readerBase, keyLength: hkLength, valueStart: hvStart + readerBase, valueLength: hvLength))
                }
            }
        }
        guard index == end else {
            throw SluiceError(.corruptData, "record at byte \(recordStart) declares \(length) bytes but its fields take \(index - recordStart)")
        }
        return DecodedRecord(
            timestampDelta: timestampDelta, offsetDelta: offsetDelta,
            keyStart: keyStart + readerBase, keyLength: keyLength,
            valueStart: valueStart + readerBase, valueLength: valueLength,
            headers: headers, end: end + readerBase
        )
    }

    @inline(__always)
    private static func readBytes(_ body: UnsafeRawBufferPointer, at index: inout Int, what: StaticString) throws(SluiceError) -> (Int, Int) {
        let length = try Varint.read(body, at: &index)
        if length < 0 {
            guard length == -1 else { throw SluiceError(.corruptData, "\(what) length \(length) at byte \(index)") }
            return (index, -1)
        }
        guard length <= Int64(body.count - index) else {
            throw SluiceError(.corruptData, "\(what) of \(length) bytes overruns its record at byte \(index)")
        }
        let start = index
        index += Int(length)
        return (start, Int(length))
    }
}
