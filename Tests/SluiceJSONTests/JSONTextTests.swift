import NIOCore
import SluiceJSON
import Testing

/// Strings read as `JSONText`: slices of the document's buffer that stand for the same text as `string()`, compare
/// and hash by that text, and write out as valid JSON.
@Suite struct JSONTextTests {
    static let strings: [String] = [
        "", "a", "plain text of more than sixteen bytes", #"quote \" and backslash \\"#, #"\n\t\r\b\f\/"#,
        #"\u00e9t\u00E9 \ud83d\ude00"#, "été 😀 raw UTF-8", #"\u0041"#,
    ]

    /// Scans `{"pad":..,"s":"<content>"}` placed after `prefix` unrelated bytes of a buffer; returns the text in the
    /// buffer, the text copied out, and `string()`.
    static func read(_ content: String, prefix: Int) throws -> (JSONText, JSONText, String) {
        let document = Array(#"{"pad":[1,2],"s":"\#(content)"}"#.utf8)
        var buffer = ByteBuffer(repeating: UInt8(ascii: "x"), count: prefix)
        buffer.writeBytes(document)
        buffer.moveReaderIndex(forwardBy: 3)  // readable bytes start after the first three
        let scanner = JSONScanner(paths: [["s"]])
        var fields = scanner.makeFields()
        return try buffer.withUnsafeReadableBytes { readable in
            let documentBytes = UnsafeRawBufferPointer(rebasing: readable[(prefix - 3)...])
            try scanner.scan(documentBytes, into: &fields)
            let value = fields.value(0, in: documentBytes)
            return (try value.text(in: buffer, documentByteOffset: prefix - 3), try value.text(), try value.string())
        }
    }

    @Test(arguments: strings)
    func textStandsForTheString(content: String) throws {
        let (inPlace, copied, string) = try Self.read(content, prefix: 11)
        #expect(inPlace.string == string)
        #expect(copied.string == string)
        #expect(inPlace == copied)
        #expect(inPlace == JSONText(string))
        #expect(inPlace.hashValue == JSONText(string).hashValue)
        #expect(inPlace.escapedByteCount == content.utf8.count)
        #expect(inPlace.hasEscapes == content.contains("\\"))
    }

    /// Written out, the text is the document's string as it was, and scanning that back gives the same text.
    @Test(arguments: strings)
    func textWritesAsItWasRead(content: String) throws {
        let (text, _, string) = try Self.read(content, prefix: 4)
        var writer = JSONWriter()
        writer.string(text)
        #expect(writer.bytes == Array("\"\(content)\"".utf8))
        let scanner = JSONScanner(paths: [[]])
        var fields = scanner.makeFields()
        let written = writer.bytes
        try scanner.scan(written, into: &fields)
        #expect(try written.withUnsafeBytes { try fields.value(0, in: $0).string() } == string)
    }

    @Test func textsOfDifferentStringsDiffer() throws {
        #expect(JSONText("a") != JSONText("b"))
        #expect(JSONText("") == .empty)
        #expect(JSONText("") != JSONText(" "))
        let (escaped, _, _) = try Self.read(#"\u0041b"#, prefix: 3)
        #expect(escaped == JSONText("Ab"))
        #expect(escaped != JSONText("AB"))
    }

    /// The text keeps the buffer's memory alive: it outlives the buffer it was read from.
    @Test func textOutlivesItsBuffer() throws {
        var text: JSONText?
        do {
            let (inPlace, _, _) = try Self.read("kept after the buffer is gone", prefix: 8)
            text = inPlace
        }
        #expect(text?.string == "kept after the buffer is gone")
    }

    @Test func anotherKindIsAMismatch() throws {
        let scanner = JSONScanner(paths: [["n"]])
        var fields = scanner.makeFields()
        let document = Array(#"{"n":5}"#.utf8)
        try scanner.scan(document, into: &fields)
        #expect(throws: JSONError.self) { try document.withUnsafeBytes { try fields.value(0, in: $0).text() } }
    }
}
