import NIOCore
import SluiceKafkaProtocol
import Testing
import _SluiceTestSupport

/// Bad bytes throw `KafkaProtocolError` and never trap or allocate what a length claims before the bytes exist.
@Suite("Malformed input")
struct MalformedInputTests {
    static let bodyFixtures = ProtocolFixtures.cases.filter { $0.kind == "body" }

    /// Every strict prefix of a valid message is an error, whatever the truncation point.
    @Test(arguments: Self.bodyFixtures)
    func everyTruncationThrows(_ fixture: ProtocolFixtureManifest.Case) throws {
        let type = try #require(ProtocolFixtures.typesByName[fixture.message])
        try self.everyTruncationThrows(type, bytes: try ProtocolFixtures.bytes(fixture), version: fixture.version)
    }

    func everyTruncationThrows<Message: KafkaCodable>(_ type: Message.Type, bytes: ByteBuffer, version: Int16) throws {
        for length in 0..<bytes.readableBytes {
            var prefix = bytes.getSlice(at: bytes.readerIndex, length: length)!
            do {
                _ = try Message(from: &prefix, version: version)
                Issue.record(
                    "\(Message.kafkaSchema.name) v\(version) decoded from \(length) of \(bytes.readableBytes) bytes")
                return
            } catch {
                // Truncations mostly surface as `truncated`; a cut length prefix may read as another error.
                #expect(
                    [.truncated, .invalidLength, .invalidVarint, .invalidUTF8, .unexpectedNull].contains(error.code))
            }
        }
    }

    /// Random bytes and randomly corrupted messages decode or throw, and what decodes also encodes.
    @Test(arguments: MessageVersion.all)
    func garbageNeverTraps(_ subject: MessageVersion) throws {
        try self.garbageNeverTraps(subject.type, version: subject.version, seed: subject.seed)
    }

    func garbageNeverTraps<Message: KafkaCodable>(_ type: Message.Type, version: Int16, seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        var generator = SchemaValueGenerator(random: SeededRandom(seed: seed &+ 1))
        let flexible = Message.isFlexible(version: version)
        for _ in 0..<40 {
            // Pure noise, biased towards lengths that look like lengths.
            var noise = ByteBuffer(bytes: random.bytes(Int.random(in: 0...64, using: &random)))
            if let value = try? Message(from: &noise, version: version) {
                _ = try value.encoded(version: version)
            }
            // A valid message with a few bytes overwritten.
            let tree = generator.structure(Message.kafkaSchema, version: version, flexible: flexible)
            var bytes = Array(
                SchemaCodec.encode(tree, schema: Message.kafkaSchema, version: version, flexible: flexible)
                    .readableBytesView
            )
            guard !bytes.isEmpty else { continue }
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] = [0xFF, 0x00, 0x7F, 0x80, UInt8.random(in: 0...255, using: &random)]
                    .randomElement(using: &random)!
            }
            var corrupted = ByteBuffer(bytes: bytes)
            if let value = try? Message(from: &corrupted, version: version) {
                _ = try value.encoded(version: version)
            }
        }
    }

    static func expectError<Message: KafkaCodable>(
        _ code: KafkaProtocolError.Code,
        decoding bytes: [UInt8],
        as type: Message.Type,
        version: Int16,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        do {
            _ = try Message(decoding: ByteBuffer(bytes: bytes), version: version)
            Issue.record("decoded \(bytes)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func hugeLengthsAreRejectedBeforeAllocating() {
        // MetadataRequest v4: an array of Int32.max topics in 4 bytes.
        Self.expectError(
            .invalidLength, decoding: [0x7F, 0xFF, 0xFF, 0xFF, 0x01], as: MetadataRequest.self, version: 4)
        // The same in a compact array (uvarint 0xFFFFFFFF).
        Self.expectError(
            .invalidLength,
            decoding: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0, 0, 0, 0],
            as: MetadataRequest.self,
            version: 12
        )
        // A negative array count other than -1.
        Self.expectError(.invalidLength, decoding: [0xFF, 0xFF, 0xFF, 0xFB], as: MetadataRequest.self, version: 4)
        // Null topics where the version has no null.
        Self.expectError(.unexpectedNull, decoding: [0xFF, 0xFF, 0xFF, 0xFF], as: MetadataRequest.self, version: 0)
        // SaslAuthenticate v0: a bytes field claiming 2 GiB with 3 bytes present.
        Self.expectError(
            .truncated,
            decoding: [0x7F, 0xFF, 0xFF, 0xFF, 1, 2, 3],
            as: SaslAuthenticateRequest.self,
            version: 0
        )
        // A string length over Kafka's 32767-byte limit in a compact string.
        Self.expectError(.invalidLength, decoding: [0x81, 0x80, 0x02, 0x41], as: ApiVersionsRequest.self, version: 3)
        // A non-compact string longer than what remains.
        Self.expectError(.truncated, decoding: [0x7F, 0xFF, 0x41, 0x42], as: SaslHandshakeRequest.self, version: 1)
        // A negative string length other than -1.
        Self.expectError(.invalidLength, decoding: [0xFF, 0xFE], as: SaslHandshakeRequest.self, version: 1)
        // A varint longer than 5 bytes.
        Self.expectError(
            .invalidVarint,
            decoding: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            as: ApiVersionsRequest.self,
            version: 3
        )
        // Produce v3: records claiming 2 GiB.
        Self.expectError(
            .truncated,
            decoding: [
                0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0x75, 0x30, 0, 0, 0, 1, 0, 1, 0x61, 0, 0, 0, 1, 0, 0, 0, 0,
                0x7F, 0xFF, 0xFF, 0xF0, 0,
            ],
            as: ProduceRequest.self,
            version: 3
        )
        // A tagged-field section claiming more fields than bytes.
        Self.expectError(.invalidLength, decoding: [0x01, 0x01, 0x7F], as: ApiVersionsRequest.self, version: 3)
        // A tagged field whose size runs past the end.
        Self.expectError(
            .truncated, decoding: [0x01, 0x01, 0x01, 0x09, 0x0A, 0x00], as: ApiVersionsRequest.self, version: 3)
        // Invalid UTF-8 in a string.
        Self.expectError(.invalidUTF8, decoding: [0x00, 0x02, 0xC3, 0x28], as: SaslHandshakeRequest.self, version: 1)
        // Bytes after a complete message.
        Self.expectError(.trailingBytes, decoding: [0x00, 0x01, 0x41, 0x00], as: SaslHandshakeRequest.self, version: 1)
    }

    @Test func unknownTaggedFieldsAreSkipped() throws {
        // ApiVersionsResponse v3 with one ApiVersion element; its tagged section (the byte after max version) and
        // the message's (the last byte) each get unknown tags, one of them over 127 bytes long.
        let response = ApiVersionsResponse(errorCode: 0, apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 4)])
        var bytes = Array(try response.encoded(version: 3).readableBytesView)
        #expect(bytes == [0, 0, 2, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0])
        let longValue = [UInt8](repeating: 0xAB, count: 200)
        bytes =
            Array(bytes[0..<9]) + [2, 9, 2, 0xDE, 0xAD, 77, 0] + Array(bytes[10..<14])
            + [2, 4, 0xC8, 0x01] + longValue + [0xC0, 0x3E, 1, 0xEE]
        let decoded = try ApiVersionsResponse(decoding: ByteBuffer(bytes: bytes), version: 3)
        #expect(decoded == response)

        // A tag this structure defines only in later versions is skipped too: FetchPartition's tag 0
        // (ReplicaDirectoryId) exists from v17, so at v16 it is someone else's field.
        let request = FetchRequest(topics: [
            .init(topicId: HandBuiltMessageTests.topicId, partitions: [.init(partition: 3)])
        ])
        let directory = KafkaUUID(mostSignificantBits: 1, leastSignificantBits: 2)
        var withDirectory = request
        withDirectory.topics[0].partitions[0].replicaDirectoryId = directory
        let v17 = Array(try withDirectory.encoded(version: 17).readableBytesView)
        #expect(try FetchRequest(decoding: ByteBuffer(bytes: v17), version: 17) == withDirectory)
        #expect(try FetchRequest(decoding: ByteBuffer(bytes: v17), version: 16) == request)
    }

    @Test func knownTaggedFieldOfTheWrongSizeThrows() throws {
        // FetchRequest v12's tag 0 (ClusterId) announced as 5 bytes but holding a 3-byte compact string.
        var bytes = Array(try FetchRequest().encoded(version: 12).readableBytesView)
        #expect(bytes.last == 0)
        bytes.removeLast()
        bytes += [1, 0, 5, 3, 0x61, 0x62, 0, 0]
        Self.expectError(.invalidLength, decoding: bytes, as: FetchRequest.self, version: 12)
    }
}
