import CSluiceDynamicCodecs

/// Kafka's lz4 codec (attribute 3): the LZ4 frame format (magic 0x184D2204, KIP-57), through liblz4 loaded at
/// run time. Writes what Kafka's Java producer writes (64 KiB independent blocks, no checksums, no content size);
/// reads any standard frame: with or without content size, block or content checksums, concatenated frames.
enum LZ4FrameCodec {
    static let codecName = "lz4"
    /// liblz4's fast mode, as librdkafka uses by default; Kafka readers do not depend on the level.
    static let compressionLevel: Int32 = 0
    /// An LZ4 sequence of a few bytes can repeat at most about 255 bytes per input byte.
    static let expansionRatioMax = 255
    private static let frameMagic: UInt32 = 0x184D_2204

    static var isAvailable: Bool { sluice_lz4_available() != 0 }

    static func unavailableError() -> SluiceError {
        let reason = sluice_lz4_unavailable_reason().map { String(cString: $0) } ?? "unknown reason"
        return SluiceError(
            .codecUnavailable,
            "lz4 needs liblz4.so.1 (or liblz4.so) at run time and it could not be loaded: \(reason); "
                + "install the lz4 library package (Debian: liblz4-1)"
        )
    }

    static func compress(_ input: [UInt8]) throws(SluiceError) -> [UInt8] {
        guard Self.isAvailable else { throw Self.unavailableError() }
        let bound = sluice_lz4_compress_frame_bound(input.count)
        var result = 0
        let output = input.withUnsafeBytes { source in
            [UInt8](unsafeUninitializedCapacity: bound) { buffer, initializedCount in
                result = sluice_lz4_compress_frame(
                    buffer.baseAddress,
                    bound,
                    source.baseAddress,
                    source.count,
                    Self.compressionLevel
                )
                initializedCount = sluice_lz4_is_error(result) != 0 ? 0 : result
            }
        }
        if sluice_lz4_is_error(result) != 0 {
            throw SluiceError(.compressionFailed, "lz4: LZ4F_compressFrame failed: \(Self.errorName(result))")
        }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, decompressedBytesMax: Int) throws(SluiceError) -> [UInt8] {
        guard Self.isAvailable else { throw Self.unavailableError() }
        guard let inputBase = input.baseAddress, !input.isEmpty else {
            throw SluiceError.corruptCompressedData(codecName: Self.codecName, "empty input")
        }
        guard let decompressor = sluice_lz4_decompressor_create() else {
            throw SluiceError(.compressionFailed, "lz4: could not create a decompression context")
        }
        defer { sluice_lz4_decompressor_free(decompressor) }

        var output = DecompressionBuffer(
            expectedByteCount: Self.expectedByteCount(input),
            decompressedBytesMax: decompressedBytesMax,
            codecName: Self.codecName
        )
        var inputPosition = 0
        while true {
            let space = try output.freeSpace()
            var writtenByteCount = space.count
            var consumedByteCount = input.count - inputPosition
            let result = sluice_lz4_decompress(
                decompressor,
                space.baseAddress,
                &writtenByteCount,
                inputBase + inputPosition,
                &consumedByteCount
            )
            if sluice_lz4_is_error(result) != 0 {
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, Self.errorName(result))
            }
            inputPosition += consumedByteCount
            try output.didWrite(writtenByteCount)
            let outputFull = writtenByteCount == space.count
            if inputPosition == input.count {
                // 0 means the last frame ended; otherwise either buffered output waits for room, or input is missing.
                if result == 0 { return output.finish() }
                if outputFull { continue }
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, "frame truncated")
            }
            if consumedByteCount == 0 && writtenByteCount == 0 {
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, "decoder made no progress")
            }
        }
    }

    /// The first frame's content size when its header records one, believed only up to the format's ratio.
    private static func expectedByteCount(_ input: UnsafeRawBufferPointer) -> Int {
        guard input.count >= 15,
            UInt32(littleEndian: input.loadUnaligned(as: UInt32.self)) == Self.frameMagic,
            input[4] & 0x08 != 0
        else { return 0 }
        let declared = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: 6, as: UInt64.self))
        return Int(min(declared, UInt64(input.count * Self.expansionRatioMax)))
    }

    private static func errorName(_ result: Int) -> String {
        sluice_lz4_error_name(result).map { String(cString: $0) } ?? "error \(result)"
    }
}
