import NIOCore

/// A header of a record: a string key and optional bytes.
public struct RecordHeader: Sendable, Equatable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value.map { ByteBuffer(bytes: $0) }
    }
}

/// One record as read from a batch: absolute offset and timestamp resolved; key and value are
/// slices of the batch's (or its decompressed payload's) storage, not copies.
public struct Record: Sendable, Equatable {
    public var offset: Int64
    /// Milliseconds since the epoch: create time or log-append time, as the batch says.
    public var timestamp: Int64
    public var key: ByteBuffer?
    public var value: ByteBuffer?
    public var headers: [RecordHeader]

    public init(offset: Int64, timestamp: Int64, key: ByteBuffer?, value: ByteBuffer?, headers: [RecordHeader] = []) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// What a control record of a transactional batch marks.
public enum ControlRecordType: Int16, Sendable {
    case abort = 0
    case commit = 1
}

/// How a batch's timestamps were assigned.
public enum TimestampType: Sendable, Equatable {
    case createTime
    case logAppendTime
}

/// The (key, value, headers, timestamp) a producer hands to a batch builder.
public struct ProducerRecord: Sendable {
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [(key: String, value: [UInt8]?)]
    public var timestamp: Int64

    public init(key: [UInt8]?, value: [UInt8]?, headers: [(key: String, value: [UInt8]?)] = [], timestamp: Int64) {
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}
