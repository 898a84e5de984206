import NIOCore

/// A window's stored state: the accumulator and how many records it took since its last emission
/// (what count and early triggers look at).
@usableFromInline
struct WindowState<Accumulator> {
    @usableFromInline var accumulator: Accumulator
    @usableFromInline var pendingCount: Int64
    /// Changed since the store's last flush (not stored).
    @usableFromInline var isDirty = false

    @inlinable
    init(accumulator: Accumulator, pendingCount: Int64) {
        self.accumulator = accumulator
        self.pendingCount = pendingCount
    }

    /// Runs `body` on the state in place.
    @inlinable @inline(__always)
    mutating func withDirtyFlag(_ body: (inout WindowState) -> Void) {
        body(&self)
    }
}

/// Changelog encodings of the window stores: the key's bytes followed by the window's start and
/// end (8 bytes each, big-endian); the value's pending count (8 bytes) followed by the accumulator.
@usableFromInline
enum WindowCodec {
    static func encodeKey<Key>(_ windowed: Windowed<Key>, _ serde: Serde<Key>) -> [UInt8] {
        Self.encodeKey(windowed.key, windowed.window, serde)
    }

    /// The key of `key` in `window`, in one allocation besides the key's own bytes.
    @inlinable
    static func encodeKey<Key>(_ key: Key, _ window: Window, _ serde: Serde<Key>) -> [UInt8] {
        let keyBytes = serde.serialize(key) ?? []
        return [UInt8](unsafeUninitializedCapacity: keyBytes.count + 16) { buffer, initializedCount in
            _ = buffer.initialize(from: keyBytes)
            let bounds = UnsafeMutableRawPointer(buffer.baseAddress! + keyBytes.count)
            bounds.storeBytes(of: window.start.bigEndian, as: Int64.self)
            (bounds + 8).storeBytes(of: window.end.bigEndian, as: Int64.self)
            initializedCount = keyBytes.count + 16
        }
    }

    static func decodeKey<Key>(_ buffer: ByteBuffer, _ serde: Serde<Key>) throws -> Windowed<Key> {
        let keyLength = buffer.readableBytes - 16
        guard keyLength >= 0, let start = buffer.getInteger(at: buffer.readerIndex + keyLength, as: Int64.self),
              let end = buffer.getInteger(at: buffer.readerIndex + keyLength + 8, as: Int64.self) else {
            throw DeserializationError("a windowed key needs at least 16 bytes")
        }
        let key = try serde.deserialize(buffer.getSlice(at: buffer.readerIndex, length: keyLength))
        return Windowed(key: key, window: Window(start: start, end: end))
    }

    /// The pending count (8 bytes) followed by the accumulator's bytes, in one allocation besides theirs.
    @inlinable
    static func encodeValue<Accumulator>(_ state: WindowState<Accumulator>, _ serde: Serde<Accumulator>) -> [UInt8] {
        let accumulatorBytes = serde.serialize(state.accumulator) ?? []
        return [UInt8](unsafeUninitializedCapacity: 8 + accumulatorBytes.count) { buffer, initializedCount in
            UnsafeMutableRawPointer(buffer.baseAddress!).storeBytes(of: state.pendingCount.bigEndian, as: Int64.self)
            _ = UnsafeMutableBufferPointer(rebasing: buffer[8...]).initialize(from: accumulatorBytes)
            initializedCount = 8 + accumulatorBytes.count
        }
    }

    static func decodeValue<Accumulator>(_ buffer: ByteBuffer, _ serde: Serde<Accumulator>) throws -> WindowState<Accumulator> {
        guard let pending = buffer.getInteger(at: buffer.readerIndex, as: Int64.self) else {
            throw DeserializationError("a window state needs at least 8 bytes")
        }
        let accumulator = try serde.deserialize(buffer.getSlice(at: buffer.readerIndex + 8, length: buffer.readableBytes - 8))
        return WindowState(accumulator: accumulator, pendingCount: pending)
    }
}
