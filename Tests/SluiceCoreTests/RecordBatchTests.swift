import NIOCore
import SluiceCore
import Testing
import _SluiceTestSupport

@Suite struct CRC32CTests {
    @Test func knownVectors() {
        // RFC 3720 test vectors for CRC32C.
        #expect(CRC32C.checksum(Array(repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum(Array(repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0..<32)) == 0x46DD_794E)
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func hardwareMatchesPortable() {
        var random = SeededRandom()
        for length in [0, 1, 7, 8, 9, 255, 767, 768, 769, 4096, 24575, 24576, 24577, 100_003, 300_000] {
            let bytes = random.bytes(length)
            for offset in [0, 1, 3] where offset <= length {
                let slice = Array(bytes[offset...])
                let expected = slice.withUnsafeBytes { CRC32C.portableChecksum($0) }
                #expect(CRC32C.checksum(slice) == expected, "length \(length) offset \(offset) seed \(random.seed)")
            }
        }
    }

    @Test func chaining() {
        let a = Array("hello ".utf8), b = Array("world".utf8)
        #expect(CRC32C.checksum(b, continuing: CRC32C.checksum(a)) == CRC32C.checksum(a + b))
    }
}

@Suite struct RecordBatchTests {
    func randomRecords(_ random: inout SeededRandom, count: Int) -> [ProducerRecord] {
        (0..<count).map { index in
            let key: [UInt8]? = Bool.random(using: &random) ? random.bytes(Int.random(in: 0...40, using: &random)) : nil
            let value: [UInt8]? = Int.random(in: 0..<10, using: &random) == 0 ? nil : random.bytes(Int.random(in: 0...300, using: &random))
            let headers: [(key: String, value: [UInt8]?)] = (0..<Int.random(in: 0...3, using: &random)).map { h in
                ("h\(h)-\(index)", Bool.random(using: &random) ? random.bytes(Int.random(in: 0...20, using: &random)) : nil)
            }
            return ProducerRecord(key: key, value: value, headers: headers, timestamp: 1_700_000_000_000 + Int64.random(in: -5000...5000, using: &random))
        }
    }

    @Test func randomBatchesRoundTrip() throws {
        var random = SeededRandom()
        for _ in 0..<200 {
            let records = randomRecords(&random, count: Int.random(in: 1...50, using: &random))
            let transactional = Bool.random(using: &random)
            let baseOffset = Int64.random(in: 0...1_000_000_000, using: &random)
            var batch = try RecordBatchBuilder.batch(records) { builder in
                builder.isTransactional = transactional
                builder.producerId = transactional ? 4242 : -1
                builder.producerEpoch = transactional ? 3 : -1
                builder.baseSequence = transactional ? 17 : -1
            }
            batch.setBaseOffset(baseOffset)
            let decoded = try RecordBatch(validating: batch.buffer)
            #expect(decoded.baseOffset == baseOffset)
            #expect(decoded.isTransactional == transactional)
            #expect(decoded.recordCount == Int32(records.count))
            #expect(decoded.lastOffsetDelta == Int32(records.count - 1))
            #expect(decoded.maxTimestamp == records.map(\.timestamp).max())
            let back = try decoded.records()
            #expect(back.count == records.count, "seed \(random.seed)")
            for (index, (original, read)) in zip(records, back).enumerated() {
                #expect(read.offset == baseOffset + Int64(index))
                #expect(read.timestamp == original.timestamp)
                #expect(read.key.map { Array($0.readableBytesView) } == original.key)
                #expect(read.value.map { Array($0.readableBytesView) } == original.value)
                #expect(read.headers.count == original.headers.count)
                for (h1, h2) in zip(read.headers, original.headers) {
                    #expect(h1.key == h2.key)
                    #expect(h1.value.map { Array($0.readableBytesView) } == h2.value)
                }
            }
        }
    }

