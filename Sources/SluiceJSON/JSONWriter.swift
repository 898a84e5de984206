/// Writes JSON text into a byte buffer, fast enough for a pipeline's output path: no Foundation, no String
/// building for numbers, and a buffer that is kept and reused between documents.
///
/// Commas are the writer's business: it puts one before every key and every value that follows another element
/// of the same container, and none after a key. Which element is which is the caller's: the writer does not
/// check that keys and values alternate inside objects, nor that arrays hold no keys (a wrong sequence gives
/// invalid JSON); it only traps on closing more containers than were opened.
///
/// ```swift
/// var writer = JSONWriter(reservingCapacity: 256)
/// writer.beginObject()
/// writer.key("auction"); writer.int64(1007)
/// writer.key("bid"); writer.raw(bidValue.bytes)
/// writer.endObject()
/// send(writer.bytes)
/// writer.reset()                            // keeps the capacity for the next document
/// ```
public struct JSONWriter: Sendable {
    @usableFromInline var buffer: [UInt8]
    /// Whether the next key or value follows an element of the same container and so needs a comma.
    @usableFromInline var needsComma = false
    /// The containers open now.
    @usableFromInline var depth = 0

    /// An empty writer whose buffer holds `byteCount` bytes before it grows.
    public init(reservingCapacity byteCount: Int = 0) {
        self.buffer = []
        self.buffer.reserveCapacity(byteCount)
    }

    /// The text written so far.
    @inlinable
    public var bytes: [UInt8] { self.buffer }

    /// Whether what was written is one complete value: something written, and every container closed.
    @inlinable
    public var isComplete: Bool { self.depth == 0 && !self.buffer.isEmpty }

    /// Empties the writer for the next document, keeping its buffer's capacity.
    @inlinable
    public mutating func reset() {
        self.buffer.removeAll(keepingCapacity: true)
        self.needsComma = false
        self.depth = 0
    }

    /// Calls `body` with the text written so far, without copying it.
    @inlinable
    public func withBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try self.buffer.withUnsafeBufferPointer { (bytes) throws(Failure) in try body(UnsafeRawBufferPointer(bytes)) }
    }

    @inlinable @inline(__always)
    mutating func beginElement() {
        if self.needsComma { self.buffer.append(UInt8(ascii: ",")) }
    }

    @inlinable
    public mutating func beginObject() {
        self.beginElement()
        self.buffer.append(UInt8(ascii: "{"))
        self.needsComma = false
        self.depth += 1
    }

    @inlinable
    public mutating func endObject() {
        precondition(self.depth > 0, "endObject without an open object")
        self.buffer.append(UInt8(ascii: "}"))
        self.needsComma = true
        self.depth -= 1
    }

    @inlinable
    public mutating func beginArray() {
        self.beginElement()
        self.buffer.append(UInt8(ascii: "["))
        self.needsComma = false
        self.depth += 1
    }

    @inlinable
    public mutating func endArray() {
        precondition(self.depth > 0, "endArray without an open array")
        self.buffer.append(UInt8(ascii: "]"))
        self.needsComma = true
        self.depth -= 1
    }

    /// Writes an object key; the next call writes its value.
    @inlinable
    public mutating func key(_ name: String) {
        self.beginElement()
        self.appendQuoted(name)
        self.buffer.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    /// Writes an object key given as UTF-8 bytes (escaped as needed, not validated).
    @inlinable
    public mutating func key(utf8 name: UnsafeRawBufferPointer) {
        self.beginElement()
        self.appendQuoted(utf8: name)
        self.buffer.append(UInt8(ascii: ":"))
        self.needsComma = false
    }

    @inlinable
    public mutating func bool(_ value: Bool) {
        self.beginElement()
        if value {
            self.appendASCII(0x6575_7274, byteCount: 4)  // "true"
        } else {
            self.buffer.append(UInt8(ascii: "f"))
            self.appendASCII(0x6573_6C61, byteCount: 4)  // "alse"
        }
        self.needsComma = true
    }

    @inlinable
    public mutating func null() {
        self.beginElement()
        self.appendASCII(0x6C6C_756E, byteCount: 4)  // "null"
        self.needsComma = true
    }

    /// Writes `encodedValue`, which must already be one complete JSON value (a value a scan found, say): it is
    /// copied as it is, so a nested object passes through without being parsed or re-encoded.
    @inlinable
    public mutating func raw(_ encodedValue: UnsafeRawBufferPointer) {
        self.beginElement()
        self.buffer.append(contentsOf: encodedValue)
        self.needsComma = true
    }

    /// Writes `encodedValue`, one complete JSON value, as it is.
    @inlinable
    public mutating func raw(_ encodedValue: [UInt8]) {
        self.beginElement()
        self.buffer.append(contentsOf: encodedValue)
        self.needsComma = true
    }

    /// Appends the low `byteCount` bytes of `packed`, lowest first.
    @inlinable @inline(__always)
    mutating func appendASCII(_ packed: UInt32, byteCount: Int) {
        for index in 0..<byteCount {
            self.buffer.append(UInt8(truncatingIfNeeded: packed >> UInt32(index * 8)))
        }
    }
}
