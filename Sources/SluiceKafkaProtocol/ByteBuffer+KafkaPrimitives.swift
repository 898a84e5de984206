import NIOCore

// The primitive encodings of the Kafka protocol, which the generated codecs call. Every read checks the bytes that
// remain before it allocates, and names the field it was reading in its error.
//
// Non-flexible versions prefix strings with an int16 length and bytes, records and arrays with an int32 one, -1
// meaning null. Flexible versions use "compact" forms: an unsigned varint holding length + 1, 0 meaning null.

/// Kafka's limit on a string's encoded length (it writes the length as an int16 in non-flexible versions and keeps
/// the same limit in compact ones).
let kafkaStringBytesMax = 0x7FFF

/// The most array elements reserved up front; larger arrays grow as their elements are read, so that a count
/// claimed by a malicious request costs no more memory than the elements it actually carries.
let kafkaArrayReserveMax = 4096

extension ByteBuffer {
    // MARK: Reading fixed-size values

    mutating func readKafkaInteger<Value: FixedWidthInteger>(
        as: Value.Type = Value.self,
        field: StaticString
    ) throws(KafkaProtocolError) -> Value {
        guard let value = self.readInteger(as: Value.self) else {
            throw .truncated(field, needed: MemoryLayout<Value>.size, remaining: self.readableBytes)
        }
        return value
    }

    mutating func readKafkaBool(field: StaticString) throws(KafkaProtocolError) -> Bool {
        try self.readKafkaInteger(as: UInt8.self, field: field) != 0
    }

    mutating func readKafkaFloat64(field: StaticString) throws(KafkaProtocolError) -> Double {
        Double(bitPattern: try self.readKafkaInteger(as: UInt64.self, field: field))
    }

    mutating func readKafkaUUID(field: StaticString) throws(KafkaProtocolError) -> KafkaUUID {
        guard self.readableBytes >= 16 else {
            throw .truncated(field, needed: 16, remaining: self.readableBytes)
        }
        let most = self.readInteger(as: UInt64.self)!
        let least = self.readInteger(as: UInt64.self)!
        return KafkaUUID(mostSignificantBits: most, leastSignificantBits: least)
    }

