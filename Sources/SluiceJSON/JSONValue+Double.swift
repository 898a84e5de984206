extension JSONValue {
    /// The exact powers of ten a Double holds: 10^22 is the last below 2^53 · 2^22.
    private static let exactPowersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The number as the nearest Double (round half to even, as a correct `strtod`).
    ///
    /// Short numbers (a significand below 2^53, so up to 15 digits, and a decimal exponent within ±22, which
    /// covers prices, coordinates and timestamps) take Clinger's fast path: the significand and the power of ten
    /// are both exact Doubles, so one multiplication or division rounds correctly. Anything else goes to the
    /// standard library's correctly rounding parser, at the cost of a String. A value beyond Double's range
    /// throws `.numberOutOfRange` rather than becoming infinity; one below its smallest subnormal becomes zero.
    public func double() throws(JSONError) -> Double {
        guard self.kind == .number else { throw self.mismatch(expected: .number) }
        let parts = JSONNumberParts(self.bytes)
        if !parts.isTruncated && parts.significand <= 1 << 53 {
            if parts.significand == 0 { return parts.isNegative ? -0.0 : 0.0 }
            let significand = Double(parts.significand)
            var magnitude: Double?
            if parts.exponent == 0 {
                magnitude = significand
            } else if parts.exponent > 0 && parts.exponent <= 22 {
                magnitude = significand * Self.exactPowersOfTen[parts.exponent]
            } else if parts.exponent < 0 && parts.exponent >= -22 {
                magnitude = significand / Self.exactPowersOfTen[-parts.exponent]
            }
            if let magnitude { return parts.isNegative ? -magnitude : magnitude }
        }
        guard let parsed = Double(String(decoding: self.bytes, as: UTF8.self)), parsed.isFinite else {
            throw self.outOfRange("is beyond Double's range")
        }
        return parsed
    }
}
