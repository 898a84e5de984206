import NIOCore

/// Cuts size-prefixed Kafka frames out of the reads of a connection, copying each byte at most once.
///
/// `ByteToMessageHandler` keeps one cumulation buffer: a frame handed on is a slice of it, and while a
/// request is in flight (a produce waiting for its fsync) the next read appended to the cumulation
/// copies all of it (copy-on-write), then grows it by doubling, copying again. For megabyte produce
/// requests that is several copies per byte. Here a frame that lies whole inside a read is a slice of
/// that read (no copy), and a frame spread over reads is gathered once into a buffer of exactly its size.
public struct KafkaFrameAssembler: Sendable {
    public let frameBytesMax: Int
    /// The most a frame spread over reads reserves before its bytes arrive: a produce request of a
    /// few partitions of 1 MiB batches fits, so it is still gathered without a second copy.
    public static let gatheringReserveBytesMax = 8 * 1024 * 1024
    /// The frame being gathered across reads, and how many bytes it still needs.
    private var partial: ByteBuffer?
    private var partialNeeded = 0
    /// Bytes of a size prefix cut by the end of a read (fewer than 4).
    private var prefix: [UInt8] = []

    public init(frameBytesMax: Int = KafkaFrameDecoder.frameBytesMaxDefault) {
        precondition(frameBytesMax >= 0 && frameBytesMax <= Int(Int32.max), "frameBytesMax must fit an int32")
        self.frameBytesMax = frameBytesMax
    }

    /// The frames that `read` completes (without their size prefix), in order. Throws on a negative
    /// or oversize frame; the connection is then unusable.
    public mutating func frames(in read: inout ByteBuffer) throws(KafkaProtocolError) -> [ByteBuffer] {
        var frames: [ByteBuffer] = []
        while read.readableBytes > 0 {
            if var gathering = self.partial {
                let take = min(self.partialNeeded, read.readableBytes)
                var piece = read.readSlice(length: take)!
                gathering.writeBuffer(&piece)
                self.partialNeeded -= take
                if self.partialNeeded == 0 {
                    frames.append(gathering)
                    self.partial = nil
                } else {
                    self.partial = gathering
                }
                continue
            }
            // At a frame boundary: the size prefix, perhaps cut by the previous read.
            let size: Int32
            if self.prefix.isEmpty && read.readableBytes >= 4 {
                size = read.readInteger(as: Int32.self)!
            } else {
                while self.prefix.count < 4, let byte = read.readInteger(as: UInt8.self) { self.prefix.append(byte) }
                guard self.prefix.count == 4 else { break }
                size = Int32(bigEndian: self.prefix.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
                self.prefix.removeAll(keepingCapacity: true)
            }
            guard size >= 0 else {
                throw KafkaProtocolError(.invalidFrameSize, "a frame declares a negative size (\(size))")
            }
            guard Int(size) <= self.frameBytesMax else {
                throw KafkaProtocolError(.frameTooLarge, "a frame of \(size) bytes exceeds frameBytesMax (\(self.frameBytesMax) bytes)")
            }
            if read.readableBytes >= Int(size) {
                frames.append(read.readSlice(length: Int(size))!)
            } else {
                // The whole declared size only up to a bound: a peer that sends size prefixes alone
                // reserves no more than that per connection; larger frames grow as they arrive.
                var gathering = ByteBufferAllocator().buffer(capacity: min(Int(size), Self.gatheringReserveBytesMax))
                var piece = read.readSlice(length: read.readableBytes)!
                gathering.writeBuffer(&piece)
                self.partial = gathering
                self.partialNeeded = Int(size) - gathering.readableBytes
            }
        }
        return frames
    }
}

/// The channel handler around `KafkaFrameAssembler`: reads in, frames out. After a framing error it
/// reports the error once and drops what follows; the connection's owner closes it.
public final class KafkaFrameHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private var assembler: KafkaFrameAssembler
    private var failed = false

    public init(frameBytesMax: Int = KafkaFrameDecoder.frameBytesMaxDefault) {
        self.assembler = KafkaFrameAssembler(frameBytesMax: frameBytesMax)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        var read = Self.unwrapInboundIn(data)
        do {
            for frame in try self.assembler.frames(in: &read) { context.fireChannelRead(Self.wrapInboundOut(frame)) }
        } catch {
            self.failed = true
            context.fireErrorCaught(error)
        }
    }
}
