import SluiceJSON
import Testing
@testable import SluiceConnect

@Suite struct ValueConversionTests {
    @Test func arrayLiterals() throws {
        #expect(try PgArrayElement.parse("{}") == .array([]))
        #expect(try PgArrayElement.parse("{1,2,NULL}") == .array([.text("1"), .text("2"), .null]))
        #expect(try PgArrayElement.parse(#"{"a b","c\"d","NULL",e\,f}"#) == .array([.text("a b"), .text("c\"d"), .text("NULL"), .text("e,f")]))
        #expect(try PgArrayElement.parse("{{1,2},{3,4}}") == .array([.array([.text("1"), .text("2")]), .array([.text("3"), .text("4")])]))
        #expect(try PgArrayElement.parse("[0:1]={x,y}") == .array([.text("x"), .text("y")]))
        #expect(try PgArrayElement.parse(#"{"",""}"#) == .array([.text(""), .text("")]))
        for bad in ["", "{1,2", "{1,,2}", "{1}x", "{\"a}", "{{{{{{{1}}}}}}}"] {
            #expect(throws: CDCError.self, "\(bad)") { try PgArrayElement.parse(bad) }
        }
    }

    static func convert(_ text: String, _ kind: PgValueKind) throws -> String {
        var writer = JSONWriter()
        try PgValueConverter.write(Array(text.utf8), kind: kind, to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test func valuesByKind() throws {
        #expect(try Self.convert("-42", .integer) == "-42")
        #expect(try Self.convert("1.5e+100", .float) == "1.5e+100")
        #expect(try Self.convert("NaN", .float) == #""NaN""#)
        #expect(try Self.convert("-Infinity", .float) == #""-Infinity""#)
        #expect(try Self.convert("12345678901234567890.000000001", .numeric) == #""12345678901234567890.000000001""#)
        #expect(try Self.convert("t", .bool) == "true")
        #expect(try Self.convert("f", .bool) == "false")
        #expect(try Self.convert(#"{"a": [1, 2]}"#, .json) == #"{"a": [1, 2]}"#)
        #expect(try Self.convert(#"\x48690a"#, .bytea) == #""SGkK""#)
        #expect(try Self.convert("2024-02-29 13:14:15.123456+00", .timestamptz) == #""2024-02-29T13:14:15.123456Z""#)
        #expect(try Self.convert("2024-02-29 13:14:15", .timestamp) == #""2024-02-29T13:14:15""#)
        #expect(try Self.convert("infinity", .timestamp) == #""infinity""#)
        #expect(try Self.convert(#"{1,NULL,3}"#, .array(element: .integer)) == "[1,null,3]")
        #expect(try Self.convert(#"{{"a","b\"c"}}"#, .array(element: .string)) == #"[["a","b\"c"]]"#)
        #expect(try Self.convert(#"{t,f}"#, .array(element: .bool)) == "[true,false]")
        #expect(throws: CDCError.self) { try Self.convert("48690a", .bytea) }
        let registry = PgTypeRegistry()
        #expect(registry.kind(of: 1007) == .array(element: .integer))
        #expect(registry.kind(of: 99_999) == .string)
    }
}
