import SluiceJSON
import Testing
import _SluiceTestSupport

/// The writer's exact output: commas, escapes, numbers.
@Suite struct JSONWriterTests {
    static func text(_ write: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        write(&writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func placesCommasBetweenElementsOnly() {
        let text = Self.text { writer in
            writer.beginObject()
            writer.key("a")
            writer.int64(1)
            writer.key("b")
            writer.beginArray()
            writer.null()
            writer.bool(true)
            writer.bool(false)
            writer.beginObject()
            writer.endObject()
            writer.beginArray()
            writer.endArray()
            writer.string("s")
            writer.endArray()
            writer.key("c")
            writer.beginObject()
            writer.key("d")
            writer.uint64(.max)
            writer.endObject()
            writer.endObject()
        }
        #expect(text == #"{"a":1,"b":[null,true,false,{},[],"s"],"c":{"d":18446744073709551615}}"#)
    }

    @Test func writesIntegersOfEveryLength() {
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 101, Int64.max, Int64.min, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -power, -(power - 1)]
        }
        for value in values {
            #expect(Self.text { $0.int64(value) } == String(value))
        }
        for value: UInt64 in [0, 7, 10, 1 << 63, .max] {
            #expect(Self.text { $0.uint64(value) } == String(value))
        }
    }

    @Test func writesDoublesAsTheShortestTextThatReadsBack() {
        let cases: [(Double, String)] = [
            (0, "0.0"), (-0.0, "-0.0"), (1, "1.0"), (-3, "-3.0"), (0.1, "0.1"), (123.45, "123.45"),
            (1e15, "1000000000000000.0"), (0x1p53, "9007199254740992.0"), (1e16, "1e+16"), (1e-7, "1e-07"),
            (.leastNonzeroMagnitude, "5e-324"), (.greatestFiniteMagnitude, "1.7976931348623157e+308"),
            (.infinity, "null"), (-.infinity, "null"), (.nan, "null"),
        ]
        for (value, expected) in cases {
            #expect(Self.text { $0.double(value) } == expected)
        }
        #expect(Self.text { $0.beginArray(); $0.double(.nan); $0.double(2.5); $0.endArray() } == "[null,2.5]")
    }

    /// The writer formats common doubles itself; its text must be the standard library's shortest one.
    @Test func writesDoublesAsTheStandardLibraryDoes() {
        var random = SeededRandom()
        var values: [Double] = [0.1, 0.2, 0.3, 0.908, 1e-4, 0.00012, 123.456, 99.99, 0.5, 1.25, 4503599627370495.5,
                                0x1p53 - 1, 1e15 + 0.3, 0.000999, 12345.6789, 3.141592653]
        for _ in 0..<100_000 {
            values.append(Double(Int64.random(in: -10_000_000...10_000_000, using: &random)) / 100)
            values.append(Double(Int64.random(in: 1...1_000_000_000, using: &random))
                / [1, 10, 1000, 1e6, 1e9].randomElement(using: &random)!)
            values.append(Double.random(in: 0..<1000, using: &random))
            values.append(Double(bitPattern: random.next()))
        }
        for value in values where value.isFinite {
            let text = Self.text { $0.double(value) }
            #expect(text == value.description, "seed \(random.seed)")
            #expect(Double(text)?.bitPattern == value.bitPattern)
        }
    }

    @Test func escapesWhatJSONRequiresAndNothingElse() {
        let text = Self.text { $0.string("q\" b\\ s/ \n\r\t\u{8}\u{C}\u{0}\u{1F}\u{7F} é€😀") }
        #expect(text == #""q\" b\\ s/ \n\r\t\b\f\u0000\u001f"# + "\u{7F} é€😀\"")
        let long = String(repeating: "abcdefg\"", count: 5) + String(repeating: "x", count: 30)
        #expect(Self.text { $0.string(long) }
            == "\"" + String(repeating: #"abcdefg\""#, count: 5) + String(repeating: "x", count: 30) + "\"")
        #expect(Self.text { $0.beginObject(); $0.key("k\"\u{1}"); $0.string(""); $0.endObject() }
            == #"{"k\"\u0001":""}"#)
    }

    @Test func writesUTF8BytesAndRawValuesAsGiven() {
        let text = Self.text { writer in
            writer.beginArray()
            Array("é\"".utf8).withUnsafeBytes { writer.string(utf8: $0) }
            writer.raw(Array(#"{"nested":[1,2]}"#.utf8))
            Array("7".utf8).withUnsafeBytes { writer.raw($0) }
            writer.beginObject()
            Array("k".utf8).withUnsafeBytes { writer.key(utf8: $0) }
            writer.raw(Array("true".utf8))
            writer.endObject()
            writer.endArray()
        }
        #expect(text == #"["é\"",{"nested":[1,2]},7,{"k":true}]"#)
    }

    @Test func resetKeepsTheBufferForTheNextDocument() {
        var writer = JSONWriter(reservingCapacity: 64)
        writer.beginObject()
        writer.key("a")
        writer.int64(1)
        #expect(!writer.isComplete)
        writer.endObject()
        #expect(writer.isComplete)
        writer.reset()
        #expect(writer.bytes.isEmpty && !writer.isComplete)
        writer.int64(2)
        writer.reset()
        writer.beginArray()
        writer.int64(3)
        writer.endArray()
        #expect(writer.bytes == Array("[3]".utf8))
        #expect(writer.byteCount == 3)
        writer.withBytes { #expect(Array($0) == Array("[3]".utf8)) }
    }

    @Test func aCopyIsIndependentOfTheOriginal() {
        var writer = JSONWriter(reservingCapacity: 8)
        writer.beginArray()
        writer.int64(1)
        var copy = writer
        copy.int64(2)
        writer.int64(3)
        copy.endArray()
        writer.endArray()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == "[1,3]")
        #expect(String(decoding: copy.bytes, as: UTF8.self) == "[1,2]")
    }

    @Test func growsPastItsReservedCapacity() {
        var writer = JSONWriter(reservingCapacity: 1)
        let long = String(repeating: "\"quoted\" ", count: 500)
        writer.beginArray()
        for index in 0..<1000 {
            writer.int64(Int64(index))
            writer.string(long)
        }
        writer.endArray()
        let expectedElement = "\"" + String(repeating: #"\"quoted\" "#, count: 500) + "\""
        let expected = "[" + (0..<1000).map { "\($0),\(expectedElement)" }.joined(separator: ",") + "]"
        #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
        #expect(writer.byteCount == expected.utf8.count)
    }
}
