import SluiceJSON
import Testing

/// Reading strings: escapes resolved, comparisons without allocating, UTF-8 kept as it is.
@Suite struct JSONStringTests {
    static func withString<Result>(_ text: String, _ body: (JSONValue) throws -> Result) throws -> Result {
        let scanner = JSONScanner(paths: [["s"]])
        var fields = scanner.makeFields()
        let document = Array(#"{"s":\#(text)}"#.utf8)
        try scanner.scan(document, into: &fields)
        return try document.withUnsafeBytes { try body(fields.value(0, in: $0)) }
    }

    @Test(arguments: [
        (#""""#, ""),
        (#""plain""#, "plain"),
        (#""\n\"\\\/\b\f\r\t""#, "\n\"\\/\u{8}\u{C}\r\t"),
        (#""\u0041\u00e9\u20AC\uFFFF""#, "Aé€\u{FFFF}"),
        (#""\u0000""#, "\0"),
        (#""\ud83d\ude00 and \uD83C\uDDEB""#, "😀 and 🇫"),
        (#""\udbff\udfff""#, "\u{10FFFF}"),
        (#""mixed é€😀 and \"escapes\"""#, "mixed é€😀 and \"escapes\""),
        (#""long \u0022 string past the first eight bytes, with an escape after many words\\""#,
         "long \" string past the first eight bytes, with an escape after many words\\"),
    ])
    func resolvesEscapes(json: String, expected: String) throws {
        try Self.withString(json) { (value) throws in
            #expect(value.kind == .string)
            #expect(Array(try value.string().utf8) == Array(expected.utf8))
            #expect(value.stringEquals(expected))
            #expect(value.stringEquals(Array(expected.utf8)))
            #expect(!value.stringEquals(expected + " "))
            #expect(!value.stringEquals(String(expected.dropLast())) || expected.isEmpty)
        }
    }

    @Test func comparesBytesNotCanonicalEquivalence() throws {
        // "é" precomposed and decomposed are equal as Swift Strings but not as JSON keys or values.
        try Self.withString("\"e\u{301}\"") { value in
            #expect(!value.stringEquals("\u{E9}"))
            #expect(value.stringEquals(Array("e\u{301}".utf8)))
        }
        let scanner = JSONScanner(paths: [["\u{E9}"]])
        var fields = scanner.makeFields()
        try scanner.scan(Array("{\"e\u{301}\":1}".utf8), into: &fields)
        #expect(fields.kind(0) == .absent)
    }

    @Test func comparesEscapedStringsByTheirText() throws {
        try Self.withString(#""G\u006fogle""#) { value in
            #expect(value.stringEquals("Google"))
            #expect(!value.stringEquals("Googl"))
            #expect(!value.stringEquals("Googlee"))
            #expect(!value.stringEquals("Gaogle"))
        }
    }

    @Test func givesTheRawTextOfAString() throws {
        try Self.withString(#""a\nb""#) { value in
            #expect(Array(value.bytes) == Array(#""a\nb""#.utf8))
        }
    }
}
