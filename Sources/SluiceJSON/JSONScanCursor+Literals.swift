extension JSONScanCursor {
    /// One of JSON's three literals, with its bytes packed for a single comparison.
    struct Literal {
        /// The literal's text, for messages.
        let text: StaticString
        /// The literal's last four bytes as a little-endian integer (`true`, `null`, the `alse` of `false`).
        let lastFour: UInt32
        let byteCount: Int

        static let trueLiteral = Literal(text: "true", lastFour: 0x6575_7274, byteCount: 4)
        static let falseLiteral = Literal(text: "false", lastFour: 0x6573_6C61, byteCount: 5)
        static let nullLiteral = Literal(text: "null", lastFour: 0x6C6C_756E, byteCount: 4)
    }

    /// Skips `literal` (`true`, `false` or `null`), whose first byte is at `start` and is already known.
    @inline(__always)
    func skipLiteral(_ literal: Literal, at start: UnsafeRawPointer) throws(JSONError) -> UnsafeRawPointer {
        let lastFour = start + (literal.byteCount - 4)
        if self.end - start >= literal.byteCount
            && UInt32(littleEndian: lastFour.loadUnaligned(as: UInt32.self)) == literal.lastFour {
            return start + literal.byteCount
        }
        throw self.literalError(literal, at: start)
    }

    /// The error for a literal that is cut short or misspelled: at its first byte that differs.
    @inline(never)
    func literalError(_ literal: Literal, at start: UnsafeRawPointer) -> JSONError {
        let expected = UnsafeRawPointer(literal.text.utf8Start)
        for index in 0..<literal.byteCount {
            let position = start + index
            guard position < self.end else {
                return self.truncated(at: position, expecting: "the rest of '\(literal.text)'")
            }
            guard position.load(as: UInt8.self) == expected.load(fromByteOffset: index, as: UInt8.self) else {
                return self.unexpected(at: position, expecting: "the rest of '\(literal.text)'")
            }
        }
        preconditionFailure("the literal \(literal.text) was read correctly but refused")
    }
}
