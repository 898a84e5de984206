extension JSONScanCursor {
    /// Skips the string whose opening quote is at `quote`, checking it; returns where it ends (after its closing
    /// quote) and whether it has escapes.
    ///
    /// Checked: no raw control character (below U+0020), only the escapes JSON defines, `\u` surrogates in
    /// pairs, and well-formed UTF-8 (RFC 3629: no overlong forms, no encoded surrogates, nothing past U+10FFFF),
    /// in skipped strings too. UTF-8 is checked everywhere because pipelines forward raw bytes, and a string that
    /// later fails to decode far from its source is worse than a record refused where it enters; ASCII, the
    /// usual case, costs one extra AND per eight bytes.
    ///
    /// Inline: the common string (ASCII, no escapes, the closing quote found by the first stop in a word) costs
    /// no call; everything else goes on in `skipStringSlowly`.
    @inline(__always)
    func skipString(openingAt quote: UnsafeRawPointer) throws(JSONError) -> (end: UnsafeRawPointer, hasEscapes: Bool) {
        var position = quote + 1
        while self.end - position >= 8 {
            let word = JSONWordScan.load(position)
            let quotes = JSONWordScan.equalMask(word, UInt8(ascii: "\""))
            let stops = quotes | JSONWordScan.stringStopMask(word)
            if stops != 0 {
                position += JSONWordScan.firstByteIndex(of: stops)
                // Whether the first stop is the closing quote, from the masks rather than from a load that
                // would wait for them.
                if quotes & stops & (0 &- stops) != 0 { return (position + 1, false) }
                break
            }
            position += 8
        }
        return try self.skipStringSlowly(from: position)
    }

    /// Goes on skipping a string from `start`, anywhere inside it, byte by byte where it must.
    @inline(never)
    func skipStringSlowly(from start: UnsafeRawPointer) throws(JSONError) -> (end: UnsafeRawPointer, hasEscapes: Bool) {
        var hasEscapes = false
        var position = start
        while true {
            while self.end - position >= 8 {
                let stops = JSONWordScan.stringStopMask(JSONWordScan.load(position))
                if stops != 0 {
                    position += JSONWordScan.firstByteIndex(of: stops)
                    break
                }
                position += 8
            }
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
            } else if byte >= 0x80 {
                position = try self.skipUTF8Sequence(at: position)
            } else {
                position += 1  // An ordinary byte among the last seven.
            }
        }
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
