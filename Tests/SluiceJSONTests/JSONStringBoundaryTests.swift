import SluiceJSON
import Testing

/// Strings are scanned 16 bytes at a time, the last step reading the document's last 16 bytes: what stops the
/// scan (a closing quote, an escape, a control character, non-ASCII UTF-8, good or bad) must be found at every
/// place relative to those steps and to the document's end, in documents shorter and longer than one step.
@Suite struct JSONStringBoundaryTests {
    /// Lengths of the text before the special byte, and of the text after it.
    static let lengths = Array(0...36)

    /// `{"k":"<before><special><after>"}`, the special bytes' offset in it, and the text between the quotes.
    static func document(before: Int, _ special: [UInt8], after: Int) -> (bytes: [UInt8], offset: Int) {
        let head = Array(#"{"k":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: before)
        return (head + special + Array(repeating: UInt8(ascii: "b"), count: after) + Array(#""}"#.utf8), head.count)
    }

    static func scanned(_ bytes: [UInt8]) throws -> String {
        let scanner = JSONScanner(paths: [["k"]])
        var fields = scanner.makeFields()
        try scanner.scan(bytes, into: &fields)
        return try bytes.withUnsafeBytes { document in try fields.value(0, in: document).string() }
    }

    @Test(arguments: lengths)
    func goodSpecialBytesAreReadEverywhere(before: Int) throws {
        let specials: [([UInt8], String)] = [
            (Array("é".utf8), "é"), (Array("€".utf8), "€"), (Array("😀".utf8), "😀"), (Array(#"\""#.utf8), "\""),
            (Array(#"\\"#.utf8), "\\"), (Array(#"\u00e9"#.utf8), "é"), (Array(#"\ud83d\ude00"#.utf8), "😀"), ([], ""),
        ]
        for after in Self.lengths {
            for (special, text) in specials {
                let (bytes, _) = Self.document(before: before, special, after: after)
                let expected = String(repeating: "a", count: before) + text + String(repeating: "b", count: after)
                #expect(try Self.scanned(bytes) == expected, "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
    }

    @Test(arguments: lengths)
    func badBytesAreRefusedWhereTheyAre(before: Int) {
        // The byte, and where the error points from it.
        let bad: [([UInt8], JSONError.Code, Int)] = [
            ([0x01], .invalidString, 0), ([0x1F], .invalidString, 0), ([0xFF], .invalidString, 0),
            ([0x80], .invalidString, 0), ([0xC3, 0x28], .invalidString, 1), ([0xED, 0xA0, 0x80], .invalidString, 1),
            (Array(#"\x"#.utf8), .invalidEscape, 1),
        ]
        for after in Self.lengths {
            for (special, code, delta) in bad {
                let (bytes, offset) = Self.document(before: before, special, after: after)
                let error = #expect(throws: JSONError.self) { try Self.scanned(bytes) }
                #expect(error?.code == code && error?.byteOffset == offset + delta,
                        "\(bytes): \(String(describing: error))")
            }
        }
    }

    @Test(arguments: lengths)
    func anUnclosedStringIsTruncatedAtTheEnd(before: Int) {
        for special in [[], Array("é".utf8), Array(#"\""#.utf8)] {
            let bytes = Array(#"{"k":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: before) + special
            let error = #expect(throws: JSONError.self) { try Self.scanned(bytes) }
            #expect(error?.code == .truncated && error?.byteOffset == bytes.count, "\(String(describing: error))")
        }
    }

    @Test(arguments: 1...20)
    func numbersEndingTheDocumentAreWhole(digitCount: Int) throws {
        let digits = (0..<digitCount).map { UInt8(ascii: "1") + UInt8($0 % 9) }
        for document in [digits, Array(#"{"k":"#.utf8) + digits + [UInt8(ascii: "}")]] {
            let scanner = JSONScanner(paths: [[], ["k"]])
            var fields = scanner.makeFields()
            try scanner.scan(document, into: &fields)
            let slot = document.first == UInt8(ascii: "{") ? fields[1] : fields[0]
            #expect(slot.kind == .number && slot.byteRange.count == digitCount)
        }
    }
}
