/// A JSON document that does not parse, or a value read as a type it does not have.
///
/// `byteOffset` says where, in bytes from the start of the document. For malformed input it is the first byte
/// at which the input stops being the beginning of any valid document within `JSONLimits`: a document cut short
/// reports its own length, `[1,,2]` reports 3, and the bracket that opens one level too many reports its own
/// offset. One rule for every case keeps the offsets predictable and testable. For an error from a value reader
/// it is the offset of the value read (the document's length for an absent value).
public struct JSONError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; compare codes, never messages.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        public var description: String { self.name }

        /// The document ends before its value does: an open string, object, array, literal or number.
        public static let truncated = Code("truncated")
        /// A byte that cannot stand where it is: a missing comma or colon, a bad literal, a key that is not a string.
        public static let unexpectedByte = Code("unexpected byte")
        /// A number that breaks JSON's grammar: a lone minus, a leading zero, a dot or exponent without digits.
        public static let invalidNumber = Code("invalid number")
        /// A string with a raw control character or bytes that are not UTF-8.
        public static let invalidString = Code("invalid string")
        /// A backslash escape that JSON does not define, bad hex digits, or an unpaired UTF-16 surrogate.
        public static let invalidEscape = Code("invalid escape")
        /// Bytes after the document's value (other than whitespace).
        public static let trailingData = Code("trailing data")
        /// A named limit of `JSONLimits` was exceeded; the message names it.
        public static let limitExceeded = Code("limit exceeded")
        /// A value read as a kind it is not (a string read as a number, an absent field read at all).
        public static let typeMismatch = Code("type mismatch")
        /// A number that does not fit the type asked for: beyond Int64, not an integer, or beyond Double's range.
        public static let numberOutOfRange = Code("number out of range")
    }

    public var code: Code
    /// Where the problem is, in bytes from the start of the document.
    public var byteOffset: Int
    public var message: String

    public init(_ code: Code, at byteOffset: Int, _ message: String) {
        self.code = code
        self.byteOffset = byteOffset
        self.message = message
    }

    public var description: String { "\(self.message) at byte \(self.byteOffset)" }
}
