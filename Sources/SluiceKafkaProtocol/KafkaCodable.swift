import NIOCore

/// A versioned structure of the Kafka protocol with a codec: request and response bodies, the request and response
/// headers, and the data structures clients embed in bytes fields (the consumer protocol's subscription and
/// assignment).
///
/// One value represents every version: `write(into:version:)` writes the fields that `version` carries and
/// `init(from:version:)` leaves the others at their defaults, as Kafka's generated `Message` classes do.
public protocol KafkaCodable: Sendable, Equatable {
    /// The versions this codec reads and writes.
    static var validVersions: ClosedRange<Int16> { get }
    /// The first version that uses compact encodings and tagged fields, or nil if no version does.
    static var lowestFlexibleVersion: Int16? { get }
    /// The fields of every version, from the message spec; for tools and tests that walk messages generically.
    static var kafkaSchema: KafkaSchema { get }

    /// A value with every field at its default.
    init()

    /// Reads one value of `version` from `buffer`, advancing its reader index past the value.
    ///
    /// Lengths and counts are checked against the bytes that remain before anything is allocated; `records`
    /// fields are slices of `buffer`'s storage, not copies.
    init(from buffer: inout ByteBuffer, version: Int16) throws(KafkaProtocolError)

    /// Appends this value as `version` encodes it.
    ///
    /// Throws `unsupportedVersion` when a field that `version` does not carry holds a non-default value and the
    /// spec does not mark it ignorable; ignorable fields are dropped silently.
    func write(into buffer: inout ByteBuffer, version: Int16) throws(KafkaProtocolError)
}

extension KafkaCodable {
    /// Whether `version` uses compact encodings and tagged fields.
    public static func isFlexible(version: Int16) -> Bool {
        guard let lowest = Self.lowestFlexibleVersion else { return false }
        return version >= lowest
    }

    /// Decodes a value that fills `bytes` exactly; bytes left over are an error (`trailingBytes`).
    public init(decoding bytes: ByteBuffer, version: Int16) throws(KafkaProtocolError) {
        var bytes = bytes
        self = try Self(from: &bytes, version: version)
        guard bytes.readableBytes == 0 else {
            throw KafkaProtocolError(
                .trailingBytes,
                "\(bytes.readableBytes) bytes follow a version \(version) \(Self.kafkaSchema.name)"
            )
        }
    }

    /// This value encoded as `version`, in a new buffer.
    public func encoded(
        version: Int16,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws(KafkaProtocolError) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        try self.write(into: &buffer, version: version)
        return buffer
    }
}
