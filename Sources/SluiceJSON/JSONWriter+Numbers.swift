extension JSONWriter {
    public mutating func int64(_ value: Int64) {
        let text = self.elementRoom(for: 20)
        self.byteCount += Self.writeDecimal(value.magnitude, isNegative: value < 0, to: text)
    }

    public mutating func uint64(_ value: UInt64) {
        let text = self.elementRoom(for: 20)
        self.byteCount += Self.writeDecimal(value, isNegative: false, to: text)
    }

    /// Writes the shortest decimal text that reads back as exactly `value` (the one nearest the value when
    /// several are as short), the text of `description`; JSON has no infinity or NaN, so those are written as
    /// `null`.
    ///
    /// Values from 1e-4 to 2^51 with at most `fastDecimalCountMax` decimals (prices, ratios, coordinates,
    /// whole numbers) are formatted here; anything else takes the standard library's `description`, which is
    /// valid JSON for every finite Double (`1e-07`, `5e-324`, `1.7976931348623157e+308`) and allocates for texts
    /// over 15 bytes.
    public mutating func double(_ value: Double) {
        guard value.isFinite else { return self.null() }
        let magnitude = value.magnitude
        if magnitude >= 1e-4 {
            // Try d = 0, 1, 2... decimals: the first d at which an integer m gives m / 10^d == value is the
            // shortest text. m and 10^d are exact Doubles, so that division is the correctly rounded reading of
            // the text (Clinger's fast path). While value.ulp · 10^d < 1/2, decimals d apart are farther apart
            // than the values that read as `value`, so at most one m fits, and while value · 10^d < 2^51 the
            // product is off by at most 1/4, so rounding it finds that m: the text is the unique, hence nearest,
            // shortest one.
            var scale = 1.0
            for decimalCount in 0...Self.fastDecimalCountMax {
                let product = magnitude * scale
                guard product < 0x1p51 && magnitude.ulp * scale < 0.5 else { break }
                // Rounded by conversion: a libm call would cost more than the rest of the step.
                let scaled = UInt64(product + 0.5)
                if Double(scaled) / scale == magnitude {
                    let text = self.elementRoom(for: 24)
                    self.byteCount += Self.writeDecimal(scaled, isNegative: value.sign == .minus, to: text,
                                                        pointBeforeLast: decimalCount)
                    return
                }
                scale *= 10
            }
        }
        var text = value.description
        text.withUTF8 { utf8 in
            self.elementRoom(for: utf8.count).update(from: utf8.baseAddress!, count: utf8.count)
            self.byteCount += utf8.count
        }
    }

    /// The most decimals `double(_:)` formats itself.
    static let fastDecimalCountMax = 9

    /// 10^`exponent` for 0 through 19, every power of ten a UInt64 holds: a switch the compiler makes a constant
    /// table, where a static array would cost a lazy-initialisation check per call.
    @inline(__always)
    private static func powerOfTen(_ exponent: Int) -> UInt64 {
        switch exponent {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        case 18: 1_000_000_000_000_000_000
        default: 10_000_000_000_000_000_000
        }
    }

    /// Writes `magnitude` in decimal at `text`, after a minus if `isNegative`, and returns the bytes written:
    /// the digit count first (from the bit length), then two digits per step from a table, backwards.
    ///
    /// With `pointBeforeLast` it writes a Double's text: a point before that many last digits, with zeros
    /// before them as needed (`0.0042`), or `.0` after a whole number when it is 0.
    static func writeDecimal(_ magnitude: UInt64, isNegative: Bool, to text: UnsafeMutablePointer<UInt8>,
                             pointBeforeLast decimalCount: Int? = nil) -> Int {
        // ⌈bits · log10(2)⌉ is the digit count or one more.
        var digitCount = ((64 - magnitude.leadingZeroBitCount) &* 1233) >> 12
        if digitCount < 20 && magnitude >= Self.powerOfTen(digitCount) { digitCount += 1 }
        digitCount = max(digitCount, 1)

        var out = text
        if isNegative {
            out[0] = UInt8(ascii: "-")
            out += 1
        }
        guard let decimalCount else {
            Self.writeDigits(magnitude, count: digitCount, endingAt: out + digitCount)
            return out + digitCount - text
        }
        if decimalCount == 0 {
            Self.writeDigits(magnitude, count: digitCount, endingAt: out + digitCount)
            out += digitCount
            out[0] = UInt8(ascii: ".")
            out[1] = UInt8(ascii: "0")
            return out + 2 - text
        }
        if digitCount <= decimalCount {
            // Below 1: "0." and the zeros before the first significant digit.
            out[0] = UInt8(ascii: "0")
            out[1] = UInt8(ascii: ".")
            out += 2
            for _ in 0..<(decimalCount - digitCount) {
                out[0] = UInt8(ascii: "0")
                out += 1
            }
            Self.writeDigits(magnitude, count: digitCount, endingAt: out + digitCount)
            return out + digitCount - text
        }
        let integerDigitCount = digitCount - decimalCount
        let divisor = Self.powerOfTen(decimalCount)
        Self.writeDigits(magnitude / divisor, count: integerDigitCount, endingAt: out + integerDigitCount)
        out += integerDigitCount
        out[0] = UInt8(ascii: ".")
        Self.writeDigits(magnitude % divisor, count: decimalCount, endingAt: out + 1 + decimalCount)
        return out + 1 + decimalCount - text
    }

    /// Writes the last `count` decimal digits of `value` (zero-padded) ending just before `end`.
    @inline(__always)
    private static func writeDigits(_ value: UInt64, count: Int, endingAt end: UnsafeMutablePointer<UInt8>) {
        let digitPairs = Self.digitPairs.utf8Start
        var remaining = value
        var out = end
        var left = count
        while left >= 2 {
            let pair = Int(remaining % 100) &* 2
            remaining /= 100
            out -= 2
            out[0] = digitPairs[pair]
            out[1] = digitPairs[pair + 1]
            left -= 2
        }
        if left == 1 {
            out[-1] = UInt8(truncatingIfNeeded: remaining % 10) &+ UInt8(ascii: "0")
        }
    }

    /// "00" to "99" back to back: the text of every two-digit pair, a constant with no initialisation cost.
    private static let digitPairs: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """
}
