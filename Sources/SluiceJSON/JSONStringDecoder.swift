/// Resolves the backslash escapes of a JSON string's content (the bytes between its quotes), producing its
/// UTF-8 bytes one at a time. It serves the slow paths only: strings and keys that contain escapes.
///
/// The content must be what the scanner accepted (valid escapes, surrogates paired); it never reads outside
/// `content` whatever it holds, and it stops early on an escape cut short.
struct JSONStringDecoder {
    private let content: UnsafeRawBufferPointer
    private var index = 0
    /// UTF-8 bytes of a decoded `\u` escape not handed out yet, lowest byte first.
    private var pending: UInt32 = 0
    private var pendingByteCount = 0

    init(content: UnsafeRawBufferPointer) {
        self.content = content
    }

    /// The text of `content`, its escapes resolved.
    static func string(_ content: UnsafeRawBufferPointer) -> String {
        // Resolving escapes only shortens: `\n` is 2 bytes for 1, `\uXXXX` 6 for at most 3, a pair 12 for 4.
        String(unsafeUninitializedCapacity: content.count) { buffer in
            var decoder = JSONStringDecoder(content: content)
            var byteCount = 0
            while let byte = decoder.next() {
                buffer[byteCount] = byte
                byteCount += 1
            }
            return byteCount
        }
    }

    mutating func next() -> UInt8? {
        if self.pendingByteCount > 0 {
            let byte = UInt8(truncatingIfNeeded: self.pending)
            self.pending >>= 8
            self.pendingByteCount -= 1
            return byte
        }
        guard self.index < self.content.count else { return nil }
        let byte = self.content[self.index]
        guard byte == UInt8(ascii: "\\") else {
            self.index += 1
            return byte
        }
        guard self.index + 1 < self.content.count else { return nil }
        let escaped = self.content[self.index + 1]
        self.index += 2
        switch escaped {
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"): break
        default: return escaped  // `"`, `\` and `/` stand for themselves.
        }
        guard var scalar = self.hexQuad() else { return nil }
        if scalar & 0xFC00 == 0xD800 {
            // A high surrogate: the scanner guarantees that `\u` and a low one follow.
            self.index += 2
            guard let low = self.hexQuad() else { return nil }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low & 0x3FF)
        }
        self.queueUTF8(of: scalar)
        return self.next()
    }

    private mutating func hexQuad() -> UInt32? {
        guard self.index + 4 <= self.content.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = JSONStringDecoder.hexValue(self.content[self.index]) else { return nil }
            value = value << 4 | UInt32(digit)
            self.index += 1
        }
        return value
    }

    private mutating func queueUTF8(of scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            self.pending = scalar
            self.pendingByteCount = 1
        case ..<0x800:
            self.pending = (0xC0 | scalar >> 6) | (0x80 | scalar & 0x3F) << 8
            self.pendingByteCount = 2
        case ..<0x10000:
            self.pending = (0xE0 | scalar >> 12) | (0x80 | scalar >> 6 & 0x3F) << 8 | (0x80 | scalar & 0x3F) << 16
            self.pendingByteCount = 3
        default:
            self.pending = (0xF0 | scalar >> 18) | (0x80 | scalar >> 12 & 0x3F) << 8
                | (0x80 | scalar >> 6 & 0x3F) << 16 | (0x80 | scalar & 0x3F) << 24
            self.pendingByteCount = 4
        }
    }

    /// The value of a hexadecimal digit, either case.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Whether the decoded content equals `utf8`, without allocating.
    static func decoded(_ content: UnsafeRawBufferPointer, equals utf8: UnsafeRawBufferPointer) -> Bool {
        var decoder = JSONStringDecoder(content: content)
        for expected in utf8 {
            guard decoder.next() == expected else { return false }
        }
        return decoder.next() == nil
    }
}
