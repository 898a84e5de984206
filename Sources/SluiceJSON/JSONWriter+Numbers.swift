extension JSONWriter {
    /// The longest decimal text of a 64-bit integer: 20 digits, or a minus and 19.
    @usableFromInline static let integerByteCountMax = 20

    @inlinable
    public mutating func int64(_ value: Int64) {
        self.beginElement()
        self.appendDecimal(value.magnitude, isNegative: value < 0)
        self.needsComma = true
    }

    @inlinable
    public mutating func uint64(_ value: UInt64) {
        self.beginElement()
        self.appendDecimal(value, isNegative: false)
        self.needsComma = true
    }

    /// Writes the shortest decimal text that reads back as exactly `value`; JSON has no infinity or NaN, so
    /// those are written as `null`.
    ///
    /// Whole numbers below 2^53 are formatted here as digits and `.0`; anything else takes the standard
    /// library's shortest round-trip formatting (`description`), which is valid JSON for every finite Double
    /// (`1e-07`, `5e-324`, `1.7976931348623157e+308`) and allocates only for texts longer than 15 bytes.
    public mutating func double(_ value: Double) {
        guard value.isFinite else { return self.null() }
        self.beginElement()
        if value.magnitude < 0x1p53 && value == value.rounded(.towardZero) {
            self.appendDecimal(UInt64(value.magnitude), isNegative: value.sign == .minus)
            self.buffer.append(UInt8(ascii: "."))
            self.buffer.append(UInt8(ascii: "0"))
        } else {
            self.buffer.append(contentsOf: value.description.utf8)
        }
        self.needsComma = true
    }

    /// Appends `magnitude` in decimal, after a minus if `isNegative`: two digits per step from a table, written
    /// backwards into a stack buffer and appended at once.
    @usableFromInline
    mutating func appendDecimal(_ magnitude: UInt64, isNegative: Bool) {
        if magnitude < 10 && !isNegative {
            self.buffer.append(UInt8(truncatingIfNeeded: magnitude) &+ UInt8(ascii: "0"))
            return
        }
        let digitPairs = Self.digitPairs.utf8Start
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.integerByteCountMax) { text in
            var remaining = magnitude
            var index = Self.integerByteCountMax
            while remaining >= 100 {
                let pair = Int(remaining % 100) * 2
                remaining /= 100
                index -= 2
                text[index] = digitPairs[pair]
                text[index + 1] = digitPairs[pair + 1]
            }
            if remaining >= 10 {
                let pair = Int(remaining) * 2
                index -= 2
                text[index] = digitPairs[pair]
                text[index + 1] = digitPairs[pair + 1]
            } else {
                index -= 1
                text[index] = UInt8(truncatingIfNeeded: remaining) &+ UInt8(ascii: "0")
            }
            if isNegative {
                index -= 1
                text[index] = UInt8(ascii: "-")
            }
            self.buffer.append(contentsOf: UnsafeBufferPointer(rebasing: text[index...]))
        }
    }

    /// "00" to "99" back to back: the text of every two-digit pair, a constant with no initialisation cost.
    @usableFromInline static let digitPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """
}
