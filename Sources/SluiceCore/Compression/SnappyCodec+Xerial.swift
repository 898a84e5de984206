/// The xerial (snappy-java) framing that Kafka's snappy codec (attribute 2) uses: a 16-byte header (the magic
/// `\x82SNAPPY\x00`, version 1, compatible version 1, both big-endian int32), then blocks of
/// [big-endian int32 compressed length][raw snappy block].
extension SnappyCodec {
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    static let xerialHeaderByteCount = 16
    /// snappy-java's default block: each block compresses this much input.
    static let xerialBlockInputByteCount = 32 * 1024

    /// Compresses into xerial framing, one block per 32 KiB of input, as snappy-java does by default.
    ///
    /// Empty input still gets one (empty) block: readers that want more than the 16-byte header before they
    /// take a payload for xerial (kafka-python among them) would otherwise read the bare header as a raw block.
    static func compressXerial(_ input: [UInt8]) -> [UInt8] {
        let blockCount = max(1, (input.count + Self.xerialBlockInputByteCount - 1) / Self.xerialBlockInputByteCount)
        let capacity =
            Self.xerialHeaderByteCount
            + blockCount * (4 + Self.compressedByteCountMax(Self.xerialBlockInputByteCount))
        return input.withUnsafeBytes { source in
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: Self.hashTableEntryCountMax) { table in
                [UInt8](unsafeUninitializedCapacity: capacity) { output, initializedCount in
                    let base = output.baseAddress!
                    base.initialize(from: Self.xerialMagic, count: Self.xerialMagic.count)
                    Self.storeBigEndian(1, at: base + 8)
                    Self.storeBigEndian(1, at: base + 12)
                    var position = Self.xerialHeaderByteCount
                    var blockStart = 0
                    repeat {
                        let blockEnd = min(blockStart + Self.xerialBlockInputByteCount, source.count)
                        let blockByteCount = Self.compressBlock(
                            UnsafeRawBufferPointer(rebasing: source[blockStart..<blockEnd]),
                            into: base + position + 4,
                            table: table.baseAddress!
                        )
                        Self.storeBigEndian(UInt32(blockByteCount), at: base + position)
                        position += 4 + blockByteCount
                        blockStart = blockEnd
                    } while blockStart < source.count
                    initializedCount = position
                }
            }
        }
    }

    /// Decompresses xerial framing, or a raw snappy block when the input does not start with the xerial magic
    /// (as librdkafka decides).
    static func decompressKafkaPayload(
        _ input: UnsafeRawBufferPointer,
        decompressedBytesMax: Int
    ) throws(SluiceError) -> [UInt8] {
        guard Self.hasXerialMagic(input) else {
            return try Self.decompressBlock(input, decompressedBytesMax: decompressedBytesMax)
        }
        guard input.count >= Self.xerialHeaderByteCount else {
            throw SluiceError.corruptCompressedData(codecName: Self.codecName, "xerial header truncated")
        }
        // First pass: the blocks' declared sizes give the exact output size, so the output is allocated once and
        // the limit is checked before any decoding.
        var totalByteCount = 0
        var position = Self.xerialHeaderByteCount
        while position < input.count {
            let block = try Self.xerialBlock(input, at: position)
            let (byteCount, _) = try Self.declaredByteCount(block, decompressedBytesMax: decompressedBytesMax)
            totalByteCount += byteCount
            if totalByteCount > decompressedBytesMax {
                throw SluiceError.decompressedBytesMaxExceeded(codecName: Self.codecName, limit: decompressedBytesMax)
            }
            position += 4 + block.count
        }
        return try Self.makeArray(byteCount: totalByteCount) { (output) throws(SluiceError) in
            var position = Self.xerialHeaderByteCount
            var outputPosition = 0
            while position < input.count {
                let block = try Self.xerialBlock(input, at: position)
                let (byteCount, headerByteCount) = try Self.declaredByteCount(
                    block,
                    decompressedBytesMax: decompressedBytesMax
                )
                try Self.decodeElements(
                    UnsafeRawBufferPointer(rebasing: block[headerByteCount...]),
                    into: UnsafeMutableRawBufferPointer(rebasing: output[outputPosition..<(outputPosition + byteCount)])
                )
                outputPosition += byteCount
                position += 4 + block.count
            }
        }
    }

    static func hasXerialMagic(_ input: UnsafeRawBufferPointer) -> Bool {
        input.count >= Self.xerialMagic.count && input.prefix(Self.xerialMagic.count).elementsEqual(Self.xerialMagic)
    }

    /// The raw block whose length prefix starts at `position`.
    private static func xerialBlock(
        _ input: UnsafeRawBufferPointer,
        at position: Int
    ) throws(SluiceError) -> UnsafeRawBufferPointer {
        guard input.count - position >= 4 else {
            throw SluiceError.corruptCompressedData(codecName: Self.codecName, "xerial block length truncated")
        }
        let length = Int(UInt32(bigEndian: input.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
        guard length <= input.count - position - 4 else {
            throw SluiceError.corruptCompressedData(
                codecName: Self.codecName,
                "xerial block at byte \(position) claims \(length) bytes, \(input.count - position - 4) remain"
            )
        }
        return UnsafeRawBufferPointer(rebasing: input[(position + 4)..<(position + 4 + length)])
    }

    private static func storeBigEndian(_ value: UInt32, at pointer: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value.bigEndian, as: UInt32.self)
    }
}
