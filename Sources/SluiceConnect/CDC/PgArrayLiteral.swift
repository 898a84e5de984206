/// A parsed PostgreSQL array literal (`{1,2,NULL}`, `{{"a b","c\"d"},{e,f}}`, `[0:1]={x,y}`).
public indirect enum PgArrayElement: Sendable, Equatable {
    case null
    case text(String)
    case array([PgArrayElement])

    /// The deepest nesting accepted: PostgreSQL allows 6 dimensions.
    public static let dimensionCountMax = 6

    /// Parses an array literal in PostgreSQL's text output format, with `,` as the delimiter.
    public static func parse(_ literal: String, delimiter: UInt8 = UInt8(ascii: ",")) throws(CDCError) -> PgArrayElement {
        var bytes = Array(literal.utf8)[...]
        // Explicit bounds ("[0:1]={...}") come before an equals sign.
        if bytes.first == UInt8(ascii: "["), let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
            bytes = bytes[(equals + 1)...]
        }
        var parser = Parser(bytes: bytes, delimiter: delimiter, literal: literal)
        let value = try parser.parseArray(depth: 1)
        parser.skipSpaces()
        guard parser.index == parser.bytes.endIndex else { throw parser.malformed("text after the closing brace") }
        return value
    }

    private struct Parser {
        let bytes: ArraySlice<UInt8>
        let delimiter: UInt8
        let literal: String
        var index: Int

        init(bytes: ArraySlice<UInt8>, delimiter: UInt8, literal: String) {
            self.bytes = bytes
            self.delimiter = delimiter
            self.literal = literal
            self.index = bytes.startIndex
        }

        func malformed(_ why: String) -> CDCError {
            CDCError(.protocolViolation, "malformed array literal (\(why)): \(self.literal.prefix(200))")
        }

        mutating func skipSpaces() {
            while self.index < self.bytes.endIndex, self.bytes[self.index] == UInt8(ascii: " ") { self.index += 1 }
        }

        mutating func parseArray(depth: Int) throws(CDCError) -> PgArrayElement {
            guard depth <= PgArrayElement.dimensionCountMax else { throw self.malformed("more than \(PgArrayElement.dimensionCountMax) dimensions") }
            self.skipSpaces()
            guard self.index < self.bytes.endIndex, self.bytes[self.index] == UInt8(ascii: "{") else { throw self.malformed("expected '{'") }
            self.index += 1
            var elements: [PgArrayElement] = []
            self.skipSpaces()
            if self.index < self.bytes.endIndex, self.bytes[self.index] == UInt8(ascii: "}") {
                self.index += 1
                return .array([])
            }
            while true {
                self.skipSpaces()
                guard self.index < self.bytes.endIndex else { throw self.malformed("unterminated") }
                let byte = self.bytes[self.index]
                if byte == UInt8(ascii: "{") {
                    elements.append(try self.parseArray(depth: depth + 1))
                } else if byte == UInt8(ascii: "\"") {
                    elements.append(.text(try self.parseQuoted()))
                } else {
                    elements.append(try self.parseUnquoted())
                }
                self.skipSpaces()
                guard self.index < self.bytes.endIndex else { throw self.malformed("unterminated") }
                let separator = self.bytes[self.index]
                self.index += 1
                if separator == UInt8(ascii: "}") { return .array(elements) }
                guard separator == self.delimiter else { throw self.malformed("expected a delimiter or '}'") }
            }
        }

        mutating func parseQuoted() throws(CDCError) -> String {
            self.index += 1
            var text: [UInt8] = []
            while self.index < self.bytes.endIndex {
                let byte = self.bytes[self.index]
                self.index += 1
                if byte == UInt8(ascii: "\\") {
                    guard self.index < self.bytes.endIndex else { break }
                    text.append(self.bytes[self.index])
                    self.index += 1
                } else if byte == UInt8(ascii: "\"") {
                    return String(decoding: text, as: UTF8.self)
                } else {
                    text.append(byte)
                }
            }
            throw self.malformed("unterminated quoted element")
        }

        mutating func parseUnquoted() throws(CDCError) -> PgArrayElement {
            var text: [UInt8] = []
            while self.index < self.bytes.endIndex {
                let byte = self.bytes[self.index]
                if byte == self.delimiter || byte == UInt8(ascii: "}") { break }
                if byte == UInt8(ascii: "\\") {
                    self.index += 1
                    guard self.index < self.bytes.endIndex else { break }
                    text.append(self.bytes[self.index])
                } else {
                    text.append(byte)
                }
                self.index += 1
            }
            while text.last == UInt8(ascii: " ") { text.removeLast() }
            guard !text.isEmpty else { throw self.malformed("empty element") }
            if text.count == 4, String(decoding: text, as: UTF8.self).uppercased() == "NULL" { return .null }
            return .text(String(decoding: text, as: UTF8.self))
        }
    }
}
