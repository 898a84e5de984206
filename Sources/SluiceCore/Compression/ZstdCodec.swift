import CSluiceDynamicCodecs

/// Kafka's zstd codec (attribute 4, KIP-110), through libzstd loaded at run time. Compression writes one frame
/// with its content size; decompression streams, since Kafka's Java producer (zstd-jni's stream) writes frames
/// without a content size, and accepts several frames one after the other.
enum ZstdCodec {
    static let codecName = "zstd"
    /// Kafka's default `compression.zstd.level`.
    static let compressionLevel: Int32 = 3
    /// A frame's declared content size is believed for the first allocation only up to this ratio; past it the
    /// output grows as data actually arrives (zstd's run-length blocks can expand much further).
    static let expectedRatioMax = 1024

    static var isAvailable: Bool { sluice_zstd_available() != 0 }

    static func unavailableError() -> SluiceError {
        let reason = sluice_zstd_unavailable_reason().map { String(cString: $0) } ?? "unknown reason"
        return SluiceError(
            .codecUnavailable,
            "zstd needs libzstd.so.1 (or libzstd.so) at run time and it could not be loaded: \(reason); "
                + "install the zstd library package (Debian: libzstd1)"
        )
    }

    static func compress(_ input: [UInt8]) throws(SluiceError) -> [UInt8] {
        guard Self.isAvailable else { throw Self.unavailableError() }
        let bound = sluice_zstd_compress_bound(input.count)
        var result = 0
        let output = input.withUnsafeBytes { source in
            [UInt8](unsafeUninitializedCapacity: bound) { buffer, initializedCount in
                result = sluice_zstd_compress(
                    buffer.baseAddress,
                    bound,
                    source.baseAddress,
                    source.count,
                    Self.compressionLevel
                )
                initializedCount = sluice_zstd_is_error(result) != 0 ? 0 : result
            }
        }
        if sluice_zstd_is_error(result) != 0 {
            throw SluiceError(.compressionFailed, "zstd: ZSTD_compress failed: \(Self.errorName(result))")
        }
        return output
    }

    static func decompress(_ input: UnsafeRawBufferPointer, decompressedBytesMax: Int) throws(SluiceError) -> [UInt8] {
        guard Self.isAvailable else { throw Self.unavailableError() }
        guard let inputBase = input.baseAddress, !input.isEmpty else {
            throw SluiceError.corruptCompressedData(codecName: Self.codecName, "empty input")
        }
        guard let decompressor = sluice_zstd_decompressor_create() else {
            throw SluiceError(.compressionFailed, "zstd: could not create a decompression stream")
        }
        defer { sluice_zstd_decompressor_free(decompressor) }

        var declared: UInt64 = 0
        let expected =
            sluice_zstd_frame_content_size(inputBase, input.count, &declared) != 0
            ? Int(min(declared, UInt64(input.count * Self.expectedRatioMax))) : input.count * 4
        var output = DecompressionBuffer(
            expectedByteCount: expected,
            decompressedBytesMax: decompressedBytesMax,
            codecName: Self.codecName
        )
        var inputPosition = 0
        while true {
            let space = try output.freeSpace()
            var writtenByteCount = 0
            let consumedBefore = inputPosition
            let result = sluice_zstd_decompress_stream(
                decompressor,
                space.baseAddress,
                space.count,
                &writtenByteCount,
                inputBase,
                input.count,
                &inputPosition
            )
            if sluice_zstd_is_error(result) != 0 {
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, Self.errorName(result))
            }
            try output.didWrite(writtenByteCount)
            let outputFull = writtenByteCount == space.count
            if inputPosition == input.count {
                // 0 means the last frame is complete and flushed; otherwise output waits for room or input is missing.
                if result == 0 { return output.finish() }
                if outputFull { continue }
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, "frame truncated")
            }
            if inputPosition == consumedBefore && writtenByteCount == 0 {
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, "decoder made no progress")
            }
        }
    }

    private static func errorName(_ result: Int) -> String {
        sluice_zstd_error_name(result).map { String(cString: $0) } ?? "error \(result)"
    }
}
