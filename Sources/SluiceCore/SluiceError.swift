/// The error every Sluice module throws for operating errors (bad input, I/O failures, limits).
///
/// Programmer errors trap instead. The code is extensible: modules add codes as static members.
public struct SluiceError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; compare codes, never messages.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        public var description: String { self.name }

        /// Input bytes that do not parse: a truncated batch, a bad varint, a wrong magic.
        public static let corruptData = Code("corrupt data")
        /// A checksum does not match its data.
        public static let checksumMismatch = Code("checksum mismatch")
        /// A named limit was exceeded; the message names the limit.
        public static let limitExceeded = Code("limit exceeded")
        /// A compression codec is unknown or its library cannot be loaded.
        public static let codecUnavailable = Code("codec unavailable")
        /// Compressed data that does not decompress.
        public static let compressionFailed = Code("compression failed")
        /// A system call failed; `underlying` carries the errno.
        public static let ioFailure = Code("I/O failure")
        /// The disk is full: the append was refused and the log left consistent.
        public static let diskFull = Code("disk full")
        /// A topic does not exist.
        public static let unknownTopic = Code("unknown topic")
        /// A partition does not exist.
        public static let unknownPartition = Code("unknown partition")
        /// A topic that already exists was created again.
        public static let topicExists = Code("topic already exists")
        /// A configuration value is invalid.
        public static let invalidConfiguration = Code("invalid configuration")
        /// An offset outside the log's range was requested.
        public static let offsetOutOfRange = Code("offset out of range")
        /// Another process holds the data directory.
        public static let directoryLocked = Code("data directory locked")
        /// An idempotent producer's sequence is not the next one expected.
        public static let outOfOrderSequence = Code("out of order sequence number")
        /// A producer's epoch is older than the one the log knows: a newer instance fenced it.
        public static let producerFenced = Code("producer fenced")
        /// A producer id the log has no state for sent a sequence other than 0.
        public static let unknownProducerId = Code("unknown producer id")
        /// A transactional operation that the transaction's state does not allow.
        public static let invalidTransactionState = Code("invalid transaction state")
        /// A request that is well formed but not acceptable (a bad record, a wrong argument).
        public static let invalidRequest = Code("invalid request")
        /// The log, partition or store was closed.
        public static let closed = Code("closed")
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(self.message) (\(underlying))" }
        return self.message
    }
}

/// An errno captured at a failing system call.
public struct Errno: Error, Sendable, CustomStringConvertible, Equatable {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }
    public var description: String {
        guard let text = strerror(self.rawValue) else { return "errno \(self.rawValue)" }
        return String(cString: text)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
