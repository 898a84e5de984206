extension JSONValue {
    /// The number as an Int64, exactly.
    ///
    /// A number written with a fraction or an exponent is read when its value is a whole number (`1.0`, `1e3`,
    /// `-0.0`), since some writers print every number that way. A fraction that is not zero (`1.5`) or a value
    /// beyond Int64 throws `.numberOutOfRange`: nothing is rounded or clamped silently.
    @inlinable @inline(__always)
    public func int64() throws(JSONError) -> Int64 {
        guard self.kind == .number else { throw self.mismatch(expected: .number) }
        // The common case, inline: an optional minus and at most 16 digits, which cannot overflow, read as two
        // words: the last eight digits from a word that ends where the number ends (the bytes before the number
        // in it count as zeros; the document has them, `byteOffset` says so), the others from a word that starts
        // with them. Anything else, or a byte that is not a digit, goes to `int64FromParts`.
        let byteCount = self.bytes.count
        let isNegative = self.bytes[0] == UInt8(ascii: "-")
        let digitCount = byteCount - (isNegative ? 1 : 0)
        guard digitCount <= 16, self.byteOffset + byteCount >= 8, let base = self.bytes.baseAddress else {
            return try self.int64FromParts()
        }
        let end = base + byteCount
        let low = JSONWordScan.keepingLastDigits(digitCount, of: JSONWordScan.load(end - 8))
        var magnitude = JSONWordScan.eightDigitsValue(low)
        var nonDigits = JSONWordScan.nonDigitMask(low)
        if digitCount > 8 {
            let highCount = digitCount - 8
            let high = JSONWordScan.keepingLastDigits(
                highCount, of: JSONWordScan.load(end - digitCount) << UInt64((8 - highCount) * 8))
            nonDigits |= JSONWordScan.nonDigitMask(high)
            magnitude = JSONWordScan.eightDigitsValue(high) &* 100_000_000 &+ magnitude
        }
        guard nonDigits == 0 else { return try self.int64FromParts() }
        let value = Int64(truncatingIfNeeded: magnitude)
        return isNegative ? 0 &- value : value
    }

    /// The exact reading of any number: long integers, fractions and exponents.
    @usableFromInline
    func int64FromParts() throws(JSONError) -> Int64 {
        var parts = JSONNumberParts(self.bytes)
        guard !parts.isTruncated else { throw self.outOfRange("is not an integer within Int64's range") }
        guard parts.significand != 0 else { return 0 }
        while parts.significand % 10 == 0 {
            parts.significand /= 10
            parts.exponent += 1
        }
        guard parts.exponent >= 0 else { throw self.outOfRange("is not an integer") }
        var magnitude = parts.significand
        for _ in 0..<min(parts.exponent, 20) {
            let (product, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            guard !overflow else { throw self.outOfRange("is beyond Int64's range") }
            magnitude = product
        }
        if parts.isNegative {
            guard magnitude <= UInt64(Int64.max) + 1 else { throw self.outOfRange("is beyond Int64's range") }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { throw self.outOfRange("is beyond Int64's range") }
        return Int64(magnitude)
    }

    @inline(never)
    func outOfRange(_ reason: String) -> JSONError {
        JSONError(.numberOutOfRange, at: self.byteOffset,
                  "the number \(String(decoding: self.bytes.prefix(40), as: UTF8.self)) \(reason)")
    }
}
