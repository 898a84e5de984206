import NIOCore

/// The version-prefixed form of data structures that clients embed in bytes fields: an int16 version, then the
/// structure at that version. The consumer protocol's subscription (JoinGroup protocol metadata) and assignment
/// (SyncGroup assignment) travel this way.
extension KafkaCodable {
    /// Decodes an int16 version and the value that follows, as Kafka's consumer does: a version above the highest
    /// this codec knows is read as the highest one and the bytes a newer version appended are ignored (newer
    /// versions only add fields at the end); a version below the lowest is an error.
    public static func decodeVersionPrefixed(
        _ bytes: ByteBuffer
    ) throws(KafkaProtocolError) -> (value: Self, version: Int16) {
        var bytes = bytes
        let version = try bytes.readKafkaInteger(as: Int16.self, field: "version prefix")
        guard version >= Self.validVersions.lowerBound else {
            throw KafkaProtocolError(
                .unsupportedVersion,
                "\(Self.kafkaSchema.name) version \(version) is below the lowest, \(Self.validVersions.lowerBound)"
            )
        }
        let readVersion = min(version, Self.validVersions.upperBound)
        return (try Self(from: &bytes, version: readVersion), version)
    }

    /// Decodes the version-prefixed form from a bytes field; see `decodeVersionPrefixed(_:)` for `ByteBuffer`.
    public static func decodeVersionPrefixed(
        _ bytes: [UInt8]
    ) throws(KafkaProtocolError) -> (value: Self, version: Int16) {
        try Self.decodeVersionPrefixed(ByteBuffer(bytes: bytes))
    }

    /// The int16 version followed by this value at that version, as a bytes field holds it.
    public func versionPrefixedBytes(version: Int16) throws(KafkaProtocolError) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(version)
        try self.write(into: &buffer, version: version)
        return Array(buffer.readableBytesView)
    }
}
