import NIOCore

/// One record of a batch seen in place: its key, value and headers are pointers into the batch's
/// bytes, valid only inside the `forEachRecordView` call that passes it. What a hot consumer loop
/// reads when building a `Record` (with its buffer slices and header array) per record costs too much.
public struct RecordView {
    public let offset: Int64
    public let timestamp: Int64
    public let key: UnsafeRawBufferPointer?
    public let value: UnsafeRawBufferPointer?
    public let headerCount: Int
    /// Where `value` starts among the readable bytes of the payload that `forEachRecordView(inPayload:)` passes
    /// beside the view (for a null value, where it would be): a reader that keeps part of the value takes a
    /// slice of that buffer, which shares its memory, instead of copying the bytes.
    public let valueByteOffset: Int
    /// The encoded headers (`headerCount` of them), validated.
    let headerBytes: UnsafeRawBufferPointer

    /// The value of the first header named `name` (nil when there is none, or its value is null).
    public func headerValue(_ name: String) -> UnsafeRawBufferPointer? {
        guard self.headerCount > 0 else { return nil }
        var index = 0
        var wanted = name
        return wanted.withUTF8 { name -> UnsafeRawBufferPointer? in
            for _ in 0..<self.headerCount {
                // Validated when the view was made: these reads cannot fail.
                guard let keyLength = try? Varint.read(self.headerBytes, at: &index) else { return nil }
                let key = UnsafeRawBufferPointer(rebasing: self.headerBytes[index..<index + Int(keyLength)])
                index += Int(keyLength)
                guard let valueLength = try? Varint.read(self.headerBytes, at: &index) else { return nil }
                let value = valueLength < 0 ? nil : UnsafeRawBufferPointer(rebasing: self.headerBytes[index..<index + Int(valueLength)])
                index += max(0, Int(valueLength))
                if key.elementsEqual(UnsafeRawBufferPointer(name)) { return value }
            }
            return nil
        }
    }

    /// The record as a value that outlives the call (copies its bytes).
    public func copied() -> Record {
        var headers: [RecordHeader] = []
        if self.headerCount > 0 {
            var index = 0
            for _ in 0..<self.headerCount {
                guard let keyLength = try? Varint.read(self.headerBytes, at: &index) else { break }
                let key = String(decoding: UnsafeRawBufferPointer(rebasing: self.headerBytes[index..<index + Int(keyLength)]), as: UTF8.self)
                index += Int(keyLength)
                guard let valueLength = try? Varint.read(self.headerBytes, at: &index) else { break }
                let value = valueLength < 0 ? nil : ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: self.headerBytes[index..<index + Int(valueLength)]))
                index += max(0, Int(valueLength))
                headers.append(RecordHeader(key: key, value: value))
            }
        }
        return Record(offset: self.offset, timestamp: self.timestamp, key: self.key.map { ByteBuffer(bytes: $0) },
                      value: self.value.map { ByteBuffer(bytes: $0) }, headers: headers)
    }
}

extension RecordBatch {
    /// Calls `body` with each record of the batch in place (decompressing the payload first when the
    /// batch is compressed). Throws on malformed record bytes, as `recordReader()` does.
    public func forEachRecordView(_ body: (RecordView) throws -> Void) throws {
        try self.forEachRecordView(inPayload: { record, _ in try body(record) })
    }

    /// Calls `body` with each record of the batch in place and the buffer the record lies in: the batch's own
    /// bytes, or its payload decompressed. `RecordView.valueByteOffset` locates the value in it, so that a
    /// reader can keep a slice of the value (sharing the buffer's memory) beyond the call.
    @inline(__always)
    public func forEachRecordView(inPayload body: (RecordView, ByteBuffer) throws -> Void) throws {
        let payload = try self.recordsPayload()
        let count = Int(self.recordCount)
        let baseOffset = self.baseOffset
        let lastOffsetDelta = Int64(self.lastOffsetDelta)
        let logAppendTime: Int64? = self.timestampType == .logAppendTime ? self.maxTimestamp : nil
        let baseTimestamp = self.baseTimestamp
        try payload.withUnsafeReadableBytes { raw in
            var index = 0
            for _ in 0..<count {
                let recordStart = index
                let length = try Varint.read(raw, at: &index)
                guard length > 0, Int(length) <= raw.count - index else {
                    throw SluiceError(.corruptData, "record at byte \(recordStart) claims \(length) bytes, \(raw.count - index) remain")
                }
                let end = index + Int(length)
                let record = UnsafeRawBufferPointer(rebasing: raw[..<end])
                index += 1  // attributes: unused in v2
                let timestampDelta = try Varint.read(record, at: &index)
                let offsetDelta = try Varint.read(record, at: &index)
                guard offsetDelta >= 0, offsetDelta <= lastOffsetDelta else {
                    throw SluiceError(.corruptData, "record offset delta \(offsetDelta) outside the batch's 0...\(lastOffsetDelta)")
                }
                let key = try Self.viewBytes(record, at: &index, what: "key")
                let value = try Self.viewBytes(record, at: &index, what: "value")
                let valueByteOffset = index - (value?.count ?? 0)
                let headerCount = try Varint.read(record, at: &index)
                guard headerCount >= 0, headerCount <= Limits.recordHeaderCountMax else {
                    throw SluiceError(.corruptData, "record at byte \(recordStart) claims \(headerCount) headers")
                }
                let headersStart = index
                for _ in 0..<headerCount {
                    guard try Self.viewBytes(record, at: &index, what: "header key") != nil else {
                        throw SluiceError(.corruptData, "null header key in record at byte \(recordStart)")
                    }
                    _ = try Self.viewBytes(record, at: &index, what: "header value")
                }
                guard index == end else {
                    throw SluiceError(.corruptData, "record at byte \(recordStart) has \(end - index) bytes beyond its fields")
                }
                try body(RecordView(offset: baseOffset + offsetDelta, timestamp: logAppendTime ?? (baseTimestamp &+ timestampDelta), key: key,
                                    value: value, headerCount: Int(headerCount), valueByteOffset: valueByteOffset,
                                    headerBytes: UnsafeRawBufferPointer(rebasing: record[headersStart..<end])), payload)
            }
            guard index == raw.count else {
                throw SluiceError(.corruptData, "\(raw.count - index) bytes follow the last record of the batch")
            }
        }
    }

    @inline(__always)
    private static func viewBytes(_ record: UnsafeRawBufferPointer, at index: inout Int, what: String) throws(SluiceError) -> UnsafeRawBufferPointer? {
        let length = try Varint.read(record, at: &index)
        if length < 0 { return nil }
        guard Int(length) <= record.count - index else {
            throw SluiceError(.corruptData, "\(what) of \(length) bytes runs past its record")
        }
        let bytes = UnsafeRawBufferPointer(rebasing: record[index..<index + Int(length)])
        index += Int(length)
        return bytes
    }
}
