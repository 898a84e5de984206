import NIOCore

/// A JSON string kept as the document wrote it: the bytes between its quotes, escapes unresolved, in a buffer
/// that shares the scanned document's memory (Flink's `BinaryStringData`, simdjson's raw strings).
///
/// Reading a string field this way costs neither an allocation nor a copy, where a `String` costs both and a
/// check of its UTF-8; writing it out again (`JSONWriter.string(_:)`) copies its bytes as they are, escapes
/// included, which is valid JSON since the scanner validated them. `string` resolves it into a Swift `String`
/// when one is needed. The text keeps the buffer it lies in alive, as any slice of a `ByteBuffer` does.
///
/// Equality and hashing are by the text the string stands for, as UTF-8 bytes: `"\u0041"` equals `"A"`.
public struct JSONText: Sendable, Hashable, CustomStringConvertible {
    /// The string's bytes, nil for the empty string: an empty text holds no buffer, so that making, copying and
    /// dropping one (a field a query does not read) counts no references.
    @usableFromInline let storage: ByteBuffer?
    /// Whether the bytes hold backslash escapes: without any, they are the text's UTF-8.
    public let hasEscapes: Bool

    /// Bytes that a scanner accepted as a string's content: valid UTF-8, escapes valid, no control character.
    @inlinable
    init(escapedBytes: ByteBuffer, hasEscapes: Bool) {
        self.init(storage: escapedBytes.readableBytes == 0 ? nil : escapedBytes, hasEscapes: hasEscapes)
    }

    @inlinable
    init(storage: ByteBuffer?, hasEscapes: Bool) {
        self.storage = storage
        self.hasEscapes = hasEscapes
    }

    /// The string's byte count between its quotes, escapes unresolved.
    public var escapedByteCount: Int { self.storage?.readableBytes ?? 0 }

    /// Calls `body` with the string's bytes between its quotes, escapes unresolved.
    @inlinable
    public func withEscapedBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        guard let storage = self.storage else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try storage.withUnsafeReadableBytes(body)
    }

    /// The text of `string`, escaped as `JSONWriter` escapes strings.
    public init(_ string: String) {
        var writer = JSONWriter(reservingCapacity: string.utf8.count + 8)
        writer.string(string)
        let (content, hasEscapes) = writer.withBytes { quoted in
            let content = UnsafeRawBufferPointer(rebasing: quoted[1..<(quoted.count - 1)])
            return (ByteBuffer(bytes: content), content.contains(UInt8(ascii: "\\")))
        }
        self.init(escapedBytes: content, hasEscapes: hasEscapes)
    }

    /// The empty string.
    @inlinable
    public static var empty: JSONText { JSONText(storage: nil, hasEscapes: false) }

    /// The text as a Swift string, escapes resolved.
    public var string: String {
        self.withEscapedBytes { content in
            self.hasEscapes ? JSONStringDecoder.string(content) : String(decoding: content, as: UTF8.self)
        }
    }

    public var description: String { self.string }

    /// The text's UTF-8 bytes, escapes resolved, to `body`: in place when there are no escapes.
    public func withUTF8<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        guard self.hasEscapes else { return try self.withEscapedBytes(body) }
        var text = self.string
        return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }

    public static func == (lhs: JSONText, rhs: JSONText) -> Bool {
        lhs.withUTF8 { left in rhs.withUTF8 { right in left.elementsEqual(right) } }
    }

    public func hash(into hasher: inout Hasher) {
        self.withUTF8 { hasher.combine(bytes: $0) }
    }
}

extension JSONWriter {
    /// Writes `text` as a string value: its bytes as they are, escapes included.
    public mutating func string(_ text: JSONText) {
        let byteCount = text.escapedByteCount
        let out = self.elementRoom(for: byteCount + 2)
        out[0] = UInt8(ascii: "\"")
        text.withEscapedBytes { content in
            if let source = content.baseAddress {
                UnsafeMutableRawPointer(out + 1).copyMemory(from: source, byteCount: byteCount)
            }
        }
        out[byteCount + 1] = UInt8(ascii: "\"")
        self.byteCount += byteCount + 2
    }
}
