import CSluiceSIMD

extension JSONScanCursor {
    /// Skips the string whose opening quote is at `quote`, checking it; returns where it ends (after its closing
    /// quote) and whether it has escapes.
    ///
    /// Checked: no raw control character (below U+0020), only the escapes JSON defines, `\u` surrogates in
    /// pairs, and well-formed UTF-8 (RFC 3629: no overlong forms, no encoded surrogates, nothing past U+10FFFF),
    /// in skipped strings too. UTF-8 is checked everywhere because pipelines forward raw bytes, and a string that
    /// later fails to decode far from its source is worse than a record refused where it enters; ASCII, the
    /// usual case, costs nothing extra: the vector compare that finds quotes flags non-ASCII bytes too.
    ///
    /// Inline: the common string (ASCII, no escapes, the closing quote the first byte to stop at) costs no call;
    /// everything else goes on in `skipStringSlowly`.
    @inline(__always)
    func skipString(openingAt quote: UnsafeRawPointer) throws(JSONError) -> (end: UnsafeRawPointer, hasEscapes: Bool) {
        let position = self.nextStringStop(from: quote + 1)
        if position < self.end && position.load(as: UInt8.self) == UInt8(ascii: "\"") { return (position + 1, false) }
        return try self.skipStringSlowly(from: position)
    }

    /// Goes on skipping a string from `start`, anywhere inside it, byte by byte where it must.
    @inline(never)
    func skipStringSlowly(from start: UnsafeRawPointer) throws(JSONError) -> (end: UnsafeRawPointer, hasEscapes: Bool) {
        var hasEscapes = false
        var position = start
        while true {
            position = self.nextStringStop(from: position)
            guard position < self.end else {
                throw self.truncated(at: position, expecting: "'\"' to close a string")
            }
            let byte = position.load(as: UInt8.self)
            if byte == UInt8(ascii: "\"") {
                return (position + 1, hasEscapes)
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                position = try self.skipEscape(at: position)
            } else if byte < 0x20 {
                throw self.error(.invalidString, at: position, "a control character must be escaped in a string")
            } else {
                position = try self.skipUTF8Sequence(at: position)
            }
        }
    }

    /// The first byte from `start` on that a string scanner must look at (a quote, a backslash, a control
    /// character, a non-ASCII byte), or the document's end when there is none.
    ///
    /// Sixteen bytes a step while sixteen remain; the last step reads the document's last sixteen bytes and
    /// ignores those before `start`, so that only a document shorter than sixteen bytes goes byte by byte.
    @inline(__always)
    func nextStringStop(from start: UnsafeRawPointer) -> UnsafeRawPointer {
        var position = start
        while self.end - position >= Int(CSLUICE_SIMD_BYTES) {
            let stops = csluice_json_string_stops16(position)
            if stops != 0 { return position + stops.trailingZeroBitCount }
            position += Int(CSLUICE_SIMD_BYTES)
        }
        let tail = self.end - Int(CSLUICE_SIMD_BYTES)
        guard tail >= self.start else { return self.nextStringStopInShortDocument(from: position) }
        // `position` is past `tail` by 1 to 16 bytes: the bits of the bytes before it are shifted out.
        let stops = csluice_json_string_stops16(tail) >> UInt32(position - tail)
        return stops != 0 ? position + stops.trailingZeroBitCount : self.end
    }

    /// `nextStringStop(from:)` in a document of fewer than sixteen bytes.
    @inline(never)
    func nextStringStopInShortDocument(from start: UnsafeRawPointer) -> UnsafeRawPointer {
        var position = start
        while position < self.end {
            let byte = position.load(as: UInt8.self)
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
            position += 1
        }
        return position
    }

