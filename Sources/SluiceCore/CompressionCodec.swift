/// The compression codecs of Kafka's record batch attributes (bits 0-2).
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

    /// Compresses a batch payload in the framing Kafka producers use for this codec.
    public func compress(_ input: [UInt8]) throws(SluiceError) -> [UInt8] {
        switch self {
        case .none: return input
        default: throw SluiceError(.codecUnavailable, "\(self) compression is not available")
        }
    }

    /// Decompresses a batch payload; fails past `decompressedBytesMax`.
    public func decompress(_ input: UnsafeRawBufferPointer, decompressedBytesMax: Int) throws(SluiceError) -> [UInt8] {
        switch self {
        case .none: return Array(input)
        default: throw SluiceError(.codecUnavailable, "\(self) decompression is not available")
        }
    }
}
