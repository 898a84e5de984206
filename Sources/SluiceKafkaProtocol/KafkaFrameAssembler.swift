import NIOCore

/// Cuts size-prefixed Kafka frames out of the reads of a connection, copying each byte at most once.
///
/// `ByteToMessageHandler` keeps one cumulation buffer: a frame handed on is a slice of it, and while a
/// request is in flight (a produce waiting for its fsync) the next read appended to the cumulation
/// copies all of it (copy-on-write), then grows it by doubling, copying again. For megabyte produce
/// requests that is several copies per byte. Here a frame that lies whole inside a read is a slice of
/// that read (no copy), and a frame spread over reads is gathered once into a buffer of exactly its size.
///
/// A large frame's buffer can also be lent out as the target of the next socket read
/// (`lendReadTarget`, which `KafkaFrameReadAllocator` hands to the channel): the rest of the frame is
/// then read straight into it, and only the bytes of the frame's first read are copied.
public struct KafkaFrameAssembler: Sendable {
    public let frameBytesMax: Int
    /// The most a frame spread over reads reserves before its bytes arrive: a produce request of a
    /// few partitions of 1 MiB batches fits, so it is still gathered without a second copy.
    public static let gatheringReserveBytesMax = 8 * 1024 * 1024
    /// The least a frame must still need for its buffer to be lent as a read target: below it, an
    /// ordinary read (which may also bring the next small frames) and a copy cost less.
    public static let lendingBytesMin = 64 * 1024
    /// The frame being gathered across reads, and how many bytes it still needs.
    private var partial: ByteBuffer?
    private var partialNeeded = 0
    /// While the partial frame's buffer is lent out: where its storage is, the frame's size, and the
    /// lent slice's reader index and capacity (what the read must come back with).
    private var lent: (storage: UInt, frameBytes: Int, readerIndex: Int, capacity: Int)?
    /// Whether the last frame completed was large (the next one probably is too).
    private var lastFrameWasLarge = false
    /// The size of a read at a frame boundary after a large frame: enough for the next request's header
    /// and the start of its data, so that little is copied before the rest can be read into a lent buffer.
    public static let boundaryReadBytes = 4 * 1024
    /// Bytes of a size prefix cut by the end of a read (fewer than 4).
    private var prefix: [UInt8] = []

    public init(frameBytesMax: Int = KafkaFrameDecoder.frameBytesMaxDefault) {
        precondition(frameBytesMax >= 0 && frameBytesMax <= Int(Int32.max), "frameBytesMax must fit an int32")
        self.frameBytesMax = frameBytesMax
    }

    /// Whether `lendReadTarget` would lend a buffer.
    public var canLend: Bool {
        self.lent == nil && self.partial != nil && self.partialNeeded >= Self.lendingBytesMin
    }

    /// Whether the next read had better be short (`boundaryReadBytes`): at a frame boundary after a large frame.
    public var prefersBoundaryRead: Bool {
        self.lastFrameWasLarge && self.partial == nil && self.lent == nil
    }

    /// The buffer of the frame being gathered, for the next read to write into after its bytes (its
    /// readable bytes are then what the read brought). The next call of `frames(in:)` must pass that
    /// buffer back; nil when no large frame is being gathered. The assembler keeps no reference while
    /// the buffer is lent, so that the read writes into it without a copy-on-write.
    public mutating func lendReadTarget() -> ByteBuffer? {
        guard self.canLend, var gathering = self.partial else { return nil }
        self.partial = nil
        let gathered = gathering.readableBytes  // from index 0: the frame's first byte
        let frameBytes = gathered + self.partialNeeded
        if gathering.writableBytes < self.partialNeeded {
            gathering.reserveCapacity(minimumWritableBytes: min(self.partialNeeded, Self.gatheringReserveBytesMax))
        }
        // A slice that ends where the frame does (buffers round their capacity up to a power of two), so
        // that the read stops at the frame's end and the next frame's start is not copied later.
        let end = min(frameBytes, gathering.capacity)
        gathering.moveWriterIndex(to: end)
        var target = gathering.getSlice(at: 0, length: end)!
        target.moveWriterIndex(to: gathered)
        target.moveReaderIndex(to: gathered)
        self.lent = (Self.storage(of: target), frameBytes, target.readerIndex, target.capacity)
        return target
    }

    private static func storage(of buffer: ByteBuffer) -> UInt {
        buffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }

    /// Where the frame being gathered is stored (tests: gathering writes in place, never a copy).
    var gatheringStorage: UInt? {
        self.partial.map(Self.storage(of:))
    }

