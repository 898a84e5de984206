import SluiceJSON
import Testing

/// Malformed documents: each is refused with the right code at the first byte that cannot belong to a valid
/// document (or at the end, for a document cut short).
@Suite struct JSONMalformedTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var text: [UInt8]
        var code: JSONError.Code
        var byteOffset: Int
        var testDescription: String { String(decoding: self.text, as: UTF8.self) }

        init(_ text: String, _ code: JSONError.Code, at byteOffset: Int) {
            self.init(Array(text.utf8), code, at: byteOffset)
        }

        init(_ text: [UInt8], _ code: JSONError.Code, at byteOffset: Int) {
            self.text = text
            self.code = code
            self.byteOffset = byteOffset
        }
    }

    static let truncated: [Case] = [
        Case("", .truncated, at: 0),
        Case("   ", .truncated, at: 3),
        Case("{", .truncated, at: 1),
        Case(#"{"a""#, .truncated, at: 4),
        Case(#"{"a":"#, .truncated, at: 5),
        Case(#"{"a":1"#, .truncated, at: 6),
        Case(#"{"a":1,"#, .truncated, at: 7),
        Case("[", .truncated, at: 1),
        Case("[1,", .truncated, at: 3),
        Case("[[]", .truncated, at: 3),
        Case("tru", .truncated, at: 3),
        Case("[nul", .truncated, at: 4),
        Case("-", .truncated, at: 1),
        Case("1.", .truncated, at: 2),
        Case("1e", .truncated, at: 2),
        Case("1e+", .truncated, at: 3),
        Case(#""abc"#, .truncated, at: 4),
        Case(#""abc\"#, .truncated, at: 5),
        Case(#""\u12"#, .truncated, at: 5),
        Case(#""\ud83d"#, .truncated, at: 7),
        Case(#""\ud83d\"#, .truncated, at: 8),
        Case(#""\ud83d\ude0"#, .truncated, at: 12),
        Case([0x22, 0xE2, 0x82], .truncated, at: 3),
        Case([0x22, 0xF0, 0x9F, 0x98], .truncated, at: 4),
    ]

    static let unexpected: [Case] = [
        Case("x", .unexpectedByte, at: 0),
        Case("[1,,2]", .unexpectedByte, at: 3),
        Case("[1,]", .unexpectedByte, at: 3),
        Case("[1 2]", .unexpectedByte, at: 3),
        Case("[}", .unexpectedByte, at: 1),
        Case("[1}", .unexpectedByte, at: 2),
        Case(#"{"a":1]"#, .unexpectedByte, at: 6),
        Case(#"{"a" 1}"#, .unexpectedByte, at: 5),
        Case(#"{"a":1,}"#, .unexpectedByte, at: 7),
        Case("{a:1}", .unexpectedByte, at: 1),
        Case("{1:1}", .unexpectedByte, at: 1),
        Case(#"{"a":1 "b":2}"#, .unexpectedByte, at: 7),
        Case("trux", .unexpectedByte, at: 3),
        Case("nul", .truncated, at: 3),
        Case("nulL", .unexpectedByte, at: 3),
        Case("fals", .truncated, at: 4),
        Case("True", .unexpectedByte, at: 0),
        Case("[+1]", .unexpectedByte, at: 1),
        Case("[.5]", .unexpectedByte, at: 1),
        Case("['a']", .unexpectedByte, at: 1),
        Case("\u{FEFF}{}", .unexpectedByte, at: 0),
        Case("[1]\u{0B}", .trailingData, at: 3),
        Case("{} x", .trailingData, at: 3),
        Case("{}}", .trailingData, at: 2),
        Case("1 2", .trailingData, at: 2),
        Case(#""a""b""#, .trailingData, at: 3),
        Case("[1]\0", .trailingData, at: 3),
    ]

    static let badNumbers: [Case] = [
        Case("01", .invalidNumber, at: 1),
        Case("[-01]", .invalidNumber, at: 3),
        Case("[00]", .invalidNumber, at: 2),
        Case("-a", .invalidNumber, at: 1),
        Case("[-]", .invalidNumber, at: 2),
        Case("1.e3", .invalidNumber, at: 2),
        Case("[1.]", .invalidNumber, at: 3),
        Case("1e+e", .invalidNumber, at: 3),
        Case("[1E]", .invalidNumber, at: 3),
        Case("--1", .invalidNumber, at: 1),
        // Valid numbers followed by something that cannot follow them.
        Case("1.5.2", .trailingData, at: 3),
        Case("[1e5e5]", .unexpectedByte, at: 4),
        Case("[0x10]", .unexpectedByte, at: 2),
        Case("[Infinity]", .unexpectedByte, at: 1),
        Case("[NaN]", .unexpectedByte, at: 1),
    ]

    static let badStrings: [Case] = [
        Case("\"a\nb\"", .invalidString, at: 2),
        Case("\"\t\"", .invalidString, at: 1),
        Case("{\"a\u{1F}\":1}", .invalidString, at: 3),
        Case("[\"long string with a raw control \u{0} character\"]", .invalidString, at: 33),
        Case(#""\x""#, .invalidEscape, at: 2),
        Case(#""\U0041""#, .invalidEscape, at: 2),
        Case(#""\'""#, .invalidEscape, at: 2),
        Case(#""\u00g0""#, .invalidEscape, at: 5),
        Case(#""\u 123""#, .invalidEscape, at: 3),
        Case(#""\udc00""#, .invalidEscape, at: 4),
        Case(#""\uDFFF""#, .invalidEscape, at: 4),
        Case(#""\ud800""#, .invalidEscape, at: 7),
        Case(#""\ud800x""#, .invalidEscape, at: 7),
        Case(#""\ud800\n""#, .invalidEscape, at: 8),
        Case(#""\ud800\u0041""#, .invalidEscape, at: 9),
        Case(#""\ud800\ud800""#, .invalidEscape, at: 10),
        Case(#""\uDBFF\uE000""#, .invalidEscape, at: 9),
        // UTF-8: a stray continuation, an overlong form, an encoded surrogate, beyond U+10FFFF, a bad
        // continuation, bytes that never occur.
        Case([0x22, 0x80, 0x22], .invalidString, at: 1),
        Case([0x22, 0xC0, 0xAF, 0x22], .invalidString, at: 1),
        Case([0x22, 0xE0, 0x80, 0xAF, 0x22], .invalidString, at: 2),
        Case([0x22, 0xED, 0xA0, 0x80, 0x22], .invalidString, at: 2),
        Case([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], .invalidString, at: 2),
        Case([0x22, 0xF0, 0x8F, 0xBF, 0xBF, 0x22], .invalidString, at: 2),
        Case([0x22, 0xE2, 0x82, 0x41, 0x22], .invalidString, at: 3),
        Case([0x22, 0xFF, 0x22], .invalidString, at: 1),
        Case([0x22, 0xF5, 0x80, 0x80, 0x80, 0x22], .invalidString, at: 1),
        Case([UInt8](#"{"bid":{"extra":"xxxxxxxxxxxxxxxxxxxxxxxxx"#.utf8) + [0xC3, 0x28, 0x22, 0x7D, 0x7D],
             .invalidString, at: 43),
    ]

    @Test(arguments: truncated + unexpected + badNumbers + badStrings)
    func isRefusedWhereItGoesWrong(_ malformed: Case) {
        let error = #expect(throws: JSONError.self) {
            try malformed.text.withUnsafeBytes { try JSONScanner.validate($0) }
        }
        #expect(error?.code == malformed.code, "\(String(describing: error))")
        #expect(error?.byteOffset == malformed.byteOffset, "\(String(describing: error))")
    }

    /// The same errors, with paths asked for: matching keys changes nothing about validation.
    @Test(arguments: truncated + unexpected + badNumbers + badStrings)
    func isRefusedWhileFieldsAreRead(_ malformed: Case) {
        let scanner = JSONScanner(paths: [[], ["a"], ["bid", "extra"], ["a", "b"]])
        var fields = scanner.makeFields()
        let error = #expect(throws: JSONError.self) { try scanner.scan(malformed.text, into: &fields) }
        #expect(error?.code == malformed.code && error?.byteOffset == malformed.byteOffset,
                "\(String(describing: error))")
    }

    @Test func errorsSayWhatWentWrongAndWhere() {
        let error = #expect(throws: JSONError.self) { try JSONScanner.validate(bytes: #"{"a":1 "b":2}"#) }
        #expect(error?.description == #"expected ',' or '}', found '"' at byte 7"#)
        let control = #expect(throws: JSONError.self) { try JSONScanner.validate(bytes: "[\"\u{1}\"]") }
        #expect(control?.message.contains("control character") == true)
    }

    @Test func validStructuresAreAccepted() throws {
        let valid = [
            "0", "-0", "-0.0e-0", "1E+2", "123.456e789", "[]", "{}", " [ ] ", "\t{\r\n}\n", #""""#,
            #"{"":""}"#, #"[null,true,false,"\"\\\/\b\f\n\r\t\u0000\uFFFF\uD83D\uDE00"]"#,
            "\"\u{7F}é€😀\u{10FFFF}\"", #"{"a":{"b":{"c":[[[{}]]]}}}"#,
        ]
        for text in valid {
            try JSONScanner.validate(bytes: text)
        }
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let depth = JSONLimits.nestingDepthMax
        try JSONScanner.validate(bytes: String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        let objects = String(repeating: #"{"a":"#, count: depth - 1) + "[]" + String(repeating: "}", count: depth - 1)
        try JSONScanner.validate(bytes: objects)
    }

    @Test func nestingBeyondTheLimitIsRefusedAtTheBracketTooMany() {
        let depth = JSONLimits.nestingDepthMax + 1
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = #expect(throws: JSONError.self) { try JSONScanner.validate(bytes: arrays) }
        #expect(error?.code == .limitExceeded && error?.byteOffset == depth - 1)
        #expect(error?.message.contains("nestingDepthMax") == true)

        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        let objectError = #expect(throws: JSONError.self) {
            let scanner = JSONScanner(paths: [Array(repeating: "a", count: depth)])
            var fields = scanner.makeFields()
            try scanner.scan(Array(objects.utf8), into: &fields)
        }
        #expect(objectError?.code == .limitExceeded && objectError?.byteOffset == (depth - 1) * 5)

        // A document far deeper than the limit fails the same way, without exhausting the stack.
        let deep = String(repeating: "[", count: 1_000_000)
        let deepError = #expect(throws: JSONError.self) { try JSONScanner.validate(bytes: deep) }
        #expect(deepError?.byteOffset == depth - 1)
    }
}

extension JSONScanner {
    static func validate(bytes text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try Self.validate($0) }
    }
}
