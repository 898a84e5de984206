/// A JSON number taken apart as `significand × 10^exponent`, keeping at most 19 significant digits: the shared
/// first step of the exact `Int64` reader and of the `Double` reader's slow and fast paths.
///
/// The text must already be a valid JSON number (the scanner checked it); the parts of anything else are
/// meaningless but reading them stays in bounds.
struct JSONNumberParts {
    /// The most significant digits kept: 10^19 - 1 still fits a UInt64.
    static let significantDigitCountMax = 19
    /// Exponents are clamped here while read, far beyond where a Double or Int64 ends, so that the arithmetic on
    /// them cannot overflow whatever the text says.
    static let exponentMagnitudeMax = 100_000_000

    var isNegative = false
    var significand: UInt64 = 0
    var exponent = 0
    /// Whether a nonzero digit beyond the first 19 significant ones was dropped: the parts are then inexact.
    var isTruncated = false

    init(_ text: UnsafeRawBufferPointer) {
        let byteCount = text.count
        var index = 0
        if index < byteCount, text[index] == UInt8(ascii: "-") {
            self.isNegative = true
            index += 1
        }
        var digitCount = 0
        while index < byteCount, case let digit = text[index] &- UInt8(ascii: "0"), digit <= 9 {
            self.addDigit(digit, &digitCount, isFraction: false)
            index += 1
        }
        if index < byteCount, text[index] == UInt8(ascii: ".") {
            index += 1
            while index < byteCount, case let digit = text[index] &- UInt8(ascii: "0"), digit <= 9 {
                self.addDigit(digit, &digitCount, isFraction: true)
                index += 1
            }
        }
        if index < byteCount, text[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            var exponentIsNegative = false
            if index < byteCount, text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                exponentIsNegative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            var written = 0
            while index < byteCount, case let digit = text[index] &- UInt8(ascii: "0"), digit <= 9 {
                written = min(written * 10 + Int(digit), Self.exponentMagnitudeMax)
                index += 1
            }
            self.exponent += exponentIsNegative ? -written : written
        }
    }

    private mutating func addDigit(_ digit: UInt8, _ digitCount: inout Int, isFraction: Bool) {
        if digitCount == 0 && digit == 0 {
            // A leading zero: only a fraction's moves the point.
            if isFraction { self.exponent -= 1 }
        } else if digitCount < Self.significantDigitCountMax {
            self.significand = self.significand * 10 + UInt64(digit)
            digitCount += 1
            if isFraction { self.exponent -= 1 }
        } else {
            if digit != 0 { self.isTruncated = true }
            if !isFraction { self.exponent += 1 }
        }
    }
}
