/// What goes wrong in a pipeline: a topology that cannot run, a store that cannot restore, a log
/// that refuses a write. Each says what to fix.
public struct StreamsError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { self.name }

        public static let invalidTopology = Code("invalid topology")
        public static let invalidConfiguration = Code("invalid configuration")
        public static let stateRestore = Code("state restore failed")
        public static let log = Code("log error")
        public static let deserialization = Code("deserialization failed")
        public static let fenced = Code("fenced")
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { "\(self.code): \(self.message)" }
}