    /// The frames that `read` completes (without their size prefix), in order. Throws on a negative
    /// or oversize frame, or when a read came in another buffer than the one lent (its bytes are
    /// lost); the connection is then unusable.
    public mutating func frames(in read: inout ByteBuffer) throws(KafkaProtocolError) -> [ByteBuffer] {
        var frames: [ByteBuffer] = []
        if let lent = self.lent {
            self.lent = nil
            // The same memory, indexes and bounds: a buffer freed and allocated again at the same address
            // would start at index 0 with another capacity.
            guard Self.storage(of: read) == lent.storage && read.readerIndex == lent.readerIndex && read.capacity == lent.capacity else {
                throw KafkaProtocolError(.frameLost, "a read did not arrive in the buffer lent for it; the frame being gathered is lost")
            }
            // The lent buffer holds the frame from its start: the bytes gathered before, then the read's.
            read.moveReaderIndex(to: 0)
            if read.readableBytes >= lent.frameBytes {
                frames.append(read.readSlice(length: lent.frameBytes)!)
            } else {
                self.partial = read
                self.partialNeeded = lent.frameBytes - read.readableBytes
                read.moveReaderIndex(forwardBy: read.readableBytes)
            }
        }
        while read.readableBytes > 0 {
            if var gathering = self.partial {
                // Taken out, so that the write below finds the buffer unshared and does not copy it.
                self.partial = nil
                let take = min(self.partialNeeded, read.readableBytes)
                var piece = read.readSlice(length: take)!
                gathering.writeBuffer(&piece)
                self.partialNeeded -= take
                if self.partialNeeded == 0 {
                    frames.append(gathering)
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
        if let last = frames.last { self.lastFrameWasLarge = last.readableBytes >= Self.lendingBytesMin }
        return frames
    }
}

/// A connection's frame assembler, shared by its channel handler and its receive allocator. Used on
/// the channel's event loop only.
public final class KafkaFrameReader: @unchecked Sendable {
    var assembler: KafkaFrameAssembler

    public init(frameBytesMax: Int = KafkaFrameDecoder.frameBytesMaxDefault) {
        self.assembler = KafkaFrameAssembler(frameBytesMax: frameBytesMax)
    }
}

/// The channel's receive allocator: the frame being gathered when it is large (the rest of the frame
/// is read straight into its buffer); a short buffer at a frame boundary after a large frame (the next
/// frame's start is copied, so the less the better); otherwise buffers sized as
/// `AdaptiveRecvByteBufferAllocator` sizes them.
///
/// It relies on how SwiftNIO's pooled receive buffers work: asked for no size (`nextBufferSize` nil)
/// and told that buffers may grow (`record` true), the pool takes the allocator's buffer; with a pool of
/// one buffer (`maxMessagesPerRead` 1), it keeps no reference to it, so the read writes into the lent
/// buffer without a copy. Should a read ever come in another buffer, the assembler notices and the
/// connection is closed rather than a frame corrupted.
public struct KafkaFrameReadAllocator: RecvByteBufferAllocator {
    private var adaptive: AdaptiveRecvByteBufferAllocator
    private let reader: KafkaFrameReader

    /// The channel option this allocator needs.
    public static let maxMessagesPerRead: UInt = 1

    public init(reader: KafkaFrameReader, adaptive: AdaptiveRecvByteBufferAllocator) {
        self.reader = reader
        self.adaptive = adaptive
    }

    public func buffer(allocator: ByteBufferAllocator) -> ByteBuffer {
        if let target = self.reader.assembler.lendReadTarget() { return target }
        if self.reader.assembler.prefersBoundaryRead { return allocator.buffer(capacity: KafkaFrameAssembler.boundaryReadBytes) }
        return self.adaptive.buffer(allocator: allocator)
    }

    /// Nil (no pooled buffer, which would read as much as its capacity) for a lent or a short read.
    public func nextBufferSize() -> Int? {
        let assembler = self.reader.assembler
        return assembler.canLend || assembler.prefersBoundaryRead ? nil : self.adaptive.nextBufferSize()
    }

    public mutating func record(actualReadBytes: Int) -> Bool {
        _ = self.adaptive.record(actualReadBytes: actualReadBytes)
        return true
    }
}

/// The channel handler around `KafkaFrameAssembler`: reads in, frames out. After a framing error it
/// reports the error once and drops what follows; the connection's owner closes it.
public final class KafkaFrameHandler: ChannelInboundHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer

    private let reader: KafkaFrameReader
    private var failed = false

    public init(frameBytesMax: Int = KafkaFrameDecoder.frameBytesMaxDefault) {
        self.reader = KafkaFrameReader(frameBytesMax: frameBytesMax)
    }

    /// A handler whose assembler the channel's `KafkaFrameReadAllocator` shares.
    public init(reader: KafkaFrameReader) {
        self.reader = reader
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !self.failed else { return }
        var read = Self.unwrapInboundIn(data)
        do {
            for frame in try self.reader.assembler.frames(in: &read) { context.fireChannelRead(Self.wrapInboundOut(frame)) }
        } catch {
            self.failed = true
            context.fireErrorCaught(error)
        }
    }
}
