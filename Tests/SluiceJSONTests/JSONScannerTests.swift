import SluiceJSON
import Testing

/// Path extraction: nested fields, absent ones, duplicates, prefixes, escaped keys, reuse of the result.
@Suite struct JSONScannerTests {
    static let bid = #"""
        {"event_type":2,"person":null,"auction":null,"bid":{"auction":1007,"bidder":2001,"price":123456,\#
        "channel":"Google","url":"https://www.nexmark.com/abc/def/item.htm?query=1&channel_id=123",\#
        "dateTime":1700000000123,"extra":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}
        """#
    static let person = #"""
        { "event_type" : 0, "person" : { "id" : 1001, "name" : "Peter \"P\" Shultz", "city" : "Phoenix" },
          "auction" : null, "bid" : null }
        """#

    static let nexmarkPaths = [
        ["event_type"], ["bid", "auction"], ["bid", "price"], ["bid", "dateTime"], ["person", "name"],
        ["bid", "channel"], ["person", "id"], ["bid"], ["auction", "id"],
    ]

    @Test func readsNestedFieldsOfABid() throws {
        let scanner = JSONScanner(paths: Self.nexmarkPaths)
        var fields = scanner.makeFields()
        let document = Array(Self.bid.utf8)
        try scanner.scan(document, into: &fields)
        try document.withUnsafeBytes { (bytes) throws in
            #expect(try fields.value(0, in: bytes).int64() == 2)
            #expect(try fields.value(1, in: bytes).int64() == 1007)
            #expect(try fields.value(2, in: bytes).int64() == 123_456)
            #expect(try fields.value(3, in: bytes).int64() == 1_700_000_000_123)
            #expect(fields.kind(4) == .absent)  // person is null: nothing below it
            #expect(try fields.value(5, in: bytes).string() == "Google")
            #expect(fields.value(5, in: bytes).stringEquals("Google"))
            #expect(!fields.value(5, in: bytes).stringEquals("Googl"))
            #expect(fields.kind(6) == .absent)
            #expect(fields.kind(8) == .absent)
            // The whole bid object, to pass through unchanged.
            let bid = fields.value(7, in: bytes)
            #expect(bid.kind == .object)
            #expect(String(decoding: bid.bytes, as: UTF8.self).hasPrefix(#"{"auction":1007,"#))
            #expect(String(decoding: bid.bytes, as: UTF8.self).hasSuffix(#""xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#))
            let bidKey = Array(#""bid":{"#.utf8)
            let bidKeyOffset = document.indices.first { document[$0...].starts(with: bidKey) }
            #expect(bid.byteOffset == bidKeyOffset.map { $0 + bidKey.count - 1 })
        }
    }

    @Test func reusesTheSameFieldsForAnotherDocument() throws {
        let scanner = JSONScanner(paths: Self.nexmarkPaths)
        var fields = scanner.makeFields()
        try scanner.scan(Array(Self.bid.utf8), into: &fields)
        #expect(fields.kind(1) == .number)
        let document = Array(Self.person.utf8)
        try scanner.scan(document, into: &fields)
        try document.withUnsafeBytes { (bytes) throws in
            #expect(try fields.value(0, in: bytes).int64() == 0)
            #expect(fields.kind(1) == .absent && fields.kind(2) == .absent && fields.kind(7) == .null)
            #expect(try fields.value(4, in: bytes).string() == #"Peter "P" Shultz"#)
            #expect(fields.value(4, in: bytes).stringEquals(#"Peter "P" Shultz"#))
            #expect(!fields.value(4, in: bytes).stringEquals(#"Peter \"P\" Shultz"#))
            #expect(try fields.value(6, in: bytes).int64() == 1001)
        }
    }

    @Test func valueRangesAreExact() throws {
        let document = Array(#" { "a" : [1, {"b": 2}] , "b" : "x\"y" , "c" : -1.5e3 , "d":true,"e":{} } "#.utf8)
        let scanner = JSONScanner(paths: [["a"], ["b"], ["c"], ["d"], ["e"], []])
        var fields = scanner.makeFields()
        try scanner.scan(document, into: &fields)
        let texts = (0..<6).map { String(decoding: document[fields[$0].byteRange], as: UTF8.self) }
        #expect(texts == [#"[1, {"b": 2}]"#, #""x\"y""#, "-1.5e3", "true", "{}",
                          #"{ "a" : [1, {"b": 2}] , "b" : "x\"y" , "c" : -1.5e3 , "d":true,"e":{} }"#])
        #expect((0..<6).map { fields.kind($0) } == [.array, .string, .number, .bool, .object, .object])
    }

    @Test func pathsDoNotLookInsideArrays() throws {
        let document = Array(#"{"a":[{"b":1}],"c":{"b":2}}"#.utf8)
        let scanner = JSONScanner(paths: [["a", "b"], ["c", "b"], ["b"]])
        var fields = scanner.makeFields()
        try scanner.scan(document, into: &fields)
        #expect(fields.kind(0) == .absent && fields.kind(1) == .number && fields.kind(2) == .absent)
    }

    @Test func aPathThroughAValueThatIsNotAnObjectIsAbsent() throws {
        for text in [#"{"a":1}"#, #"{"a":"b"}"#, #"{"a":[]}"#, #"{"a":null}"#, #"{"a":{}}"#, "[]", "1", #""a""#] {
            let scanner = JSONScanner(paths: [["a", "b"]])
            var fields = scanner.makeFields()
            try scanner.scan(Array(text.utf8), into: &fields)
            #expect(fields.kind(0) == .absent, "\(text)")
        }
    }

    @Test func theLastDuplicateKeyWins() throws {
        let document = Array(#"{"a":1,"b":{"c":1,"d":2},"a":"two","b":{"c":3},"e":{"f":1},"e":5}"#.utf8)
        let scanner = JSONScanner(paths: [["a"], ["b", "c"], ["b", "d"], ["e", "f"], ["e"]])
        var fields = scanner.makeFields()
        try scanner.scan(document, into: &fields)
        try document.withUnsafeBytes { (bytes) throws in
            #expect(try fields.value(0, in: bytes).string() == "two")
            #expect(try fields.value(1, in: bytes).int64() == 3)
            // The later "b" has no "d": it replaces the whole earlier object.
            #expect(fields.kind(2) == .absent)
            // The later "e" is a number: nothing is below it.
            #expect(fields.kind(3) == .absent)
            #expect(try fields.value(4, in: bytes).int64() == 5)
        }
    }

    @Test func keysWithEscapesMatchTheirText() throws {
        let document = Array(
            #"{"ev\u0065nt_type":7,"\u00e9t\u00E9":"summer","a\/b":true,"\ud83d\ude00":1,"q\"":2}"#.utf8
        )
        let scanner = JSONScanner(paths: [["event_type"], ["été"], ["a/b"], ["😀"], ["q\""], ["event_typ"]])
        var fields = scanner.makeFields()
        try scanner.scan(document, into: &fields)
        try document.withUnsafeBytes { (bytes) throws in
            #expect(try fields.value(0, in: bytes).int64() == 7)
            #expect(try fields.value(1, in: bytes).string() == "summer")
            #expect(try fields.value(2, in: bytes).bool() == true)
            #expect(try fields.value(3, in: bytes).int64() == 1)
            #expect(try fields.value(4, in: bytes).int64() == 2)
            #expect(fields.kind(5) == .absent)
        }
    }

    @Test(arguments: [0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64])
    func keysOfEveryLengthMatchOnlyThemselves(keyByteCount: Int) throws {
        let key = String((0..<keyByteCount).map { Character(Unicode.Scalar(UInt8(0x61 + $0 % 26))) })
        let near = keyByteCount == 0 ? "#" : String(key.dropLast()) + "#"
        // The wanted key last and first, so that its bytes end near the document's end too.
        for text in [#"{"\#(near)":1,"\#(key)":2}"#, #"{"\#(key)":2,"\#(near)":1}"#, #"{"\#(key)":2}"#] {
            let scanner = JSONScanner(paths: [[key], [key + "a"]])
            var fields = scanner.makeFields()
            let document = Array(text.utf8)
            try scanner.scan(document, into: &fields)
            try document.withUnsafeBytes { (bytes) throws in
                #expect(try fields.value(0, in: bytes).int64() == 2, "\(text)")
                #expect(fields.kind(1) == .absent, "\(text)")
            }
        }
    }

    /// Keys are recognised from their first bytes before their end is found: a key that only starts like a
    /// wanted one, or that a wanted one only starts like, must not match, far from the end or near it.
    @Test(arguments: [1, 6, 7, 8, 9, 15, 16, 17])
    func keysThatOnlyShareAPrefixDoNotMatch(keyByteCount: Int) throws {
        let key = String((0..<keyByteCount).map { Character(Unicode.Scalar(UInt8(0x41 + $0 % 26))) })
        for padding in ["", String(repeating: " ", count: 20)] {
            for other in [key + "x", String(key.dropLast()), key + key] {
                let text = #"{"\#(other)":1,"\#(key)":2}"# + padding
                let scanner = JSONScanner(paths: [[key]])
                var fields = scanner.makeFields()
                let document = Array(text.utf8)
                try scanner.scan(document, into: &fields)
                try document.withUnsafeBytes { (bytes) throws in
                    #expect(try fields.value(0, in: bytes).int64() == 2, "\(text)")
                }
                let missing = Array((#"{"\#(other)":1}"# + padding).utf8)
                try scanner.scan(missing, into: &fields)
                #expect(fields.kind(0) == .absent, "\(other)")
            }
        }
    }

    @Test func aWantedKeyWithAControlCharacterIsNotMatchedRaw() {
        // The document must escape the control character; raw, it is invalid even though the bytes match.
        let scanner = JSONScanner(paths: [["a\u{1}"]])
        var fields = scanner.makeFields()
        let error = #expect(throws: JSONError.self) {
            try scanner.scan(Array("{\"a\u{1}\":1}          ".utf8), into: &fields)
        }
        #expect(error?.code == .invalidString && error?.byteOffset == 3)
    }

    @Test func scansTheWholeDocumentWhenAskedForNothing() throws {
        let scanner = JSONScanner(paths: [])
        var fields = scanner.makeFields()
        try scanner.scan(Array(Self.bid.utf8), into: &fields)
        #expect(fields.slotCount == 0)
        // Validation still covers everything.
        #expect(throws: JSONError.self) { try scanner.scan(Array(#"{"a":[1,2,}"#.utf8), into: &fields) }
    }

    @Test func aFailedScanLeavesEveryFieldAbsent() throws {
        let scanner = JSONScanner(paths: [["a"], ["b"]])
        var fields = scanner.makeFields()
        try scanner.scan(Array(#"{"a":1,"b":2}"#.utf8), into: &fields)
        #expect(fields.kind(0) == .number)
        #expect(throws: JSONError.self) { try scanner.scan(Array(#"{"a":1,"b":2"#.utf8), into: &fields) }
        #expect(fields.kind(0) == .absent && fields.kind(1) == .absent)
    }

    @Test func aValueReadAsAnotherKindIsATypeMismatch() throws {
        let document = Array(#"{"s":"1","n":1}"#.utf8)
        let scanner = JSONScanner(paths: [["s"], ["n"], ["missing"]])
        var fields = scanner.makeFields()
        try scanner.scan(document, into: &fields)
        try document.withUnsafeBytes { (bytes) throws in
            let error = #expect(throws: JSONError.self) { try fields.value(0, in: bytes).int64() }
            #expect(error?.code == .typeMismatch && error?.byteOffset == 5)
            #expect(throws: JSONError.self) { try fields.value(1, in: bytes).string() }
            #expect(throws: JSONError.self) { try fields.value(1, in: bytes).bool() }
            #expect(!fields.value(1, in: bytes).stringEquals("1"))
            let absent = #expect(throws: JSONError.self) { try fields.value(2, in: bytes).double() }
            #expect(absent?.code == .typeMismatch && absent?.byteOffset == document.count)
        }
    }

    @Test func theFieldSetNamesItsSlots() {
        let fieldSet = JSONFieldSet(Self.nexmarkPaths)
        #expect(fieldSet.pathCount == Self.nexmarkPaths.count)
        #expect(fieldSet.index(of: ["bid", "price"]) == 2)
        #expect(fieldSet.index(of: ["bid", "nothing"]) == nil)
    }
}