    /// Records seen in place (the engine's sources) read exactly as the decoded records, compressed or not;
    /// a record whose length runs past its batch is an error, not a crash.
    @Test(arguments: [CompressionCodec.none, .gzip, .snappy])
    func recordViewsReadAsRecords(codec: CompressionCodec) throws {
        var random = SeededRandom()
        for _ in 0..<100 {
            let records = randomRecords(&random, count: Int.random(in: 1...40, using: &random))
            var batch = try RecordBatchBuilder.batch(records, compression: codec)
            batch.setBaseOffset(Int64.random(in: 0...1_000_000, using: &random))
            let expected = try batch.records()
            var seen: [Record] = []
            try batch.forEachRecordView { view in
                seen.append(view.copied())
                for header in view.copied().headers {
                    #expect(view.headerValue(header.key).map { Array($0) } == expected[seen.count - 1].headers.first { $0.key == header.key }?.value.map { Array($0.readableBytesView) })
                }
                #expect(view.headerValue("absent") == nil)
            }
            #expect(seen == expected, "seed \(random.seed)")
            // The payload passed beside each view holds its value at `valueByteOffset`.
            var index = 0
            try batch.forEachRecordView(inPayload: { view, payload in
                let original = expected[index].value.map { Array($0.readableBytesView) }
                if let original {
                    #expect(payload.getBytes(at: payload.readerIndex + view.valueByteOffset, length: original.count) == original,
                            "seed \(random.seed)")
                }
                #expect(view.value.map { Array($0) } == original)
                index += 1
            })
            #expect(index == expected.count)
        }
        // A record that claims more bytes than its batch holds.
        var builder = RecordBatchBuilder()
        builder.append(ProducerRecord(key: nil, value: Array(repeating: 7, count: 10), timestamp: 0))
        var bytes = Array(try builder.build().buffer.readableBytesView)
        bytes[RecordBatch.headerByteCount] = 0x7e  // the record's length varint: 63 bytes
        var corrupt = ByteBuffer(bytes: bytes)
        corrupt.setInteger(RecordBatch(unchecked: corrupt).computeCRC(), at: RecordBatch.Field.crc)
        #expect(throws: SluiceError.self) { try RecordBatch(unchecked: corrupt).forEachRecordView { _ in } }
    }

    @Test func bitFlipsAreDetected() throws {
        var random = SeededRandom()
        let batch = try RecordBatchBuilder.batch(randomRecords(&random, count: 10))
        let bytes = Array(batch.buffer.readableBytesView)
        for _ in 0..<200 {
            var corrupted = bytes
            let index = Int.random(in: RecordBatch.Field.magic..<bytes.count, using: &random)
            corrupted[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            #expect(throws: SluiceError.self) { try RecordBatch(validating: ByteBuffer(bytes: corrupted)) }
        }
    }

    @Test func controlBatch() throws {
        let batch = RecordBatchBuilder.controlBatch(.commit, producerId: 7, producerEpoch: 2, coordinatorEpoch: 5, timestamp: 1000)
        let decoded = try RecordBatch(validating: batch.buffer)
        #expect(decoded.isControl && decoded.isTransactional)
        let control = try #require(try decoded.controlRecord())
        #expect(control.type == .commit)
        #expect(control.coordinatorEpoch == 5)
    }
}

@Suite struct Murmur2Tests {
    /// Values from Kafka's own partitioner tests (UtilsTest.testMurmur2).
    @Test func matchesKafka() {
        #expect(Murmur2.hash(Array("21".utf8)) == -973932308)
        #expect(Murmur2.hash(Array("foobar".utf8)) == -790332482)
        #expect(Murmur2.hash(Array("a-little-bit-long-string".utf8)) == -985981536)
        #expect(Murmur2.hash(Array("a-little-bit-longer-string".utf8)) == -1486304829)
        #expect(Murmur2.hash(Array("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8".utf8)) == -58897971)
        #expect(Murmur2.hash([UInt8]([97, 98, 99])) == 479470107)
    }
}
