import SluiceJSON

/// A JSON value as the tests build and compare it: the reference the scanner, the writer and Foundation are
/// checked against. Objects keep their members in order (and the generator never repeats a key).
enum TestJSON: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([TestJSON])
    case object([(key: String, value: TestJSON)])

    static func == (left: TestJSON, right: TestJSON) -> Bool {
        switch (left, right) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a.bitPattern == b.bitPattern
        // Foundation reads a whole number in exponent form (1.2148042484959741e+18) as the integer the decimal
        // text means, which the double the text was written from rounds to.
        case let (.int(a), .double(b)), let (.double(b), .int(a)): return Double(a) == b
        // Strings compare as bytes: Swift's == would call canonically equivalent strings equal.
        case let (.string(a), .string(b)): return Array(a.utf8) == Array(b.utf8)
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            // Member order is not part of JSON's meaning; the generator never repeats a key.
            guard a.count == b.count else { return false }
            return a.allSatisfy { member in
                b.contains { $0.key.utf8.elementsEqual(member.key.utf8) && $0.value == member.value }
            }
        default: return false
        }
    }

    var description: String {
        var writer = JSONWriter()
        self.write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// Writes the value with `JSONWriter`, the way a pipeline would.
    func write(to writer: inout JSONWriter) {
        switch self {
        case .null: writer.null()
        case .bool(let value): writer.bool(value)
        case .int(let value): writer.int64(value)
        case .double(let value): writer.double(value)
        case .string(let value): writer.string(value)
        case .array(let elements):
            writer.beginArray()
            for element in elements { element.write(to: &writer) }
            writer.endArray()
        case .object(let members):
            writer.beginObject()
            for member in members {
                writer.key(member.key)
                member.value.write(to: &writer)
            }
            writer.endObject()
        }
    }

    /// Every path through objects to a value (the root's `[]` included), with the value found there.
    var objectPaths: [(path: [String], value: TestJSON)] {
        var found: [(path: [String], value: TestJSON)] = [([], self)]
        if case .object(let members) = self {
            for member in members {
                found += member.value.objectPaths.map { ([member.key] + $0.path, $0.value) }
            }
        }
        return found
    }
}
