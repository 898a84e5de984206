extension JSONScanCursor {
    /// Skips the number starting at `start` (a minus or a digit), checking JSON's grammar:
    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`. Its value is read later, only if asked for.
    func skipNumber(at start: UnsafeRawPointer) throws(JSONError) -> UnsafeRawPointer {
        var position = start
        if position.load(as: UInt8.self) == UInt8(ascii: "-") {
            position += 1
        }
        guard position < self.end else { throw self.truncated(at: position, expecting: "a digit") }
        let first = position.load(as: UInt8.self)
        if first == UInt8(ascii: "0") {
            position += 1
            if position < self.end, Self.isDigit(position.load(as: UInt8.self)) {
                throw self.error(.invalidNumber, at: position, "a number cannot have a leading zero")
            }
        } else if Self.isDigit(first) {
            position = self.skipDigits(from: position + 1)
        } else {
            throw self.error(.invalidNumber, at: position, "expected a digit")
        }
        guard position < self.end else { return position }
        if position.load(as: UInt8.self) == UInt8(ascii: ".") {
            position = try self.skipRequiredDigits(from: position + 1, after: "'.'")
            guard position < self.end else { return position }
        }
        if position.load(as: UInt8.self) | 0x20 == UInt8(ascii: "e") {
            position += 1
            if position < self.end,
               case let sign = position.load(as: UInt8.self), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                position += 1
            }
            position = try self.skipRequiredDigits(from: position, after: "an exponent")
        }
        return position
    }

    /// Skips the number starting at `start` with a digit from 1 to 9, fast when it is an integer: its digits
    /// are found 8 at a time and the byte after them read from the same word. Anything else (a fraction, an
    /// exponent, a number at the document's very end) goes through `skipNumber(at:)`.
    @inline(__always)
    func skipUnsignedInteger(at start: UnsafeRawPointer) throws(JSONError) -> UnsafeRawPointer {
        var position = start
        while self.end - position >= 8 {
            let word = JSONWordScan.load(position)
            let nonDigits = JSONWordScan.nonDigitMask(word)
            if nonDigits != 0 {
                let digitCount = JSONWordScan.firstByteIndex(of: nonDigits)
                let next = UInt8(truncatingIfNeeded: word >> UInt64(digitCount &* 8))
                if next == UInt8(ascii: ".") || next | 0x20 == UInt8(ascii: "e") { break }
                return position + digitCount
            }
            position += 8
        }
        return try self.skipNumber(at: start)
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") <= 9
    }

    /// Skips decimal digits, eight at a time while eight bytes remain.
    @inline(__always)
    private func skipDigits(from start: UnsafeRawPointer) -> UnsafeRawPointer {
        var position = start
        while self.end - position >= 8 {
            let nonDigits = JSONWordScan.nonDigitMask(JSONWordScan.load(position))
            if nonDigits != 0 { return position + JSONWordScan.firstByteIndex(of: nonDigits) }
            position += 8
        }
        while position < self.end, Self.isDigit(position.load(as: UInt8.self)) {
            position += 1
        }
        return position
    }

    private func skipRequiredDigits(from start: UnsafeRawPointer, after what: StaticString) throws(JSONError)
        -> UnsafeRawPointer
    {
        guard start < self.end else { throw self.truncated(at: start, expecting: "a digit") }
        guard Self.isDigit(start.load(as: UInt8.self)) else {
            throw self.error(.invalidNumber, at: start, "expected a digit after \(what)")
        }
        return self.skipDigits(from: start + 1)
    }
}
