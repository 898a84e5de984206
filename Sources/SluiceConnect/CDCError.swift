/// The error SluiceConnect throws for operating errors: bad input, a refusing server, a lost connection.
/// Compare codes, never messages.
public struct CDCError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        /// A connection string or option that cannot be used.
        public static let invalidConfiguration = Code("invalid configuration")
        /// The server refused the credentials (SQLSTATE 28P01, 28000) or asked for an unsupported method.
        public static let authenticationFailed = Code("authentication failed")
        /// `wal_level` is not `logical`.
        public static let walLevelNotLogical = Code("wal_level not logical")
        /// A captured table does not exist.
        public static let missingTable = Code("missing table")
        /// A captured table has neither a primary key nor REPLICA IDENTITY FULL.
        public static let noPrimaryKey = Code("no primary key")
        /// The replication slot the connector streamed from was dropped.
        public static let slotMissing = Code("replication slot missing")
        /// The server answered with an error (the message carries SQLSTATE and text).
        public static let serverError = Code("server error")
        /// Bytes from the server that do not parse, or a message in a state where it makes no sense.
        public static let protocolViolation = Code("protocol violation")
        /// A named limit was exceeded; the message names it.
        public static let limitExceeded = Code("limit exceeded")
        /// The connection failed or closed; the connector retries these.
        public static let connectionLost = Code("connection lost")
        /// Writing to the log failed.
        public static let log = Code("log")
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?
    /// The SQLSTATE of a server error, when the server sent one.
    public var sqlState: String?

    public init(_ code: Code, _ message: String, sqlState: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.underlying = underlying
    }

    public var description: String {
        var text = "\(self.code): \(self.message)"
        if let underlying { text += " (\(underlying))" }
        return text
    }
}
