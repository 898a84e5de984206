import NIOCore

/// One request as a broker receives it, after `KafkaFrameDecoder` removed the size prefix: the request header's
/// fields and the body, still encoded.
///
/// The header version follows from the API key and version (`ApiKey.requestHeaderVersion(for:)`): flexible
/// versions use header v2, whose ClientId is still an int16-prefixed string (so that any broker can read the header
/// of an ApiVersions request it does not understand) followed by a tagged-field section.
public struct KafkaRequestFrame: Sendable, Equatable {
    public var apiKey: Int16
    public var apiVersion: Int16
    public var correlationId: Int32
    /// The client id; nil when the client sent a null one.
    public var clientId: String?
    /// The request header version the frame was read with (1 or 2).
    public var headerVersion: Int16
    /// The encoded request body: a slice of the frame, not a copy.
    public var body: ByteBuffer

    public init(
        apiKey: Int16,
        apiVersion: Int16,
        correlationId: Int32,
        clientId: String?,
        headerVersion: Int16,
        body: ByteBuffer
    ) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
        self.clientId = clientId
        self.headerVersion = headerVersion
        self.body = body
    }

    /// The API, if this module has codecs for it.
    public var knownApiKey: ApiKey? { ApiKey(rawValue: self.apiKey) }

    /// Parses the header of one frame (without its size prefix).
    ///
    /// A request for an API this module does not know is parsed with header v1, leaving any tagged fields of a v2
    /// header at the start of `body`: the broker can still log the correlation id and client, then answer or close.
    public init(parsing frame: ByteBuffer) throws(KafkaProtocolError) {
        var frame = frame
        guard let apiKey = frame.getInteger(at: frame.readerIndex, as: Int16.self),
            let apiVersion = frame.getInteger(at: frame.readerIndex + 2, as: Int16.self)
        else {
            throw KafkaProtocolError(
                .truncated,
                "a request frame of \(frame.readableBytes) bytes is too short for a request header"
            )
        }
        let headerVersion = ApiKey(rawValue: apiKey)?.requestHeaderVersion(for: apiVersion) ?? 1
        let header = try RequestHeader(from: &frame, version: headerVersion)
        self.init(
            apiKey: header.requestApiKey,
            apiVersion: header.requestApiVersion,
            correlationId: header.correlationId,
            clientId: header.clientId,
            headerVersion: headerVersion,
            body: frame
        )
    }

    /// Decodes the body as `Message` at the frame's version; the body must be used up exactly.
    public func decodeBody<Message: KafkaMessage>(as type: Message.Type = Message.self) throws(KafkaProtocolError)
        -> Message
    {
        guard Message.apiKey == self.apiKey else {
            throw KafkaProtocolError(
                .unknownApiKey,
                "API key \(self.apiKey) does not match \(Message.kafkaSchema.name) (\(Message.apiKey))"
            )
        }
        return try Message(decoding: self.body, version: self.apiVersion)
    }

    /// Decodes the body as `Message`, ignoring bytes after the fields the version defines, as Kafka's
    /// broker does (librdkafka's all-topics Metadata v12 request carries three such bytes).
    public func decodeBodyLeniently<Message: KafkaMessage>(as type: Message.Type = Message.self) throws(KafkaProtocolError)
        -> Message
    {
        guard Message.apiKey == self.apiKey else {
            throw KafkaProtocolError(
                .unknownApiKey,
                "API key \(self.apiKey) does not match \(Message.kafkaSchema.name) (\(Message.apiKey))"
            )
        }
        var body = self.body
        return try Message(from: &body, version: self.apiVersion)
    }

    /// Appends a whole request frame: the size prefix, the header for `version`, and `request`.
    ///
    /// Brokers do not send requests; this is for clients and tests.
    public static func write<Message: KafkaMessage>(
        _ request: Message,
        version: Int16,
        correlationId: Int32,
        clientId: String?,
        into buffer: inout ByteBuffer
    ) throws(KafkaProtocolError) {
        guard let api = ApiKey(rawValue: Message.apiKey) else {
            throw KafkaProtocolError(.unknownApiKey, "no API key \(Message.apiKey)")
        }
        let header = RequestHeader(
            requestApiKey: Message.apiKey,
            requestApiVersion: version,
            correlationId: correlationId,
            clientId: clientId
        )
        try KafkaResponseFrame.writeSizePrefixed(into: &buffer) { (buffer) throws(KafkaProtocolError) in
            try header.write(into: &buffer, version: api.requestHeaderVersion(for: version))
            try request.write(into: &buffer, version: version)
        }
    }
}
