import Foundation

extension TestJSON {
    /// The value Foundation's `JSONSerialization` returned, as a `TestJSON`; nil for a type it should not give.
    init?(foundation value: Any) {
        switch value {
        case is NSNull:
            self = .null
        case let number as NSNumber:
            self = Self.number(number)
        case let text as String:
            self = .string(text)
        case let elements as [Any]:
            var converted: [TestJSON] = []
            for element in elements {
                guard let value = TestJSON(foundation: element) else { return nil }
                converted.append(value)
            }
            self = .array(converted)
        case let members as [String: Any]:
            var converted: [(key: String, value: TestJSON)] = []
            for (key, member) in members {
                guard let value = TestJSON(foundation: member) else { return nil }
                converted.append((key, value))
            }
            self = .object(converted)
        default:
            return nil
        }
    }

    /// Foundation gives booleans and numbers as NSNumber; its type code tells them apart (`c` is a boolean).
    /// Numbers that do not fit a double's usual form come as NSDecimalNumber, whose `doubleValue` is not
    /// correctly rounded; its exact decimal text is read instead.
    private static func number(_ number: NSNumber) -> TestJSON {
        if let decimal = number as? NSDecimalNumber {
            let text = decimal.stringValue
            if let exact = Int64(text) { return .int(exact) }
            return .double(Double(text) ?? .nan)
        }
        switch String(cString: number.objCType) {
        case "c": return .bool(number.boolValue)
        case "d", "f": return .double(number.doubleValue)
        default: return .int(number.int64Value)
        }
    }

    /// The value as Foundation objects, for `JSONSerialization.data(withJSONObject:)`.
    var foundationObject: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let value): return value
        case .int(let value): return NSNumber(value: value)
        case .double(let value): return value
        case .string(let value): return value
        case .array(let elements): return elements.map(\.foundationObject)
        case .object(let members):
            return Dictionary(members.map { ($0.key, $0.value.foundationObject) }, uniquingKeysWith: { a, _ in a })
        }
    }

    /// Parses `bytes` with `JSONSerialization`.
    static func parsedByFoundation(_ bytes: [UInt8]) throws -> TestJSON? {
        TestJSON(foundation: try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]))
    }
}
