extension JSONScanCursor {
    static let trueLiteral: StaticString = "true"
    static let falseLiteral: StaticString = "false"
    static let nullLiteral: StaticString = "null"

    /// Skips `literal` (`true`, `false` or `null`), whose first byte is at `start`.
    func skipLiteral(_ literal: StaticString, at start: UnsafeRawPointer) throws(JSONError) -> UnsafeRawPointer {
        let byteCount = literal.utf8CodeUnitCount
        let expected = UnsafeRawPointer(literal.utf8Start)
        if self.end - start >= byteCount, JSONWordScan.bytesEqual(start, expected, byteCount: byteCount) {
            return start + byteCount
        }
        // Find the first byte that differs, for the error's offset.
        for index in 0..<byteCount {
            let position = start + index
            guard position < self.end else { throw self.truncated(at: position, expecting: "the rest of '\(literal)'") }
            guard position.load(as: UInt8.self) == expected.load(fromByteOffset: index, as: UInt8.self) else {
                throw self.unexpected(at: position, expecting: "the rest of '\(literal)'")
            }
        }
        return start + byteCount
    }
}
