/// The compression codecs of Kafka's record batch attributes (bits 0-2).
///
/// Each codec reads and writes the framing Kafka clients use: gzip streams, xerial-framed snappy, LZ4 frames
/// and zstd frames. gzip and snappy are always available; lz4 and zstd load liblz4 and libzstd at run time
/// (see `isAvailable`). The implementations live in `Compression/`.
public enum CompressionCodec: Int, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// Whether this process can use the codec. False for lz4 and zstd when their shared library
    /// (liblz4.so.1, libzstd.so.1) cannot be loaded; using the codec then throws `.codecUnavailable`.
    public var isAvailable: Bool {
        switch self {
        case .none, .gzip, .snappy: true
        case .lz4: LZ4FrameCodec.isAvailable
        case .zstd: ZstdCodec.isAvailable
        }
    }

    /// Compresses a batch payload in the framing Kafka producers use for this codec.
    ///
    /// Throws `.codecUnavailable` when the codec's library cannot be loaded, `.compressionFailed` when the
    /// library fails.
    public func compress(_ input: [UInt8]) throws(SluiceError) -> [UInt8] {
        switch self {
        case .none: return input
        case .gzip: return try GzipCodec.compress(input)
        case .snappy: return SnappyCodec.compressXerial(input)
        case .lz4: return try LZ4FrameCodec.compress(input)
        case .zstd: return try ZstdCodec.compress(input)
        }
    }

    /// Decompresses a batch payload; fails past `decompressedBytesMax`.
    ///
    /// Throws `.limitExceeded` when the payload decompresses to more than `decompressedBytesMax` bytes (no more
    /// than that limit, plus one byte, is ever allocated for the output), `.compressionFailed` when the payload is
    /// corrupt or truncated, and `.codecUnavailable` when the codec's library cannot be loaded.
    public func decompress(_ input: UnsafeRawBufferPointer, decompressedBytesMax: Int) throws(SluiceError) -> [UInt8] {
        switch self {
        case .none:
            if input.count > decompressedBytesMax {
                throw SluiceError.decompressedBytesMaxExceeded(codecName: "uncompressed", limit: decompressedBytesMax)
            }
            return Array(input)
        case .gzip: return try GzipCodec.decompress(input, decompressedBytesMax: decompressedBytesMax)
        case .snappy: return try SnappyCodec.decompressKafkaPayload(input, decompressedBytesMax: decompressedBytesMax)
        case .lz4: return try LZ4FrameCodec.decompress(input, decompressedBytesMax: decompressedBytesMax)
        case .zstd: return try ZstdCodec.decompress(input, decompressedBytesMax: decompressedBytesMax)
        }
    }

    /// Decompresses a batch payload; fails past `decompressedBytesMax`.
    public func decompress(_ input: [UInt8], decompressedBytesMax: Int) throws(SluiceError) -> [UInt8] {
        try input.withUnsafeBufferPointer { (buffer) throws(SluiceError) in
            try self.decompress(UnsafeRawBufferPointer(buffer), decompressedBytesMax: decompressedBytesMax)
        }
    }
}
