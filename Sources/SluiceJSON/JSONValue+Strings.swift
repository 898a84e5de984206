import NIOCore

extension JSONValue {
    /// The string's text between its quotes, escapes unresolved.
    @inlinable
    var stringContent: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self.bytes[1..<(self.bytes.count - 1)])
    }

    /// The string with its escapes resolved (`\n`, `\"`, `\uXXXX` and surrogate pairs, ...).
    ///
    /// The scanner has checked that the string is UTF-8 and that its escapes are valid, so this never fails on
    /// a `.string`; a string without escapes is copied as it is.
    public func string() throws(JSONError) -> String {
        guard self.kind == .string else { throw self.mismatch(expected: .string) }
        let content = self.stringContent
        guard self.stringHasEscapes else { return String(decoding: content, as: UTF8.self) }
        return JSONStringDecoder.string(content)
    }

    /// The string as a `JSONText`: a slice of `buffer`, with no copy and no allocation. The scanned document must
    /// lie in `buffer`'s readable bytes from `documentByteOffset` on (a record's value in the payload that
    /// `RecordBatch.forEachRecordView(inPayload:)` passes), so that the text can outlive the scan.
    @inlinable
    public func text(in buffer: ByteBuffer, documentByteOffset: Int) throws(JSONError) -> JSONText {
        guard self.kind == .string else { throw self.mismatch(expected: .string) }
        guard let slice = buffer.getSlice(at: buffer.readerIndex + documentByteOffset + self.byteOffset + 1,
                                          length: self.bytes.count - 2) else {
            preconditionFailure("the document does not lie in the buffer given")
        }
        return JSONText(escapedBytes: slice, hasEscapes: self.stringHasEscapes)
    }

    /// The string as a `JSONText` in a buffer of its own: one copy of its bytes, for documents not held by a buffer.
    public func text() throws(JSONError) -> JSONText {
        guard self.kind == .string else { throw self.mismatch(expected: .string) }
        return JSONText(escapedBytes: ByteBuffer(bytes: self.stringContent), hasEscapes: self.stringHasEscapes)
    }

    /// Whether this is a string whose text (escapes resolved) is exactly the UTF-8 bytes `utf8`. Allocates
    /// nothing: a string without escapes is compared as bytes.
    @inlinable
    public func stringEquals(_ utf8: UnsafeRawBufferPointer) -> Bool {
        guard self.kind == .string else { return false }
        let content = self.stringContent
        guard !self.stringHasEscapes else { return Self.escapedContent(content, equals: utf8) }
        guard content.count == utf8.count else { return false }
        guard let left = content.baseAddress, let right = utf8.baseAddress else { return content.count == 0 }
        return JSONWordScan.bytesEqual(left, right, byteCount: content.count)
    }

    /// Whether this is a string whose text is `text` (compared as UTF-8 bytes, not by Unicode equivalence).
    @inlinable
    public func stringEquals(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { self.stringEquals(UnsafeRawBufferPointer($0)) }
    }

    /// Whether this is a string whose text is the UTF-8 bytes `utf8`.
    @inlinable
    public func stringEquals(_ utf8: [UInt8]) -> Bool {
        utf8.withUnsafeBytes { self.stringEquals($0) }
    }

    @usableFromInline
    static func escapedContent(_ content: UnsafeRawBufferPointer, equals utf8: UnsafeRawBufferPointer) -> Bool {
        JSONStringDecoder.decoded(content, equals: utf8)
    }
}
