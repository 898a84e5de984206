/// What a field of a scanned document holds.
public enum JSONKind: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// The path is not in the document (or passes through a value that is not an object).
    case absent
    case null
    case bool
    case number
    case string
    case object
    case array

    public var description: String {
        switch self {
        case .absent: "absent"
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .object: "object"
        case .array: "array"
        }
    }
}