    /// Skips the escape whose backslash is at `backslash`.
    func skipEscape(at backslash: UnsafeRawPointer) throws(JSONError) -> UnsafeRawPointer {
        var position = backslash + 1
        guard position < self.end else { throw self.truncated(at: position, expecting: "an escape") }
        switch position.load(as: UInt8.self) {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return position + 1
        case UInt8(ascii: "u"):
            position += 1
            let first = try self.hexDigit(at: position)
            let second = try self.hexDigit(at: position + 1)
            if first == 0xD && second >= 0xC {
                throw self.error(.invalidEscape, at: position + 1,
                                 "a low surrogate escape without a high surrogate before it")
            }
            _ = try self.hexDigit(at: position + 2)
            _ = try self.hexDigit(at: position + 3)
            position += 4
            if first == 0xD && second >= 0x8 {
                position = try self.skipLowSurrogateEscape(at: position)
            }
            return position
        default:
            throw self.error(.invalidEscape, at: position, "an escape JSON does not define")
        }
    }

    /// Skips the `\uDC00`...`\uDFFF` that must follow a high surrogate escape.
    private func skipLowSurrogateEscape(at start: UnsafeRawPointer) throws(JSONError) -> UnsafeRawPointer {
        let reason = "a high surrogate escape must be followed by a low surrogate escape"
        try self.expect(UInt8(ascii: "\\"), at: start, orThrow: reason)
        try self.expect(UInt8(ascii: "u"), at: start + 1, orThrow: reason)
        guard try self.hexDigit(at: start + 2) == 0xD else { throw self.error(.invalidEscape, at: start + 2, reason) }
        guard try self.hexDigit(at: start + 3) >= 0xC else { throw self.error(.invalidEscape, at: start + 3, reason) }
        _ = try self.hexDigit(at: start + 4)
        _ = try self.hexDigit(at: start + 5)
        return start + 6
    }

    private func expect(_ expected: UInt8, at position: UnsafeRawPointer, orThrow reason: String) throws(JSONError) {
        guard position < self.end else { throw self.truncated(at: position, expecting: "a low surrogate escape") }
        guard position.load(as: UInt8.self) == expected else { throw self.error(.invalidEscape, at: position, reason) }
    }

    private func hexDigit(at position: UnsafeRawPointer) throws(JSONError) -> UInt8 {
        guard position < self.end else { throw self.truncated(at: position, expecting: "a hexadecimal digit") }
        guard let value = JSONStringDecoder.hexValue(position.load(as: UInt8.self)) else {
            throw self.error(.invalidEscape, at: position, "expected a hexadecimal digit in a \\u escape")
        }
        return value
    }

    /// Skips the UTF-8 sequence whose lead byte (0x80 or above) is at `lead`, checking it (RFC 3629's table).
    func skipUTF8Sequence(at lead: UnsafeRawPointer) throws(JSONError) -> UnsafeRawPointer {
        // The range of the byte after the lead; later continuation bytes are 0x80...0xBF.
        let continuationCount: Int
        var secondLow: UInt8 = 0x80
        var secondHigh: UInt8 = 0xBF
        switch lead.load(as: UInt8.self) {
        case 0xC2...0xDF: continuationCount = 1
        case 0xE0: continuationCount = 2; secondLow = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: continuationCount = 2
        case 0xED: continuationCount = 2; secondHigh = 0x9F
        case 0xF0: continuationCount = 3; secondLow = 0x90
        case 0xF1...0xF3: continuationCount = 3
        case 0xF4: continuationCount = 3; secondHigh = 0x8F
        default: throw self.error(.invalidString, at: lead, "a byte that cannot start a UTF-8 sequence")
        }
        var position = lead + 1
        for index in 0..<continuationCount {
            guard position < self.end else {
                throw self.truncated(at: position, expecting: "the rest of a UTF-8 sequence")
            }
            let byte = position.load(as: UInt8.self)
            guard byte >= (index == 0 ? secondLow : 0x80) && byte <= (index == 0 ? secondHigh : 0xBF) else {
                throw self.error(.invalidString, at: position, "a byte that cannot continue this UTF-8 sequence")
            }
            position += 1
        }
        return position
    }
}
