/// Writes the few JSON primitives `NexmarkJSON` needs through a raw pointer into memory sized in
/// advance (`byteCountMax(forStrings:integers:)`): one bounds computation per event instead of a
/// capacity check per field. Internal: a general JSON writer belongs to SluiceJSON.
struct EventJSONWriter {
    private let start: UnsafeMutablePointer<UInt8>
    private(set) var byteCount = 0

    /// The most bytes an integer takes: 19 digits and a sign.
    static let integerByteCountMax = 20
    /// The most bytes one string byte can take once escaped (`\u001f`).
    static let escapedByteCountMax = 6

    /// An upper bound on the bytes written for `literalByteCount` bytes of literals, strings of
    /// `stringByteCount` UTF-8 bytes in all (`stringCount` of them, for their quotes) and `integerCount`
    /// integers.
    static func byteCountMax(literalByteCount: Int, stringByteCount: Int, stringCount: Int, integerCount: Int) -> Int {
        let stringBytes = stringByteCount * Self.escapedByteCountMax + stringCount * 2
        return literalByteCount + stringBytes + integerCount * Self.integerByteCountMax
    }

    init(_ start: UnsafeMutablePointer<UInt8>) {
        self.start = start
    }

    @inline(__always)
    mutating func writeLiteral(_ literal: StaticString) {
        (self.start + self.byteCount).update(from: literal.utf8Start, count: literal.utf8CodeUnitCount)
        self.byteCount += literal.utf8CodeUnitCount
    }

    @inline(__always)
    private mutating func writeByte(_ byte: UInt8) {
        self.start[self.byteCount] = byte
        self.byteCount += 1
    }

    /// The decimal digits of `value`, with a '-' if negative.
    @inline(__always)
    mutating func writeInteger(_ value: Int64) {
        if value < 0 { self.writeByte(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        // An Int64's magnitude is below 10^19, so 19 digits at most, and 10^19 fits a UInt64.
        var digitCount = 1
        var power: UInt64 = 10
        while digitCount < 19 && magnitude >= power {
            digitCount += 1
            power &*= 10
        }
        var index = self.byteCount + digitCount
        repeat {
            index -= 1
            self.start[index] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        self.byteCount += digitCount
    }

    /// `string` in quotes. The generator's strings (letters, digits, spaces and URL punctuation) take
    /// the fast path, one scan and one copy; quotes, backslashes and control characters are escaped,
    /// so that any string encodes to valid JSON.
    @inline(__always)
    mutating func writeString(_ string: String) {
        self.writeByte(UInt8(ascii: "\""))
        // Native and small strings lend their bytes without a copy; others are made native first.
        if string.utf8.withContiguousStorageIfAvailable({ self.writeStringBytes($0) }) == nil {
            var native = string
            native.withUTF8 { self.writeStringBytes($0) }
        }
        self.writeByte(UInt8(ascii: "\""))
    }

    @inline(__always)
    private mutating func writeStringBytes(_ bytes: UnsafeBufferPointer<UInt8>) {
        if Self.needsEscaping(bytes) {
            self.writeEscaped(bytes)
        } else if let base = bytes.baseAddress {
            (self.start + self.byteCount).update(from: base, count: bytes.count)
            self.byteCount += bytes.count
        }
    }

    /// Whether any byte is a control character, a quote or a backslash; eight bytes at a time.
    @inline(__always)
    static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        var index = 0
        while index + 8 <= bytes.count {
            if Self.needsEscaping(word: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) { return true }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return true }
            index += 1
        }
        return false
    }

    /// Whether any of the eight bytes of `word` is below 0x20, a quote or a backslash: the classic
    /// "has a zero byte" test, `(x - 0x01..) & ~x & 0x80..`, which is exact for "any byte" (and ignores
    /// bytes of 0x80 and above, UTF-8 continuation bytes, as it must).
    @inline(__always)
    static func needsEscaping(word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let belowSpace = (word &- ones &* 0x20) & ~word
        let zeroInQuotes = (quotes &- ones) & ~quotes
        let zeroInBackslashes = (backslashes &- ones) & ~backslashes
        return (belowSpace | zeroInQuotes | zeroInBackslashes) & highBits != 0
    }

    private mutating func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        let hexDigits: StaticString = "0123456789abcdef"
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): self.writeLiteral(#"\""#)
            case UInt8(ascii: "\\"): self.writeLiteral(#"\\"#)
            case UInt8(ascii: "\n"): self.writeLiteral(#"\n"#)
            case UInt8(ascii: "\r"): self.writeLiteral(#"\r"#)
            case UInt8(ascii: "\t"): self.writeLiteral(#"\t"#)
            case 0..<0x20:
                self.writeLiteral(#"\u00"#)
                self.writeByte(hexDigits.utf8Start[Int(byte >> 4)])
                self.writeByte(hexDigits.utf8Start[Int(byte & 0x0F)])
            default:
                self.writeByte(byte)
            }
        }
    }
}
