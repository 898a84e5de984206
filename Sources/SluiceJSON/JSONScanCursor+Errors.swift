extension JSONScanCursor {
    // Errors are built out of line: the message work stays off the paths that do not fail.

    @inline(never)
    func error(_ code: JSONError.Code, at position: UnsafeRawPointer, _ message: String) -> JSONError {
        JSONError(code, at: position - self.start, message)
    }

    /// The document ended at `position` where `expected` should have come.
    @inline(never)
    func truncated(at position: UnsafeRawPointer, expecting expected: String) -> JSONError {
        JSONError(.truncated, at: position - self.start, "the document ends where \(expected) should come")
    }

    /// The byte at `position` is not `expected`.
    @inline(never)
    func unexpected(at position: UnsafeRawPointer, expecting expected: String) -> JSONError {
        JSONError(.unexpectedByte, at: position - self.start,
                  "expected \(expected), found \(Self.describe(position.load(as: UInt8.self)))")
    }

    @inline(never)
    func tooDeep(at position: UnsafeRawPointer) -> JSONError {
        JSONError(.limitExceeded, at: position - self.start,
                  "more than JSONLimits.nestingDepthMax (\(JSONLimits.nestingDepthMax)) nested objects and arrays")
    }

    /// A byte as a reader would like to see it in a message.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
