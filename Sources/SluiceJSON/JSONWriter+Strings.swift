extension JSONWriter {
    /// Writes an object key; the next call writes its value.
    public mutating func key(_ name: String) {
        var name = name
        name.withUTF8 { self.appendString(UnsafeRawBufferPointer($0), isKey: true) }
    }

    /// Writes an object key given as UTF-8 bytes (escaped as needed, not validated).
    public mutating func key(utf8 name: UnsafeRawBufferPointer) {
        self.appendString(name, isKey: true)
    }

    /// Writes a string value, escaping what JSON requires: `"`, `\` and control characters (as `\n`, `\t`, ...
    /// or `\u00XX`). Other characters, non-ASCII ones included, are written as their UTF-8 bytes.
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { self.appendString(UnsafeRawBufferPointer($0), isKey: false) }
    }

    /// Writes a string value given as UTF-8 bytes, escaped as `string(_:)` does. The bytes are not validated:
    /// they must be UTF-8 for the output to be valid JSON.
    public mutating func string(utf8 value: UnsafeRawBufferPointer) {
        self.appendString(value, isKey: false)
    }

    /// The most bytes one byte of a string can become: `\u00XX`.
    static let escapedByteCountMax = 6

    /// Appends `text` quoted (and a colon after it for a key), with the comma before it if one is due.
    ///
    /// Optimistic: the bytes are copied as they are, then the copy is checked 8 bytes at a time for bytes to
    /// escape (room is made for whole words, so no read goes past the buffer, and the mask drops what lies
    /// past the string); only a string that has some is written again, escaped.
    private mutating func appendString(_ text: UnsafeRawBufferPointer, isKey: Bool) {
        let byteCount = text.count
        let out = self.elementRoom(for: byteCount * Self.escapedByteCountMax + 3 + 8)
        out[0] = UInt8(ascii: "\"")
        var written = 1
        if let base = text.baseAddress, byteCount > 0 {
            Self.copy(from: base, to: UnsafeMutableRawPointer(out + 1), byteCount: byteCount)
            written += Self.hasEscapes(out + 1, byteCount: byteCount)
                ? Self.writeEscaped(text, to: out + 1) : byteCount
        }
        out[written] = UInt8(ascii: "\"")
        written += 1
        if isKey {
            out[written] = UInt8(ascii: ":")
            written += 1
            self.needsComma = false
        }
        self.byteCount += written
    }

    /// Copies `byteCount` bytes; short copies (the usual key or word) with two overlapping loads and stores each
    /// way, where a call to `memcpy` would cost more than the copy.
    @inline(__always)
    private static func copy(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, byteCount: Int) {
        switch byteCount {
        case 8...16:
            let head = source.loadUnaligned(as: UInt64.self)
            let tail = source.loadUnaligned(fromByteOffset: byteCount - 8, as: UInt64.self)
            destination.storeBytes(of: head, as: UInt64.self)
            destination.storeBytes(of: tail, toByteOffset: byteCount - 8, as: UInt64.self)
        case 4..<8:
            let head = source.loadUnaligned(as: UInt32.self)
            let tail = source.loadUnaligned(fromByteOffset: byteCount - 4, as: UInt32.self)
            destination.storeBytes(of: head, as: UInt32.self)
            destination.storeBytes(of: tail, toByteOffset: byteCount - 4, as: UInt32.self)
        case 0..<4:
            for index in 0..<byteCount {
                destination.storeBytes(of: source.load(fromByteOffset: index, as: UInt8.self), toByteOffset: index,
                                       as: UInt8.self)
            }
        default:
            destination.copyMemory(from: source, byteCount: byteCount)
        }
    }

    /// Whether the `byteCount` bytes at `text`, followed by at least 7 more readable bytes, need escapes.
    @inline(__always)
    private static func hasEscapes(_ text: UnsafeMutablePointer<UInt8>, byteCount: Int) -> Bool {
        var offset = 0
        while byteCount - offset > 8 {
            if JSONWordScan.escapeMask(JSONWordScan.load(text + offset)) != 0 { return true }
            offset += 8
        }
        let remaining = byteCount - offset
        let keep: UInt64 = remaining == 8 ? ~0 : (1 << UInt64(remaining &* 8)) &- 1
        return JSONWordScan.escapeMask(JSONWordScan.load(text + offset)) & keep != 0
    }

    /// Writes `text` escaped at `out`, which has room for the worst case; returns the bytes written. Runs of
    /// ordinary bytes, found 8 at a time, are copied at once.
    private static func writeEscaped(_ text: UnsafeRawBufferPointer, to out: UnsafeMutablePointer<UInt8>) -> Int {
        guard let base = text.baseAddress else { return 0 }
        let byteCount = text.count
        var written = 0
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
            (out + written).update(from: (base + runStart).assumingMemoryBound(to: UInt8.self), count: index - runStart)
            written += index - runStart
            written += Self.writeEscape(of: byte, to: out + written)
            index += 1
            runStart = index
        }
        (out + written).update(from: (base + runStart).assumingMemoryBound(to: UInt8.self), count: byteCount - runStart)
        return written + byteCount - runStart
    }

    /// Writes the escape of `byte` at `out`; returns its length.
    private static func writeEscape(of byte: UInt8, to out: UnsafeMutablePointer<UInt8>) -> Int {
        out[0] = UInt8(ascii: "\\")
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out[1] = byte
        case 0x08: out[1] = UInt8(ascii: "b")
        case 0x09: out[1] = UInt8(ascii: "t")
        case 0x0A: out[1] = UInt8(ascii: "n")
        case 0x0C: out[1] = UInt8(ascii: "f")
        case 0x0D: out[1] = UInt8(ascii: "r")
        default:
            let hexDigits: StaticString = "0123456789abcdef"
            out[1] = UInt8(ascii: "u")
            out[2] = UInt8(ascii: "0")
            out[3] = UInt8(ascii: "0")
            out[4] = hexDigits.utf8Start[Int(byte >> 4)]
            out[5] = hexDigits.utf8Start[Int(byte & 0xF)]
            return 6
        }
        return 2
    }
}
