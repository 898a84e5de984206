import Foundation
import NIOCore
import SluiceCore
import Testing
import _SluiceTestSupport

/// Kafka's compression codecs: round trips, payloads written by independent implementations (the fixtures of
/// scripts/fixtures/make_compression_fixtures.py), snappy's block format by hand, corrupt and truncated input,
/// and the decompressed-size limit.
@Suite struct CompressionTests {
    static let kafkaCodecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]
    static let limit = Limits.decompressedBytesMax

    /// Log-like lines: compressible, but not a single repeated byte.
    static func repetitiveText(byteCount: Int) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(byteCount + 100)
        var line = 0
        while text.count < byteCount {
            text += Array("2024-09-17T12:00:\(line % 60)Z INFO partition=orders-\(line % 7) offset=\(line) ok\n".utf8)
            line += 1
        }
        return Array(text.prefix(byteCount))
    }

    /// Random bytes with runs and repeats, so every snappy element kind (and long copies) appears.
    static func mixedBytes(_ random: inout SeededRandom, byteCount: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount + 300)
        while bytes.count < byteCount {
            switch Int.random(in: 0..<4, using: &random) {
            case 0: bytes += random.bytes(Int.random(in: 1...100, using: &random))
            case 1:
                bytes += Array(
                    repeating: UInt8.random(in: 0...255, using: &random), count: Int.random(in: 1...300, using: &random)
                )
            default:
                guard !bytes.isEmpty else { continue }
                let start = Int.random(in: 0..<bytes.count, using: &random)
                let length = Int.random(in: 1...min(200, bytes.count - start), using: &random)
                bytes += bytes[start..<(start + length)]
            }
        }
        return Array(bytes.prefix(byteCount))
    }

    static func expectUnavailable(_ codec: CompressionCodec) {
        let library = codec == .lz4 ? "liblz4.so.1" : "libzstd.so.1"
        do {
            _ = try codec.compress([1, 2, 3])
            Issue.record("\(codec) is unavailable but compress did not throw")
        } catch {
            #expect(error.code == .codecUnavailable)
            #expect(error.message.contains(library), "\(error.message)")
        }
    }

    static func expectError(
        _ code: SluiceError.Code,
        _ comment: String,
        _ body: () throws(SluiceError) -> [UInt8]
    ) {
        do {
            let output = try body()
            Issue.record("\(comment): expected \(code), got \(output.count) bytes")
        } catch {
            #expect(error.code == code, "\(comment): \(error)")
        }
    }

    // MARK: Round trips

    @Test(arguments: CompressionCodec.allCases)
    func roundTripsAcrossSizes(_ codec: CompressionCodec) throws {
        guard codec.isAvailable else { return Self.expectUnavailable(codec) }
        var random = SeededRandom()
        let inputs: [(name: String, bytes: [UInt8])] = [
            ("0 bytes", []),
            ("1 byte", [0x5A]),
            ("100 KiB random", random.bytes(100 * 1024)),
            ("1 MiB repetitive text", Self.repetitiveText(byteCount: 1 << 20)),
            ("300 KiB mixed", Self.mixedBytes(&random, byteCount: 300 * 1024)),
        ]
        for input in inputs {
            let compressed = try codec.compress(input.bytes)
            let back = try codec.decompress(compressed, decompressedBytesMax: Self.limit)
            let same = back == input.bytes
            #expect(same, "\(codec) \(input.name): \(back.count) bytes back, seed \(random.seed)")
            // The limit is inclusive: exactly the decompressed size passes.
            let atLimit = try codec.decompress(compressed, decompressedBytesMax: input.bytes.count)
            #expect(atLimit.count == input.bytes.count, "\(codec) \(input.name) at its own size")
            let unlimited = try codec.decompress(compressed, decompressedBytesMax: .max)
            #expect(unlimited.count == input.bytes.count, "\(codec) \(input.name) without a limit")
            if input.name.hasSuffix("text") && codec != .none {
                #expect(compressed.count < input.bytes.count / 4, "\(codec) compresses text: \(compressed.count) bytes")
            }
        }
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func framingIsWhatKafkaClientsWrite(_ codec: CompressionCodec) throws {
        guard codec.isAvailable else { return Self.expectUnavailable(codec) }
        let compressed = try codec.compress(Self.repetitiveText(byteCount: 100_000))
        switch codec {
        case .gzip:
            #expect(Array(compressed.prefix(3)) == [0x1F, 0x8B, 0x08], "gzip magic and deflate method")
        case .snappy:
            #expect(Array(compressed.prefix(16)) == [0x82] + Array("SNAPPY".utf8) + [0, 0, 0, 0, 1, 0, 0, 0, 1])
            // 100 000 bytes in 32 KiB blocks: four blocks, each a raw block declaring its input size.
            var position = 16
            var declared: [Int] = []
            while position < compressed.count {
                let length = compressed[position..<(position + 4)].reduce(0) { $0 << 8 | Int($1) }
                var value = 0
                var shift = 0
                var index = position + 4
                while true {
                    value |= Int(compressed[index] & 0x7F) << shift
                    shift += 7
                    if compressed[index] & 0x80 == 0 { break }
                    index += 1
                }
                declared.append(value)
                position += 4 + length
            }
            #expect(position == compressed.count)
            #expect(declared == [32768, 32768, 32768, 1696])
        case .lz4:
            #expect(Array(compressed.prefix(4)) == [0x04, 0x22, 0x4D, 0x18], "LZ4 frame magic")
            // FLG: version 01, independent blocks, no block checksum, no content size, no content checksum;
            // BD: 64 KiB blocks. That is what Kafka's Java producer writes.
            #expect(compressed[4] == 0x60 && compressed[5] == 0x40, "FLG \(compressed[4]) BD \(compressed[5])")
        case .zstd:
            #expect(Array(compressed.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD], "zstd frame magic")
        case .none:
            break
        }
    }

    @Test func snappyBlocksRoundTripAtEverySmallSize() throws {
        var random = SeededRandom()
        for byteCount in Array(0...200) + [4095, 4096, 65535, 65536, 65537, 131_073] {
            for input in [random.bytes(byteCount), Self.mixedBytes(&random, byteCount: byteCount)] {
                let block = SnappyCodec.compressBlock(input)
                #expect(block.count <= SnappyCodec.compressedByteCountMax(byteCount))
                let back = try SnappyCodec.decompressBlock(block, decompressedBytesMax: byteCount)
                let same = back == input
                #expect(same, "size \(byteCount) seed \(random.seed)")
            }
        }
    }

    @Test func snappyCompressesLikeTheReference() {
        // Roughly the ratios of the C++ reference on the same shapes of data (not byte-identical output).
        let zeros = SnappyCodec.compressBlock([UInt8](repeating: 0, count: 1 << 20))
        #expect(zeros.count < 50_000, "1 MiB of zeros: \(zeros.count) bytes")
        let text = SnappyCodec.compressBlock(Self.repetitiveText(byteCount: 1 << 20))
        #expect(text.count < 200_000, "1 MiB of log lines: \(text.count) bytes")
        var random = SeededRandom()
        let noise = SnappyCodec.compressBlock(random.bytes(1 << 20))
        #expect(
            noise.count <= (1 << 20) + (1 << 20) / 60, "random bytes barely expand: \(noise.count), seed \(random.seed)"
        )
    }

    // MARK: Snappy's block format by hand

    @Test(
        arguments: [
            ([0x00], ""),
            ([0x01, 0x00, 0x61], "a"),
            // A 4-byte literal, then a copy with a 1-byte offset (length 8, offset 4) overlapping its own output.
            ([0x0C, 0x0C, 0x61, 0x62, 0x63, 0x64, 0x11, 0x04], "abcdabcdabcd"),
            // A copy with a 2-byte offset: 64 bytes at offset 1 (a run).
            ([0x41, 0x00, 0x78, 0xFE, 0x01, 0x00], String(repeating: "x", count: 65)),
            // The same with a 4-byte offset.
            ([0x41, 0x00, 0x78, 0xFF, 0x01, 0x00, 0x00, 0x00], String(repeating: "x", count: 65)),
        ] as [([UInt8], String)])
    func snappyKnownVectors(_ block: [UInt8], _ expected: String) throws {
        let back = try SnappyCodec.decompressBlock(block, decompressedBytesMax: 1000)
        #expect(back == Array(expected.utf8))
        // A raw block is also a valid Kafka snappy payload (librdkafka accepts both).
        #expect(try CompressionCodec.snappy.decompress(block, decompressedBytesMax: 1000) == Array(expected.utf8))
    }

    @Test func snappyLongLiteralsAndWideOffsets() throws {
        let hundred = [UInt8](0..<100)
        // Literal length in one extra byte (tag 60 << 2): 100 bytes.
        #expect(try SnappyCodec.decompressBlock([0x64, 0xF0, 0x63] + hundred, decompressedBytesMax: 100) == hundred)
        // Two extra bytes (tag 61 << 2): 300 bytes; then a copy with a 1-byte offset using the tag's high
        // offset bits (offset 261, length 11).
        let threeHundred = (0..<300).map { UInt8($0 % 251) }
        let block: [UInt8] = [0xB7, 0x02, 0xF4, 0x2B, 0x01] + threeHundred + [0x01 | (7 << 2) | (1 << 5), 0x05]
        let back = try SnappyCodec.decompressBlock(block, decompressedBytesMax: 311)
        #expect(back == threeHundred + threeHundred[39..<50])
    }

    // MARK: Independent implementations

    static func fixturesDirectory() throws -> URL {
        let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return root.appendingPathComponent("compression")
    }

    /// `<codec>[_<variant>]-<case>.bin` with the original in `<case>.txt`.
    static func fixtures() throws -> [(name: String, codec: CompressionCodec, compressed: [UInt8], original: [UInt8])] {
        let directory = try Self.fixturesDirectory()
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".bin") }
            .sorted()
        return try names.map { name in
            let stem = name.dropLast(".bin".count)
            let dash = try #require(stem.firstIndex(of: "-"), "\(name) is not <codec>-<case>.bin")
            let codecName = stem[..<dash].split(separator: "_").first.map(String.init)
            let codec = try #require(Self.kafkaCodecs.first { $0.description == codecName }, "\(name): unknown codec")
            let caseName = stem[stem.index(after: dash)...]
            let compressed = try Data(contentsOf: directory.appendingPathComponent(name))
            let original = try Data(contentsOf: directory.appendingPathComponent("\(caseName).txt"))
            return (name, codec, [UInt8](compressed), [UInt8](original))
        }
    }

    @Test func decompressesWhatIndependentImplementationsWrote() throws {
        let fixtures = try Self.fixtures()
        #expect(fixtures.count >= 30)
        #expect(Set(fixtures.map(\.codec)) == Set(Self.kafkaCodecs))
        for fixture in fixtures where fixture.codec.isAvailable {
            let back = try fixture.codec.decompress(fixture.compressed, decompressedBytesMax: Self.limit)
            let same = back == fixture.original
            #expect(same, "\(fixture.name): \(back.count) bytes, expected \(fixture.original.count)")
            // The limit holds across members, frames and blocks: exactly the size passes, one byte less does not.
            let atLimit = try fixture.codec.decompress(fixture.compressed, decompressedBytesMax: fixture.original.count)
            #expect(atLimit.count == fixture.original.count, "\(fixture.name) at its own size")
            Self.expectError(.limitExceeded, "\(fixture.name) one byte under its size") { () throws(SluiceError) in
                try fixture.codec.decompress(fixture.compressed, decompressedBytesMax: fixture.original.count - 1)
            }
        }
    }

    @Test func truncatedFixturesThrow() throws {
        for fixture in try Self.fixtures() where fixture.codec.isAvailable {
            // Cut inside the last member, frame or block: never at a boundary, where a shorter valid payload ends.
            for keep in [0, fixture.compressed.count - 1, fixture.compressed.count * 3 / 4] {
                Self.expectError(.compressionFailed, "\(fixture.name) cut to \(keep) bytes") { () throws(SluiceError) in
                    try fixture.codec.decompress(
                        Array(fixture.compressed.prefix(keep)), decompressedBytesMax: Self.limit)
                }
            }
        }
    }

    // MARK: Corrupt input

    @Test func corruptInputThrows() throws {
        let fixtures = try Self.fixtures()
        func fixture(_ name: String) throws -> [UInt8] { try #require(fixtures.first { $0.name == name }).compressed }
        func flipped(_ bytes: [UInt8], at index: Int) -> [UInt8] {
            var copy = bytes
            copy[index < 0 ? copy.count + index : index] ^= 0x10
            return copy
        }
        var cases: [(String, CompressionCodec, [UInt8])] = [
            ("gzip bad magic", .gzip, flipped(try fixture("gzip-mixed.bin"), at: 0)),
            ("gzip CRC mismatch", .gzip, flipped(try fixture("gzip-mixed.bin"), at: -6)),
            (
                "gzip garbage member after the first", .gzip,
                try fixture("gzip-short.bin") + [0x1F, 0x8B, 0x08, 0xFF, 0, 0, 0]
            ),
            ("snappy length mismatch", .snappy, [0x03, 0x00, 0x61]),
            ("snappy copy before the output", .snappy, [0x05, 0x00, 0x61, 0x01, 0x02]),
            ("snappy copy offset 0", .snappy, [0x05, 0x00, 0x61, 0x01, 0x00]),
            ("snappy literal past the input", .snappy, [0x0A, 0x24, 0x61]),
            ("snappy varint too long", .snappy, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),
            ("snappy declares more than it can hold", .snappy, [0xFF, 0xFF, 0x3F, 0x00, 0x61]),
            ("xerial header only half there", .snappy, [0x82] + Array("SNAPPY".utf8) + [0, 0, 0]),
            (
                "xerial block longer than the payload", .snappy,
                Array((try fixture("snappy-short.bin")).prefix(16)) + [0, 0, 1, 0, 0x01]
            ),
            ("lz4 bad magic", .lz4, flipped(try fixture("lz4-mixed.bin"), at: 0)),
            ("lz4 block checksum mismatch", .lz4, flipped(try fixture("lz4_checksums-mixed.bin"), at: 100)),
            ("lz4 content checksum mismatch", .lz4, flipped(try fixture("lz4_checksums-short.bin"), at: -1)),
            ("zstd bad magic", .zstd, flipped(try fixture("zstd-mixed.bin"), at: 0)),
            ("zstd checksum mismatch", .zstd, flipped(try fixture("zstd_stream-mixed.bin"), at: -1)),
        ]
        var random = SeededRandom()
        for codec in Self.kafkaCodecs {
            cases.append(("\(codec) random bytes, seed \(random.seed)", codec, random.bytes(1000)))
            cases.append(("\(codec) empty input", codec, []))
        }
        for (name, codec, input) in cases where codec.isAvailable {
            Self.expectError(.compressionFailed, name) { () throws(SluiceError) in
                try codec.decompress(input, decompressedBytesMax: Self.limit)
            }
        }
    }

    /// Mutated payloads never crash and never return more than the limit; each either throws a SluiceError or
    /// returns bytes (codecs without checksums cannot tell every changed literal).
    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func mutatedPayloadsNeverCrash(_ codec: CompressionCodec) throws {
        guard codec.isAvailable else { return Self.expectUnavailable(codec) }
        var random = SeededRandom()
        let limit = 200_000
        let original = Self.mixedBytes(&random, byteCount: 150_000)
        let compressed = try codec.compress(original)
        var rawBlock = SnappyCodec.compressBlock(original)
        for iteration in 0..<300 {
            var mutated = codec == .snappy && iteration % 2 == 1 ? rawBlock : compressed
            switch Int.random(in: 0..<3, using: &random) {
            case 0:
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(
                        in: 0...255, using: &random)
                }
            case 1:
                mutated = Array(mutated.prefix(Int.random(in: 0..<mutated.count, using: &random)))
            default:
                let index = Int.random(in: 0..<mutated.count, using: &random)
                mutated.insert(contentsOf: random.bytes(Int.random(in: 1...8, using: &random)), at: index)
            }
            do {
                let output = try codec.decompress(mutated, decompressedBytesMax: limit)
                #expect(output.count <= limit, "\(codec) iteration \(iteration) seed \(random.seed)")
            } catch {
                #expect(
                    error.code == .compressionFailed || error.code == .limitExceeded,
                    "\(codec) iteration \(iteration) seed \(random.seed): \(error)"
                )
            }
        }
        rawBlock.removeAll()
    }

    // MARK: Limits

    @Test(arguments: [CompressionCodec.none, .gzip, .snappy, .lz4, .zstd])
    func decompressionBombsHitTheLimit(_ codec: CompressionCodec) throws {
        guard codec.isAvailable else { return Self.expectUnavailable(codec) }
        let bomb = try codec.compress([UInt8](repeating: 0, count: 16 << 20))
        let limit = 1 << 20
        do {
            let output = try codec.decompress(bomb, decompressedBytesMax: limit)
            Issue.record("\(codec): \(bomb.count) compressed bytes decompressed to \(output.count) under a 1 MiB limit")
        } catch {
            #expect(error.code == .limitExceeded)
            #expect(
                error.message.contains("decompressedBytesMax") && error.message.contains("\(limit)"), "\(error.message)"
            )
        }
    }

    @Test func snappyDoesNotBelieveAnAbsurdDeclaredLength() {
        // Declares 4 GiB - 1 in five bytes: above the default limit it is a limit error, and under a limit that
        // allows it, the block is too short to hold it, so nothing is allocated for it.
        let block: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x61]
        Self.expectError(.limitExceeded, "4 GiB declared") { () throws(SluiceError) in
            try CompressionCodec.snappy.decompress(block, decompressedBytesMax: Self.limit)
        }
        Self.expectError(.compressionFailed, "4 GiB declared, no limit") { () throws(SluiceError) in
            try CompressionCodec.snappy.decompress(block, decompressedBytesMax: .max - 1)
        }
    }

    @Test func codecsWithoutTheirLibraryReportIt() {
        for codec in CompressionCodec.allCases {
            if !codec.isAvailable {
                Self.expectUnavailable(codec)
                Self.expectError(.codecUnavailable, "\(codec) decompress") { () throws(SluiceError) in
                    try codec.decompress([0, 1, 2], decompressedBytesMax: Self.limit)
                }
            }
        }
        #expect(
            CompressionCodec.none.isAvailable && CompressionCodec.gzip.isAvailable
                && CompressionCodec.snappy.isAvailable)
    }

    // MARK: Record batches

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func compressedRecordBatchesRoundTrip(_ codec: CompressionCodec) throws {
        guard codec.isAvailable else { return Self.expectUnavailable(codec) }
        var random = SeededRandom()
        let records = (0..<200).map { index in
            ProducerRecord(
                key: Array("key-\(index % 10)".utf8),
                value: Self.mixedBytes(&random, byteCount: Int.random(in: 0...2000, using: &random)),
                headers: [],
                timestamp: 1_700_000_000_000 + Int64(index)
            )
        }
        let batch = try RecordBatchBuilder.batch(records, compression: codec)
        let decoded = try RecordBatch(validating: batch.buffer)
        #expect(decoded.compression == codec)
        let back = try decoded.records()
        #expect(back.count == records.count)
        for (original, read) in zip(records, back) {
            #expect(read.value.map { Array($0.readableBytesView) } == original.value, "seed \(random.seed)")
        }
    }
}
