import NIOCore

/// One response: its correlation id and its body, and the code that puts it on the wire as a size-prefixed frame.
///
/// The response header version follows from the request (`ApiKey.responseHeaderVersion(for:)`): v1 (with a
/// tagged-field section) for flexible versions, v0 otherwise, and always v0 for ApiVersions.
public struct KafkaResponseFrame: Sendable, Equatable {
    public var correlationId: Int32
    /// The encoded response body.
    public var body: ByteBuffer

    public init(correlationId: Int32, body: ByteBuffer) {
        self.correlationId = correlationId
        self.body = body
    }

    /// Parses a response frame (without its size prefix) whose header has `headerVersion`; for clients and tests.
    public init(parsing frame: ByteBuffer, headerVersion: Int16) throws(KafkaProtocolError) {
        var frame = frame
        let header = try ResponseHeader(from: &frame, version: headerVersion)
        self.init(correlationId: header.correlationId, body: frame)
    }

    /// Appends the frame: size prefix, response header of `headerVersion`, and the body (copied once).
    public func write(into buffer: inout ByteBuffer, headerVersion: Int16) throws(KafkaProtocolError) {
        let header = ResponseHeader(correlationId: self.correlationId)
        try Self.writeSizePrefixed(into: &buffer) { (buffer) throws(KafkaProtocolError) in
            try header.write(into: &buffer, version: headerVersion)
            buffer.writeImmutableBuffer(self.body)
        }
    }

    /// Appends the response to a request of `api` at `version` as one frame: size prefix, header, and `response`
    /// encoded in place (no intermediate body buffer).
    public static func write<Message: KafkaMessage>(
        _ response: Message,
        version: Int16,
        correlationId: Int32,
        into buffer: inout ByteBuffer
    ) throws(KafkaProtocolError) {
        guard let api = ApiKey(rawValue: Message.apiKey) else {
            throw KafkaProtocolError(.unknownApiKey, "no API key \(Message.apiKey)")
        }
        let header = ResponseHeader(correlationId: correlationId)
        try Self.writeSizePrefixed(into: &buffer) { (buffer) throws(KafkaProtocolError) in
            try header.write(into: &buffer, version: api.responseHeaderVersion(for: version))
            try response.write(into: &buffer, version: version)
        }
    }

    /// Reserves the 4-byte size, lets `body` append the frame, then fills the size in. On error the buffer is left
    /// as it was.
    static func writeSizePrefixed(
        into buffer: inout ByteBuffer,
        _ body: (inout ByteBuffer) throws(KafkaProtocolError) -> Void
    ) throws(KafkaProtocolError) {
        let sizeIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        do {
            try body(&buffer)
        } catch {
            buffer.moveWriterIndex(to: sizeIndex)
            throw error
        }
        let frameBytes = buffer.writerIndex - sizeIndex - 4
        guard frameBytes <= Int(Int32.max) else {
            buffer.moveWriterIndex(to: sizeIndex)
            throw KafkaProtocolError(.frameTooLarge, "a frame of \(frameBytes) bytes does not fit an int32 size")
        }
        buffer.setInteger(Int32(frameBytes), at: sizeIndex)
    }
}
