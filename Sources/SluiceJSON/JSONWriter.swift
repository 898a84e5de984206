/// Writes JSON text into a reusable byte buffer, fast enough for a pipeline's output path: no Foundation, no
/// String building for numbers and strings, one uniqueness check per write and no allocation once the buffer
/// has grown to the size of a document.
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
/// writer.withBytes { send($0) }            // no copy
/// writer.reset()                            // keeps the buffer for the next document
/// ```
public struct JSONWriter: Sendable {
    private var storage: JSONWriterStorage
    /// The bytes written so far.
    public internal(set) var byteCount = 0
    /// Whether the next key or value follows an element of the same container and so needs a comma.
    var needsComma = false
    /// The containers open now.
    private var depth = 0

    /// An empty writer whose buffer holds `byteCount` bytes before it grows.
    public init(reservingCapacity byteCount: Int = 256) {
        self.storage = JSONWriterStorage(capacity: byteCount)
    }

    /// A copy of the text written so far; `withBytes(_:)` reads it without copying.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: self.storage.bytes, count: self.byteCount)) }

    /// Calls `body` with the text written so far, without copying it.
    public func withBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try withExtendedLifetime(self.storage) { () throws(Failure) in
            try body(UnsafeRawBufferPointer(start: self.storage.bytes, count: self.byteCount))
        }
    }

    /// Whether what was written is one complete value: something written, and every container closed.
    public var isComplete: Bool { self.depth == 0 && self.byteCount > 0 }

    /// Empties the writer for the next document, keeping its buffer.
    public mutating func reset() {
        self.byteCount = 0
        self.needsComma = false
        self.depth = 0
    }

    /// The address at which the next `byteCountMax` bytes (at most) can be written: the storage is made
    /// unique (copy on write) and grown as needed. Advance `byteCount` by what was written.
    @inline(__always)
    mutating func room(for byteCountMax: Int) -> UnsafeMutablePointer<UInt8> {
        if !isKnownUniquelyReferenced(&self.storage) {
            self.storage = self.storage.copy(byteCount: self.byteCount)
        }
        if self.storage.capacity - self.byteCount < byteCountMax {
            self.storage.grow(toHold: self.byteCount + byteCountMax, keeping: self.byteCount)
        }
        return self.storage.bytes + self.byteCount
    }

    /// Room for one element of at most `byteCountMax` bytes, after the comma due before it (written here).
    /// What follows the element needs a comma.
    @inline(__always)
    mutating func elementRoom(for byteCountMax: Int) -> UnsafeMutablePointer<UInt8> {
        let out = self.room(for: byteCountMax + 1)
        out[0] = UInt8(ascii: ",")
        let commaCount = self.needsComma ? 1 : 0
        self.byteCount += commaCount
        self.needsComma = true
        return out + commaCount
    }

    public mutating func beginObject() {
        self.open(UInt8(ascii: "{"))
    }

    public mutating func endObject() {
        self.close(UInt8(ascii: "}"), "endObject without an open object")
    }

    public mutating func beginArray() {
        self.open(UInt8(ascii: "["))
    }

    public mutating func endArray() {
        self.close(UInt8(ascii: "]"), "endArray without an open array")
    }

    @inline(__always)
    private mutating func open(_ bracket: UInt8) {
        self.elementRoom(for: 1)[0] = bracket
        self.byteCount += 1
        self.needsComma = false
        self.depth += 1
    }

    @inline(__always)
    private mutating func close(_ bracket: UInt8, _ message: @autoclosure () -> String) {
        precondition(self.depth > 0, message())
        self.room(for: 1)[0] = bracket
        self.byteCount += 1
        self.needsComma = true
        self.depth -= 1
    }

    public mutating func bool(_ value: Bool) {
        let text = self.elementRoom(for: 5)
        // "true", or "f" and "alse", as little-endian words.
        if value {
            UnsafeMutableRawPointer(text).storeBytes(of: UInt32(0x6575_7274).littleEndian, as: UInt32.self)
            self.byteCount += 4
        } else {
            text[0] = UInt8(ascii: "f")
            UnsafeMutableRawPointer(text + 1).storeBytes(of: UInt32(0x6573_6C61).littleEndian, as: UInt32.self)
            self.byteCount += 5
        }
    }

    public mutating func null() {
        let text = self.elementRoom(for: 4)
        UnsafeMutableRawPointer(text).storeBytes(of: UInt32(0x6C6C_756E).littleEndian, as: UInt32.self)
        self.byteCount += 4
    }

    /// Writes `encodedValue`, which must already be one complete JSON value (a value a scan found, say): it is
    /// copied as it is, so a nested object passes through without being parsed or re-encoded.
    public mutating func raw(_ encodedValue: UnsafeRawBufferPointer) {
        let text = self.elementRoom(for: encodedValue.count)
        if let source = encodedValue.baseAddress {
            UnsafeMutableRawPointer(text).copyMemory(from: source, byteCount: encodedValue.count)
        }
        self.byteCount += encodedValue.count
    }

    /// Writes `encodedValue`, one complete JSON value, as it is.
    public mutating func raw(_ encodedValue: [UInt8]) {
        encodedValue.withUnsafeBytes { self.raw($0) }
    }
}
