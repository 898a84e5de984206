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
        // Resolving escapes only shortens: `\n` is 2 bytes for 1, `\uXXXX` 6 for at most 3, a pair 12 for 4.
        return String(unsafeUninitializedCapacity: content.count) { buffer in
            var decoder = JSONStringDecoder(content: content)
            var byteCount = 0
            while let byte = decoder.next() {
                buffer[byteCount] = byte
                byteCount += 1
            }
            return byteCount
        }
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
