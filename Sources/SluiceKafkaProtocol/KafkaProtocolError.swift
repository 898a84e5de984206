/// The error the Kafka protocol codecs throw: bytes that do not parse, values that a version cannot carry, frames
/// over a limit.
///
/// A broker answers most of these by closing the connection (Kafka does the same for a request it cannot parse);
/// `unsupportedVersion` on write is a programmer error in the broker that Kafka reports as
/// `UnsupportedVersionException`.
public struct KafkaProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure this is; compare codes, never messages.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        public var description: String { self.name }

        /// The input ended before a field did.
        public static let truncated = Code("truncated")
        /// A length or count that is negative (other than the null marker), larger than the bytes that remain, or
        /// over a protocol limit.
        public static let invalidLength = Code("invalid length")
        /// An unsigned varint longer than 5 bytes or over 32 bits.
        public static let invalidVarint = Code("invalid varint")
        /// A string whose bytes are not valid UTF-8.
        public static let invalidUTF8 = Code("invalid UTF-8")
        /// A null where the version does not allow one (on read or on write).
        public static let unexpectedNull = Code("unexpected null")
        /// A value that cannot be encoded at all (a string over 32767 bytes).
        public static let invalidValue = Code("invalid value")
        /// A version outside a message's valid versions, or a non-default value in a field that the version does
        /// not carry and that is not ignorable (Kafka's UnsupportedVersionException).
        public static let unsupportedVersion = Code("unsupported version")
        /// Bytes left over after a message that should fill its buffer.
        public static let trailingBytes = Code("trailing bytes")
        /// A frame whose size prefix exceeds the decoder's `frameBytesMax`.
        public static let frameTooLarge = Code("frame too large")
        /// A frame whose size prefix is negative.
        public static let invalidFrameSize = Code("invalid frame size")
        /// A read that should have landed in the buffer of the frame being gathered came in another.
        public static let frameLost = Code("frame lost")
        /// An API key this module has no codec for.
        public static let unknownApiKey = Code("unknown API key")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}

extension KafkaProtocolError {
    static func truncated(_ field: StaticString, needed byteCount: Int, remaining: Int) -> KafkaProtocolError {
        KafkaProtocolError(.truncated, "\(field) needs \(byteCount) bytes but \(remaining) remain")
    }

    static func unexpectedNull(_ field: StaticString) -> KafkaProtocolError {
        KafkaProtocolError(.unexpectedNull, "\(field) is null but this version does not allow null")
    }

    static func fieldNotInVersion(_ field: StaticString, version: Int16) -> KafkaProtocolError {
        KafkaProtocolError(
            .unsupportedVersion,
            "\(field) has a non-default value but version \(version) cannot carry it"
        )
    }

    static func unsupportedVersion(_ message: StaticString, version: Int16, valid: ClosedRange<Int16>)
        -> KafkaProtocolError
    {
        KafkaProtocolError(
            .unsupportedVersion,
            "\(message) version \(version) is outside the valid versions \(valid.lowerBound)-\(valid.upperBound)"
        )
    }
}
