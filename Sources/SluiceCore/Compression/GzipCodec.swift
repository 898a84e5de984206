import CSluiceZlib

/// Kafka's gzip codec (attribute 1): a gzip stream (RFC 1952) through the system zlib, as Java's
/// `GZIPOutputStream` and librdkafka write it. Decompression accepts concatenated members and, like librdkafka,
/// a zlib header as well.
enum GzipCodec {
    static let codecName = "gzip"
    /// zlib's default (level 6), which Kafka's producer uses unless `compression.gzip.level` says otherwise.
    static let compressionLevel = Z_DEFAULT_COMPRESSION
    /// Deflate cannot expand more than about 1032:1, so a trailer claiming more is not believed for sizing.
    static let expansionRatioMax = 1032

    static func compress(_ input: [UInt8]) throws(SluiceError) -> [UInt8] {
        var stream = z_stream()
        guard sluice_deflate_init_gzip(&stream, Self.compressionLevel) == Z_OK else {
            throw SluiceError(.compressionFailed, "gzip: deflateInit2 failed: \(Self.message(stream))")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var failure: SluiceError?
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initializedCount in
            initializedCount = 0
            input.withUnsafeBufferPointer { source in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.next_out = buffer.baseAddress
                var inputRemaining = source.count
                var outputRemaining = buffer.count
                while true {
                    // avail_in and avail_out are 32-bit: feed larger buffers in slices.
                    let inputSlice = min(inputRemaining, Int(UInt32.max))
                    let outputSlice = min(outputRemaining, Int(UInt32.max))
                    stream.avail_in = uInt(inputSlice)
                    stream.avail_out = uInt(outputSlice)
                    let flush = inputSlice == inputRemaining ? Z_FINISH : Z_NO_FLUSH
                    let status = deflate(&stream, flush)
                    inputRemaining -= inputSlice - Int(stream.avail_in)
                    outputRemaining -= outputSlice - Int(stream.avail_out)
                    if status == Z_STREAM_END { break }
                    if (status != Z_OK && status != Z_BUF_ERROR) || outputRemaining == 0 {
                        failure = SluiceError(
                            .compressionFailed, "gzip: deflate failed (\(status)): \(Self.message(stream))")
                        break
                    }
                }
                initializedCount = buffer.count - outputRemaining
            }
        }
        if let failure { throw failure }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, decompressedBytesMax: Int) throws(SluiceError) -> [UInt8] {
        guard let inputBase = input.baseAddress, !input.isEmpty else {
            throw SluiceError.corruptCompressedData(codecName: Self.codecName, "empty input")
        }
        var stream = z_stream()
        guard sluice_inflate_init_auto(&stream) == Z_OK else {
            throw SluiceError(.compressionFailed, "gzip: inflateInit2 failed: \(Self.message(stream))")
        }
        defer { inflateEnd(&stream) }

        var output = DecompressionBuffer(
            expectedByteCount: Self.expectedByteCount(input),
            decompressedBytesMax: decompressedBytesMax,
            codecName: Self.codecName
        )
        var inputPosition = 0
        while true {
            let space = try output.freeSpace()
            let inputSlice = min(input.count - inputPosition, Int(UInt32.max))
            let outputSlice = min(space.count, Int(UInt32.max))
            stream.next_in = UnsafeMutablePointer(
                mutating: (inputBase + inputPosition).assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(inputSlice)
            stream.next_out = space.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(outputSlice)
            let status = inflate(&stream, Z_NO_FLUSH)
            inputPosition += inputSlice - Int(stream.avail_in)
            try output.didWrite(outputSlice - Int(stream.avail_out))
            switch status {
            case Z_STREAM_END:
                if inputPosition == input.count { return output.finish() }
                // Another gzip member follows (`cat a.gz b.gz` is a valid gzip file).
                guard inflateReset(&stream) == Z_OK else {
                    throw SluiceError(.compressionFailed, "gzip: inflateReset failed: \(Self.message(stream))")
                }
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: either the output is full (grow and go on) or the input ended early.
                if stream.avail_out == 0 { continue }
                throw SluiceError.corruptCompressedData(
                    codecName: Self.codecName, "stream truncated after \(input.count) bytes")
            case Z_NEED_DICT:
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, "stream needs a preset dictionary")
            default:
                throw SluiceError.corruptCompressedData(
                    codecName: Self.codecName, "\(Self.message(stream)) (zlib status \(status))")
            }
        }
    }

    /// The last member's ISIZE trailer (the decompressed size mod 2^32), believed only up to the deflate ratio.
    private static func expectedByteCount(_ input: UnsafeRawBufferPointer) -> Int {
        guard input.count >= 18 else { return 0 }
        let trailer = input.loadUnaligned(fromByteOffset: input.count - 4, as: UInt32.self)
        let declared = Int(UInt32(littleEndian: trailer))
        return min(declared, input.count * Self.expansionRatioMax)
    }

    private static func message(_ stream: z_stream) -> String {
        guard let text = stream.msg else { return "no detail" }
        return String(cString: text)
    }
}
