/// Zig-zag variable-length integers as Kafka's record format uses them (protobuf's encoding).
public enum Varint {
    /// The most bytes a 64-bit varint takes.
    public static let bytesMax = 10

    @inlinable
    public static func zigZag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inlinable
    public static func unZigZag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// The bytes `value` takes zig-zag encoded.
    @inlinable
    public static func encodedByteCount(_ value: Int64) -> Int {
        var raw = zigZag(value)
        var byteCount = 1
        while raw >= 0x80 {
            raw >>= 7
            byteCount += 1
        }
        return byteCount
    }

    /// Writes `value` zig-zag encoded at `pointer`, which has room for `bytesMax` bytes; returns the bytes written.
    @inlinable
    public static func write(_ value: Int64, to pointer: UnsafeMutableRawPointer) -> Int {
        var raw = zigZag(value)
        var byteCount = 0
        while raw >= 0x80 {
            pointer.storeBytes(of: UInt8(truncatingIfNeeded: raw) | 0x80, toByteOffset: byteCount, as: UInt8.self)
            raw >>= 7
            byteCount += 1
        }
        pointer.storeBytes(of: UInt8(raw), toByteOffset: byteCount, as: UInt8.self)
        return byteCount + 1
    }

    /// Appends `value` zig-zag encoded: a one-byte value with one append, a longer one written on the stack and
    /// appended at once, so that the array checks its capacity once per value rather than once per byte.
    @inlinable
    public static func append(_ value: Int64, to bytes: inout [UInt8]) {
        let raw = zigZag(value)
        if raw < 0x80 {
            bytes.append(UInt8(raw))
            return
        }
        withUnsafeTemporaryAllocation(byteCount: Self.bytesMax, alignment: 1) { scratch in
            let byteCount = Self.write(value, to: scratch.baseAddress!)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<byteCount]))
        }
    }

    /// Reads a zig-zag varint at `index`, advancing it. Throws on truncation or more than 10 bytes.
    @inlinable
    public static func read(_ bytes: UnsafeRawBufferPointer, at index: inout Int) throws(SluiceError) -> Int64 {
        // One byte, the usual case for lengths, deltas and counts: no loop.
        if index < bytes.count, case let first = bytes[index], first < 0x80 {
            index += 1
            return unZigZag(UInt64(first))
        }
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.count else {
                throw SluiceError(.corruptData, "truncated varint at byte \(index)")
            }
            let byte = bytes[index]
            index += 1
            raw |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return unZigZag(raw) }
            shift += 7
            if shift >= 70 { throw SluiceError(.corruptData, "varint longer than 10 bytes at byte \(index)") }
        }
    }

    /// Reads an unsigned (not zig-zag) varint, as Kafka's flexible protocol versions use.
    @inlinable
    public static func readUnsigned(_ bytes: UnsafeRawBufferPointer, at index: inout Int) throws(SluiceError) -> UInt64 {
        var raw: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < bytes.count else {
                throw SluiceError(.corruptData, "truncated varint at byte \(index)")
            }
            let byte = bytes[index]
            index += 1
            raw |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return raw }
            shift += 7
            if shift >= 70 { throw SluiceError(.corruptData, "varint longer than 10 bytes at byte \(index)") }
        }
    }
}
