import NIOCore

/// Splits a byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes. Each frame goes down the
/// pipeline as a `ByteBuffer` without its size prefix (a slice of the bytes read, not a copy).
///
/// A size over `frameBytesMax` or below zero is an error before any of the frame is buffered, so a peer cannot make
/// the broker hold more than `frameBytesMax` bytes for one frame; the pipeline then closes the connection.
public struct KafkaFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    /// The default `frameBytesMax`: 100 MiB, Kafka's `socket.request.max.bytes` default.
    public static let frameBytesMaxDefault = 100 * 1024 * 1024

    /// The largest frame accepted, in bytes, not counting the size prefix.
    public let frameBytesMax: Int

    public init(frameBytesMax: Int = KafkaFrameDecoder.frameBytesMaxDefault) {
        precondition(frameBytesMax >= 0 && frameBytesMax <= Int(Int32.max), "frameBytesMax must fit an int32")
        self.frameBytesMax = frameBytesMax
    }

    /// Takes the next whole frame off the front of `buffer`, or returns nil (consuming nothing) if it has not all
    /// arrived. The pure step under `decode(context:buffer:)`.
    public static func nextFrame(
        in buffer: inout ByteBuffer,
        frameBytesMax: Int
    ) throws(KafkaProtocolError) -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard size >= 0 else {
            throw KafkaProtocolError(.invalidFrameSize, "a frame declares a negative size (\(size))")
        }
        guard Int(size) <= frameBytesMax else {
            throw KafkaProtocolError(
                .frameTooLarge,
                "a frame of \(size) bytes exceeds frameBytesMax (\(frameBytesMax) bytes)"
            )
        }
        guard buffer.readableBytes - 4 >= Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))!
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(in: &buffer, frameBytesMax: self.frameBytesMax) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        // A partial frame left at EOF is dropped; ByteToMessageHandler reports it as leftover data.
        try self.decode(context: context, buffer: &buffer)
    }
}
