extension JSONWriter {
    /// Writes a string value, escaping what JSON requires: `"`, `\` and control characters (as `\n`, `\t`, ...
    /// or `\u00XX`). Other characters, non-ASCII ones included, are written as their UTF-8 bytes.
    @inlinable
    public mutating func string(_ value: String) {
        self.beginElement()
        self.appendQuoted(value)
        self.needsComma = true
    }

    /// Writes a string value given as UTF-8 bytes, escaped as `string(_:)` does. The bytes are not validated:
    /// they must be UTF-8 for the output to be valid JSON.
    @inlinable
    public mutating func string(utf8 value: UnsafeRawBufferPointer) {
        self.beginElement()
        self.appendQuoted(utf8: value)
        self.needsComma = true
    }

    @inlinable
    mutating func appendQuoted(_ text: String) {
        var text = text
        text.withUTF8 { self.appendQuoted(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Appends `utf8` between quotes, copying runs of ordinary bytes at once and escaping the rest.
    @usableFromInline
    mutating func appendQuoted(utf8 text: UnsafeRawBufferPointer) {
        self.buffer.append(UInt8(ascii: "\""))
        guard let base = text.baseAddress else {
            self.buffer.append(UInt8(ascii: "\""))
            return
        }
        let byteCount = text.count
        var runStart = 0
        var index = 0
        while index < byteCount {
            if byteCount - index >= 8 {
                let escapes = JSONWordScan.escapeMask(JSONWordScan.load(base + index))
                if escapes == 0 {
                    index += 8
                    continue
                }
                index += JSONWordScan.firstByteIndex(of: escapes)
            }
            let byte = text[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            self.buffer.append(contentsOf: UnsafeRawBufferPointer(start: base + runStart, count: index - runStart))
            self.appendEscape(of: byte)
            index += 1
            runStart = index
        }
        self.buffer.append(contentsOf: UnsafeRawBufferPointer(start: base + runStart, count: byteCount - runStart))
        self.buffer.append(UInt8(ascii: "\""))
    }

    private mutating func appendEscape(of byte: UInt8) {
        self.buffer.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): self.buffer.append(byte)
        case 0x08: self.buffer.append(UInt8(ascii: "b"))
        case 0x09: self.buffer.append(UInt8(ascii: "t"))
        case 0x0A: self.buffer.append(UInt8(ascii: "n"))
        case 0x0C: self.buffer.append(UInt8(ascii: "f"))
        case 0x0D: self.buffer.append(UInt8(ascii: "r"))
        default:
            let hexDigits: StaticString = "0123456789abcdef"
            self.buffer.append(UInt8(ascii: "u"))
            self.buffer.append(UInt8(ascii: "0"))
            self.buffer.append(UInt8(ascii: "0"))
            self.buffer.append(hexDigits.utf8Start[Int(byte >> 4)])
            self.buffer.append(hexDigits.utf8Start[Int(byte & 0xF)])
        }
    }
}