    /// An unsigned varint of at most 5 bytes and 32 bits, as Kafka's compact lengths and tags use.
    mutating func readKafkaUnsignedVarint(field: StaticString) throws(KafkaProtocolError) -> UInt32 {
        guard let first = self.readInteger(as: UInt8.self) else {
            throw .truncated(field, needed: 1, remaining: 0)
        }
        if first < 0x80 { return UInt32(first) }
        var value = UInt32(first & 0x7F)
        var shift: UInt32 = 7
        while true {
            guard let byte = self.readInteger(as: UInt8.self) else {
                throw .truncated(field, needed: 1, remaining: 0)
            }
            if shift == 28 && byte > 0x0F {
                throw KafkaProtocolError(.invalidVarint, "\(field) has an unsigned varint over 32 bits")
            }
            value |= UInt32(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    // MARK: Reading lengths

    /// A string length: nil for null; otherwise at most `kafkaStringBytesMax` and the bytes that remain.
    mutating func readKafkaStringLength(compact: Bool, field: StaticString) throws(KafkaProtocolError) -> Int? {
        let length: Int
        if compact {
            let raw = try self.readKafkaUnsignedVarint(field: field)
            if raw == 0 { return nil }
            length = Int(raw) - 1
        } else {
            let raw = try self.readKafkaInteger(as: Int16.self, field: field)
            if raw == -1 { return nil }
            length = Int(raw)
        }
        guard length >= 0, length <= kafkaStringBytesMax else {
            throw KafkaProtocolError(.invalidLength, "\(field) has an invalid string length \(length)")
        }
        guard length <= self.readableBytes else {
            throw .truncated(field, needed: length, remaining: self.readableBytes)
        }
        return length
    }

    /// A bytes, records or array length: nil for null; otherwise non-negative (not yet checked against the bytes
    /// that remain: arrays check their element count themselves).
    mutating func readKafkaLength32(compact: Bool, field: StaticString) throws(KafkaProtocolError) -> Int? {
        if compact {
            let raw = try self.readKafkaUnsignedVarint(field: field)
            if raw == 0 { return nil }
            return Int(raw) - 1
        }
        let raw = try self.readKafkaInteger(as: Int32.self, field: field)
        if raw == -1 { return nil }
        guard raw >= 0 else {
            throw KafkaProtocolError(.invalidLength, "\(field) has a negative length \(raw)")
        }
        return Int(raw)
    }

    // MARK: Reading strings, bytes and records

    mutating func readKafkaString(compact: Bool, field: StaticString) throws(KafkaProtocolError) -> String {
        guard let length = try self.readKafkaStringLength(compact: compact, field: field) else {
            throw .unexpectedNull(field)
        }
        return try self.readKafkaUTF8(length: length, field: field)
    }

    mutating func readKafkaNullableString(
        compact: Bool,
        nullable: Bool,
        field: StaticString
    ) throws(KafkaProtocolError) -> String? {
        guard let length = try self.readKafkaStringLength(compact: compact, field: field) else {
            guard nullable else { throw .unexpectedNull(field) }
            return nil
        }
        return try self.readKafkaUTF8(length: length, field: field)
    }

    /// Reads `length` bytes (already checked against the bytes that remain) as strictly valid UTF-8.
    mutating func readKafkaUTF8(length: Int, field: StaticString) throws(KafkaProtocolError) -> String {
        if length == 0 { return "" }
        let string: String? = self.withUnsafeReadableBytes { raw in
            String(validating: UnsafeRawBufferPointer(rebasing: raw[..<length]), as: UTF8.self)
        }
        guard let string else {
            throw KafkaProtocolError(.invalidUTF8, "\(field) is not valid UTF-8")
        }
        self.moveReaderIndex(forwardBy: length)
        return string
    }

    mutating func readKafkaBytes(compact: Bool, field: StaticString) throws(KafkaProtocolError) -> [UInt8] {
        guard let bytes = try self.readKafkaNullableBytes(compact: compact, nullable: false, field: field) else {
            throw .unexpectedNull(field)
        }
        return bytes
    }

    mutating func readKafkaNullableBytes(
        compact: Bool,
        nullable: Bool,
        field: StaticString
    ) throws(KafkaProtocolError) -> [UInt8]? {
        guard let length = try self.readKafkaLength32(compact: compact, field: field) else {
            guard nullable else { throw .unexpectedNull(field) }
            return nil
        }
        guard length <= self.readableBytes else {
            throw .truncated(field, needed: length, remaining: self.readableBytes)
        }
        return self.readBytes(length: length)!
    }

    /// A `records` field as a slice of this buffer's storage: the record batches are not copied.
    mutating func readKafkaRecords(
        compact: Bool,
        nullable: Bool,
        field: StaticString
    ) throws(KafkaProtocolError) -> ByteBuffer? {
        guard let length = try self.readKafkaLength32(compact: compact, field: field) else {
            guard nullable else { throw .unexpectedNull(field) }
            return nil
        }
        guard length <= self.readableBytes else {
            throw .truncated(field, needed: length, remaining: self.readableBytes)
        }
        return self.readSlice(length: length)!
    }

    // MARK: Reading arrays, structures and tagged fields

    /// An array's element count, checked so that `count * elementBytesMin` bytes remain: no element count a peer
    /// claims can exceed what its bytes could hold (Kafka checks the same with an element size of 1).
    mutating func readKafkaArrayCount(
        compact: Bool,
        elementBytesMin: Int,
        field: StaticString
    ) throws(KafkaProtocolError) -> Int {
        guard
            let count = try self.readKafkaNullableArrayCount(
                compact: compact,
                nullable: false,
                elementBytesMin: elementBytesMin,
                field: field
            )
        else { throw .unexpectedNull(field) }
        return count
    }

    mutating func readKafkaNullableArrayCount(
        compact: Bool,
        nullable: Bool,
        elementBytesMin: Int,
        field: StaticString
    ) throws(KafkaProtocolError) -> Int? {
        guard let count = try self.readKafkaLength32(compact: compact, field: field) else {
            guard nullable else { throw .unexpectedNull(field) }
            return nil
        }
        guard count <= self.readableBytes / Swift.max(elementBytesMin, 1) else {
            throw KafkaProtocolError(
                .invalidLength,
                "\(field) claims \(count) elements but only \(self.readableBytes) bytes remain"
            )
        }
        return count
    }

    /// The marker before a nullable structure: -1 for null, 1 for present.
    mutating func readKafkaStructMarker(nullable: Bool, field: StaticString) throws(KafkaProtocolError) -> Bool {
        let marker = try self.readKafkaInteger(as: Int8.self, field: field)
        if marker < 0 {
            guard nullable else { throw .unexpectedNull(field) }
            return false
        }
        return true
    }

    /// The number of tagged fields that follow; each takes at least 2 bytes (tag and size).
    mutating func readKafkaTaggedFieldCount(field: StaticString) throws(KafkaProtocolError) -> Int {
        let count = Int(try self.readKafkaUnsignedVarint(field: field))
        guard count <= self.readableBytes / 2 else {
            throw KafkaProtocolError(
                .invalidLength,
                "\(field) claims \(count) tagged fields but only \(self.readableBytes) bytes remain"
            )
        }
        return count
    }

    /// One tagged field: its tag and its value as a slice, checked against the bytes that remain.
    mutating func readKafkaTaggedField(
        field: StaticString
    ) throws(KafkaProtocolError) -> (tag: UInt32, value: ByteBuffer) {
        let tag = try self.readKafkaUnsignedVarint(field: field)
        let byteCount = Int(try self.readKafkaUnsignedVarint(field: field))
        guard byteCount <= self.readableBytes else {
            throw .truncated(field, needed: byteCount, remaining: self.readableBytes)
        }
        return (tag, self.readSlice(length: byteCount)!)
    }

    /// Reads a tagged-field section whose tags are all unknown to this structure, skipping them.
    mutating func skipKafkaTaggedFields(field: StaticString) throws(KafkaProtocolError) {
        let count = try self.readKafkaTaggedFieldCount(field: field)
        for _ in 0..<count {
            _ = try self.readKafkaTaggedField(field: field)
        }
    }

    /// Checks that a known tagged field's value used exactly the bytes its size announced.
    func checkKafkaTaggedFieldConsumed(tag: UInt32, field: StaticString) throws(KafkaProtocolError) {
        guard self.readableBytes == 0 else {
            throw KafkaProtocolError(
                .invalidLength,
                "\(field) (tag \(tag)) leaves \(self.readableBytes) bytes of its tagged field unread"
            )
        }
    }

    // MARK: Writing

    mutating func writeKafkaUnsignedVarint(_ value: UInt32) {
        if value < 0x80 {
            self.writeInteger(UInt8(value))
            return
        }
        var remaining = value
        var bytes: UInt64 = 0
        var byteCount = 0
        while remaining >= 0x80 {
            bytes |= UInt64(UInt8(truncatingIfNeeded: remaining) | 0x80) << UInt64(8 * byteCount)
            remaining >>= 7
            byteCount += 1
        }
        bytes |= UInt64(remaining) << UInt64(8 * byteCount)
        byteCount += 1
        // One write of the assembled bytes (little-endian puts the first varint byte first).
        withUnsafeBytes(of: bytes.littleEndian) { raw in
            _ = self.writeBytes(UnsafeRawBufferPointer(rebasing: raw[..<byteCount]))
        }
    }

    /// Writes a run of fixed-size fields through one raw pointer: one capacity check for the run instead of one
    /// per field.
    @inline(__always)
    mutating func writeKafkaFixedSize(byteCount: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) {
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: byteCount) { pointer in
            body(pointer)
            return byteCount
        }
    }

    mutating func writeKafkaBool(_ value: Bool) {
        self.writeInteger(value ? 1 as UInt8 : 0)
    }

    mutating func writeKafkaFloat64(_ value: Double) {
        self.writeInteger(value.bitPattern)
    }

    mutating func writeKafkaUUID(_ value: KafkaUUID) {
        self.writeMultipleIntegers(value.mostSignificantBits, value.leastSignificantBits)
    }

    /// Writes the null marker of a string, bytes, records or array field, or throws if `nullable` is false.
    mutating func writeKafkaNull(
        compact: Bool,
        nullable: Bool,
        lengthBytes: Int,
        field: StaticString
    ) throws(KafkaProtocolError) {
        guard nullable else { throw .unexpectedNull(field) }
        if compact {
            self.writeInteger(UInt8(0))
        } else if lengthBytes == 2 {
            self.writeInteger(Int16(-1))
        } else {
            self.writeInteger(Int32(-1))
        }
    }

    mutating func writeKafkaLength32(_ length: Int, compact: Bool, field: StaticString) throws(KafkaProtocolError) {
        guard length < Int(Int32.max) else {
            throw KafkaProtocolError(.invalidValue, "\(field) is too long to encode (\(length))")
        }
        if compact {
            self.writeKafkaUnsignedVarint(UInt32(length + 1))
        } else {
            self.writeInteger(Int32(length))
        }
    }

    mutating func writeKafkaString(_ value: String, compact: Bool, field: StaticString) throws(KafkaProtocolError) {
        let byteCount = value.utf8.count
        guard byteCount <= kafkaStringBytesMax else {
            throw KafkaProtocolError(
                .invalidValue,
                "\(field) is \(byteCount) bytes, over Kafka's string limit of \(kafkaStringBytesMax)"
            )
        }
        if compact {
            self.writeKafkaUnsignedVarint(UInt32(byteCount + 1))
        } else {
            self.writeInteger(Int16(byteCount))
        }
        self.writeString(value)
    }

    mutating func writeKafkaNullableString(
        _ value: String?,
        compact: Bool,
        nullable: Bool,
        field: StaticString
    ) throws(KafkaProtocolError) {
        guard let value else {
            try self.writeKafkaNull(compact: compact, nullable: nullable, lengthBytes: 2, field: field)
            return
        }
        try self.writeKafkaString(value, compact: compact, field: field)
    }

    mutating func writeKafkaBytes(_ value: [UInt8], compact: Bool, field: StaticString) throws(KafkaProtocolError) {
        try self.writeKafkaLength32(value.count, compact: compact, field: field)
        self.writeBytes(value)
    }

    mutating func writeKafkaNullableBytes(
        _ value: [UInt8]?,
        compact: Bool,
        nullable: Bool,
        field: StaticString
    ) throws(KafkaProtocolError) {
        guard let value else {
            try self.writeKafkaNull(compact: compact, nullable: nullable, lengthBytes: 4, field: field)
            return
        }
        try self.writeKafkaBytes(value, compact: compact, field: field)
    }

    /// Writes a `records` field: its length, then its bytes in one copy.
    mutating func writeKafkaRecords(
        _ value: ByteBuffer?,
        compact: Bool,
        nullable: Bool,
        field: StaticString
    ) throws(KafkaProtocolError) {
        guard let value else {
            try self.writeKafkaNull(compact: compact, nullable: nullable, lengthBytes: 4, field: field)
            return
        }
        try self.writeKafkaLength32(value.readableBytes, compact: compact, field: field)
        self.writeImmutableBuffer(value)
    }

    mutating func writeKafkaArrayCount(_ count: Int, compact: Bool, field: StaticString) throws(KafkaProtocolError) {
        try self.writeKafkaLength32(count, compact: compact, field: field)
    }

    /// The marker before a nullable structure: -1 for null, 1 for present.
    mutating func writeKafkaStructMarker(present: Bool, nullable: Bool, field: StaticString) throws(KafkaProtocolError)
    {
        if present {
            self.writeInteger(Int8(1))
        } else {
            guard nullable else { throw .unexpectedNull(field) }
            self.writeInteger(Int8(-1))
        }
    }

    /// Writes one tagged field: its tag, its size, and the value `body` writes.
    ///
    /// The size goes in a one-byte slot reserved before the value, which fits the tagged values Kafka defines;
    /// a value of 128 bytes or more is moved to make room for a longer size.
    mutating func writeKafkaTaggedField(
        tag: UInt32,
        _ body: (inout ByteBuffer) throws(KafkaProtocolError) -> Void
    ) throws(KafkaProtocolError) {
        self.writeKafkaUnsignedVarint(tag)
        let sizeIndex = self.writerIndex
        self.writeInteger(UInt8(0))
        let valueIndex = self.writerIndex
        try body(&self)
        let valueBytes = self.writerIndex - valueIndex
        if valueBytes < 0x80 {
            self.setInteger(UInt8(valueBytes), at: sizeIndex)
            return
        }
        guard valueBytes <= Int(UInt32.max) else {
            throw KafkaProtocolError(.invalidValue, "tagged field \(tag) is too large (\(valueBytes) bytes)")
        }
        let value = self.getBytes(at: valueIndex, length: valueBytes)!
        self.moveWriterIndex(to: sizeIndex)
        self.writeKafkaUnsignedVarint(UInt32(valueBytes))
        self.writeBytes(value)
    }
}

extension UnsafeMutableRawBufferPointer {
    // Stores for `writeKafkaFixedSize`: big-endian, at byte offsets the generator computed (unaligned stores are
    // fine for `storeBytes`).

    @inline(__always)
    func storeKafka<Value: FixedWidthInteger>(_ value: Value, at offset: Int) {
        self.storeBytes(of: value.bigEndian, toByteOffset: offset, as: Value.self)
    }

    @inline(__always)
    func storeKafka(_ value: Bool, at offset: Int) {
        self.storeBytes(of: value ? 1 as UInt8 : 0, toByteOffset: offset, as: UInt8.self)
    }

    @inline(__always)
    func storeKafka(_ value: Double, at offset: Int) {
        self.storeKafka(value.bitPattern, at: offset)
    }

    @inline(__always)
    func storeKafka(_ value: KafkaUUID, at offset: Int) {
        self.storeKafka(value.mostSignificantBits, at: offset)
        self.storeKafka(value.leastSignificantBits, at: offset + 8)
    }
}
