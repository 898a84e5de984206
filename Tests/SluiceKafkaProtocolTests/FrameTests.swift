import NIOCore
import NIOEmbedded
@testable import SluiceKafkaProtocol
import _SluiceTestSupport
import Testing

@Suite("Framing, headers and the API table")
struct FrameTests {
    static func framed(_ payload: [UInt8]) -> [UInt8] {
        let size = UInt32(payload.count)
        return [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] + payload
    }

    @Test func nextFrameWaitsForWholeFrames() throws {
        var buffer = ByteBuffer(bytes: [0, 0, 0])
        #expect(try KafkaFrameDecoder.nextFrame(in: &buffer, frameBytesMax: 100) == nil)
        buffer = ByteBuffer(bytes: Self.framed([1, 2, 3]) + Self.framed([]) + Self.framed([9]).dropLast())
        #expect(try KafkaFrameDecoder.nextFrame(in: &buffer, frameBytesMax: 100) == ByteBuffer(bytes: [1, 2, 3]))
        #expect(try KafkaFrameDecoder.nextFrame(in: &buffer, frameBytesMax: 100) == ByteBuffer())
        #expect(try KafkaFrameDecoder.nextFrame(in: &buffer, frameBytesMax: 100) == nil)
        #expect(buffer.readableBytes == 4)
    }

    @Test func oversizeAndNegativeFramesAreRejected() throws {
        // Rejected from the size prefix alone, before the frame's bytes arrive.
        var oversize = ByteBuffer(bytes: [0, 0, 0, 101])
        do {
            _ = try KafkaFrameDecoder.nextFrame(in: &oversize, frameBytesMax: 100)
            Issue.record("accepted a 101-byte frame with frameBytesMax 100")
        } catch {
            #expect(error.code == .frameTooLarge)
            #expect(error.message.contains("frameBytesMax"))
        }
        var negative = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFE])
        #expect(throws: KafkaProtocolError.self) {
            _ = try KafkaFrameDecoder.nextFrame(in: &negative, frameBytesMax: 100)
        }
        var exactlyMax = ByteBuffer(bytes: Self.framed([UInt8](repeating: 7, count: 100)))
        #expect(try KafkaFrameDecoder.nextFrame(in: &exactlyMax, frameBytesMax: 100)?.readableBytes == 100)
        #expect(KafkaFrameDecoder().frameBytesMax == 100 * 1024 * 1024)
    }

    @Test func decoderInAPipeline() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(frameBytesMax: 64)))
        let stream = Self.framed(Array(0..<10)) + Self.framed(Array(20..<50))
        // Delivered in awkward pieces: a split size prefix, then the rest.
        for piece in [stream[0..<2], stream[2..<7], stream[7..<20], stream[20...]] {
            try channel.writeInbound(ByteBuffer(bytes: Array(piece)))
        }
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: Array(0..<10)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(bytes: Array(20..<50)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(throws: KafkaProtocolError.self) {
            try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 65]))
        }
        _ = try? channel.finish()
    }

    @Test func requestFrameHeaderVersions() throws {
        // Produce v8 uses header v1, v9 header v2 (tagged fields after the non-compact client id).
        var v8 = ByteBuffer()
        try KafkaRequestFrame.write(ProduceRequest(acks: 1), version: 8, correlationId: 5, clientId: "c", into: &v8)
        var v9 = ByteBuffer()
        try KafkaRequestFrame.write(ProduceRequest(acks: 1), version: 9, correlationId: 5, clientId: "c", into: &v9)
        let header = [0, 0, 0, 8, 0, 0, 0, 5, 0, 1, 0x63] as [UInt8]
        #expect(v8.getInteger(at: v8.readerIndex, as: Int32.self) == Int32(v8.readableBytes - 4))
        #expect(Array(v8.readableBytesView.dropFirst(4).prefix(11)) == header)
        #expect(Array(v9.readableBytesView.dropFirst(4).prefix(12)) == [0, 0, 0, 9, 0, 0, 0, 5, 0, 1, 0x63, 0])
        for (stream, version) in [(v8, Int16(8)), (v9, Int16(9))] {
            var stream = stream
            let frame = try #require(try KafkaFrameDecoder.nextFrame(in: &stream, frameBytesMax: 1 << 20))
            let request = try KafkaRequestFrame(parsing: frame)
            #expect(request.knownApiKey == .produce)
            #expect(request.apiVersion == version)
            #expect(request.headerVersion == (version >= 9 ? 2 : 1))
            #expect(request.clientId == "c")
            #expect(try request.decodeBody(as: ProduceRequest.self).acks == 1)
            #expect(throws: KafkaProtocolError.self) { _ = try request.decodeBody(as: FetchRequest.self) }
        }
    }

    @Test func requestHeaderV2SkipsUnknownTaggedFields() throws {
        // ApiVersions v3, correlation id 9, null client id, a tagged field the header does not define, then the
        // body: two compact strings and an empty tagged section.
        let frame: [UInt8] = [0, 18, 0, 3, 0, 0, 0, 9, 0xFF, 0xFF, 1, 5, 2, 0xAA, 0xBB] + [2, 0x61, 2, 0x62, 0]
        let request = try KafkaRequestFrame(parsing: ByteBuffer(bytes: frame))
        #expect(request.clientId == nil)
        #expect(request.correlationId == 9)
        #expect(request.headerVersion == 2)
        let body = try request.decodeBody(as: ApiVersionsRequest.self)
        #expect(body.clientSoftwareName == "a" && body.clientSoftwareVersion == "b")
    }

    @Test func unknownApiKeysParseWithHeaderV1() throws {
        // DescribeAcls (29) has no codec here; its header still yields the correlation id and client.
        let frame: [UInt8] = [0, 29, 0, 3, 0, 0, 0, 4, 0, 2, 0x69, 0x64, 0x00, 0x01]
        let request = try KafkaRequestFrame(parsing: ByteBuffer(bytes: frame))
        #expect(request.knownApiKey == nil)
        #expect(request.apiKey == 29 && request.correlationId == 4 && request.clientId == "id")
        #expect(Array(request.body.readableBytesView) == [0x00, 0x01])
        #expect(throws: KafkaProtocolError.self) { _ = try KafkaRequestFrame(parsing: ByteBuffer(bytes: [0, 18, 0])) }
    }

    @Test func responseFramesUseTheRightHeader() throws {
        // ApiVersions v3 is flexible but answers with header v0 (no tagged byte after the correlation id).
        var apiVersions = ByteBuffer()
        try KafkaResponseFrame.write(ApiVersionsResponse(), version: 3, correlationId: 7, into: &apiVersions)
        #expect(Array(apiVersions.readableBytesView.prefix(8)) == [0, 0, 0, 12, 0, 0, 0, 7])
        #expect(Array(apiVersions.readableBytesView.dropFirst(8)) == [0, 0, 1, 0, 0, 0, 0, 0])
        // Metadata v12 answers with header v1.
        var metadata = ByteBuffer()
        try KafkaResponseFrame.write(MetadataResponse(), version: 12, correlationId: 7, into: &metadata)
        #expect(
            Array(metadata.readableBytesView.prefix(9)) == [0, 0, 0, UInt8(metadata.readableBytes - 4), 0, 0, 0, 7, 0])
        // A failed write leaves the buffer as it was.
        var buffer = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: KafkaProtocolError.self) {
            try KafkaResponseFrame.write(ProduceResponse(), version: 99, correlationId: 1, into: &buffer)
        }
        #expect(Array(buffer.readableBytesView) == [1, 2, 3])
    }

    @Test func apiKeyTableMatchesTheMessages() {
        var names: Set<String> = []
        for api in ApiKey.allCases {
            #expect(names.insert(api.name).inserted)
            #expect(api.requestType.apiKey == api.rawValue)
            #expect(api.responseType.apiKey == api.rawValue)
            #expect(api.requestType.validVersions == api.validVersions)
            #expect(api.responseType.validVersions == api.validVersions)
            #expect(api.requestType.kafkaSchema.name == api.name + "Request")
            for version in api.validVersions {
                let requestFlexible = api.requestType.isFlexible(version: version)
                #expect(api.requestHeaderVersion(for: version) == (requestFlexible ? 2 : 1))
                let responseFlexible = api.responseType.isFlexible(version: version)
                let expected: Int16 = api == .apiVersions ? 0 : (responseFlexible ? 1 : 0)
                #expect(api.responseHeaderVersion(for: version) == expected)
            }
        }
        #expect(ApiKey.allCases.count == 35)
        #expect(ApiKey.produce.rawValue == 0 && ApiKey.fetch.rawValue == 1 && ApiKey.apiVersions.rawValue == 18)
        #expect(ApiKey.endTxn.latestVersionUnstable && !ApiKey.produce.latestVersionUnstable)
        // A newer client's ApiVersions request (above our versions) still parses with header v2.
        #expect(ApiKey.apiVersions.requestHeaderVersion(for: 9) == 2)
        #expect(ApiKey.saslHandshake.requestHeaderVersion(for: 1) == 1)
        #expect(ApiKey.metadata.responseHeaderVersion(for: 8) == 0)
        #expect(ApiKey.metadata.responseHeaderVersion(for: 9) == 1)
    }
}

@Suite("Error codes and uuids")
struct SmallTypeTests {
    @Test func errorCodes() {
        #expect(KafkaErrorCode.noError.rawValue == 0 && KafkaErrorCode.noError.name == "NONE")
        #expect(KafkaErrorCode.unknownServerError.rawValue == -1)
        #expect(KafkaErrorCode.notCoordinator.rawValue == 16 && KafkaErrorCode.notCoordinator.isRetriable)
        #expect(KafkaErrorCode.coordinatorLoadInProgress.rawValue == 14)
        #expect(KafkaErrorCode.rebalanceInProgress.rawValue == 27 && !KafkaErrorCode.rebalanceInProgress.isRetriable)
        #expect(KafkaErrorCode.unsupportedVersion.rawValue == 35)
        #expect(KafkaErrorCode.outOfOrderSequenceNumber.rawValue == 45)
        #expect(
            KafkaErrorCode.concurrentTransactions.rawValue == 51 && KafkaErrorCode.concurrentTransactions.isRetriable)
        #expect(KafkaErrorCode.memberIdRequired.rawValue == 79)
        #expect(KafkaErrorCode.producerFenced.rawValue == 90)
        #expect(KafkaErrorCode.unknownTopicId.rawValue == 100)
        #expect(KafkaErrorCode.invalidRegistration.rawValue == 119)
        #expect(KafkaErrorCode.transactionAbortable.rawValue == 120)
        #expect(KafkaErrorCode.voterNotFound.rawValue == 127)
        #expect(
            KafkaErrorCode(rawValue: 128).name == "UNKNOWN_ERROR_CODE(128)" && !KafkaErrorCode(rawValue: 128).isKnown)
        #expect(KafkaErrorCode(rawValue: -2).isKnown == false)
        #expect(KafkaErrorCode.messageTooLarge.description == "MESSAGE_TOO_LARGE (10)")
        let names = (-1...127).map { KafkaErrorCode(rawValue: Int16($0)).name }
        #expect(Set(names).count == names.count)
    }

    @Test func uuids() throws {
        let id = KafkaUUID(mostSignificantBits: 0x0123_4567_89AB_CDEF, leastSignificantBits: 0xFEDC_BA98_7654_3210)
        #expect(
            id.bytes == [
                0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10,
            ])
        #expect(KafkaUUID(bytes: id.bytes) == id)
        #expect(KafkaUUID(bytes: [1, 2]) == nil)
        #expect(id.description.count == 22)
        #expect(KafkaUUID(kafkaString: id.description) == id)
        #expect(KafkaUUID.zero.description == "AAAAAAAAAAAAAAAAAAAAAA")
        #expect(KafkaUUID.metadataTopicId.description == "AAAAAAAAAAAAAAAAAAAAAQ")
        #expect(KafkaUUID(kafkaString: "not a uuid") == nil)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100 {
            let random = KafkaUUID.random(using: &generator)
            #expect(random != .zero && !random.description.hasPrefix("-"))
            #expect(random.mostSignificantBits >> 12 & 0xF == 4)
        }
    }
}

/// The assembler cuts the same frames whatever the reads' boundaries, copying only frames that span reads.
@Suite struct FrameAssemblerTests {
    /// Frames of random bytes, half of them small and half up to `largeBytes`, and the stream of them
    /// with their size prefixes.
    static func randomStream(frameCount: ClosedRange<Int>, largeBytes: Int, using random: inout SeededRandom) -> (frames: [[UInt8]], stream: [UInt8]) {
        let frames: [[UInt8]] = (0..<Int.random(in: frameCount, using: &random)).map { _ in
            random.bytes(Int.random(in: 0...(Bool.random(using: &random) ? 30 : largeBytes), using: &random))
        }
        var stream: [UInt8] = []
        for frame in frames {
            withUnsafeBytes(of: Int32(frame.count).bigEndian) { stream.append(contentsOf: $0) }
            stream.append(contentsOf: frame)
        }
        return (frames, stream)
    }

    @Test func framesSurviveAnySplitOfTheStream() throws {
        var random = SeededRandom()
        for _ in 0..<200 {
            let (frames, stream) = Self.randomStream(frameCount: 1...20, largeBytes: 5_000, using: &random)
            var assembler = KafkaFrameAssembler(frameBytesMax: 10_000)
            var seen: [[UInt8]] = []
            var position = 0
            while position < stream.count {
                let length = min(stream.count - position, Int.random(in: 1...700, using: &random))
                var read = ByteBuffer(bytes: stream[position..<(position + length)])
                seen.append(contentsOf: try assembler.frames(in: &read).map { Array($0.readableBytesView) })
                #expect(read.readableBytes == 0)
                position += length
            }
            #expect(seen == frames, "seed \(random.seed)")
        }
    }

    /// As the broker's channel reads: whenever the assembler lends the buffer of a large frame, the next
    /// read is written into it (up to its capacity, as a socket read), otherwise into a fresh buffer.
    @Test func framesSurviveAnySplitWithReadsIntoLentBuffers() throws {
        var random = SeededRandom()
        var lentReads = 0
        var boundaryReads = 0
        for _ in 0..<40 {
            let (frames, stream) = Self.randomStream(frameCount: 1...12, largeBytes: 200_000, using: &random)
            var assembler = KafkaFrameAssembler(frameBytesMax: 1_000_000)
            var seen: [[UInt8]] = []
            var position = 0
            while position < stream.count {
                let wanted = Int.random(in: 1...100_000, using: &random)
                var read: ByteBuffer
                if var target = assembler.lendReadTarget() {
                    #expect(target.readableBytes == 0)
                    let length = min(stream.count - position, wanted, target.writableBytes)
                    target.writeBytes(stream[position..<(position + length)])
                    position += length
                    read = target
                    lentReads += 1
                } else {
                    // After a large frame the channel reads short, as KafkaFrameReadAllocator does.
                    if assembler.prefersBoundaryRead { boundaryReads += 1 }
                    let length = min(stream.count - position, assembler.prefersBoundaryRead ? KafkaFrameAssembler.boundaryReadBytes : wanted)
                    read = ByteBuffer(bytes: stream[position..<(position + length)])
                    position += length
                }
                seen.append(contentsOf: try assembler.frames(in: &read).map { Array($0.readableBytesView) })
                #expect(read.readableBytes == 0)
            }
            #expect(seen == frames, "seed \(random.seed)")
        }
        #expect(lentReads > 40, "the large frames were read into lent buffers")
        #expect(boundaryReads > 0, "frames after large ones began with short reads")
    }

    @Test func aFrameLargerThanTheReserveIsReadIntoGrowingLentBuffers() throws {
        let frameBytes = 2 * KafkaFrameAssembler.gatheringReserveBytesMax + 12_345
        var stream: [UInt8] = []
        withUnsafeBytes(of: Int32(frameBytes).bigEndian) { stream.append(contentsOf: $0) }
        stream += (0..<frameBytes).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        stream += [0, 0, 0, 2, 7, 8]  // a small frame after it
        var assembler = KafkaFrameAssembler(frameBytesMax: 64 * 1024 * 1024)
        var read = ByteBuffer(bytes: stream[0..<1_000])
        #expect(try assembler.frames(in: &read).isEmpty)
        var position = 1_000
        var frames: [ByteBuffer] = []
        while var target = assembler.lendReadTarget() {
            let length = min(target.writableBytes, 3_000_000)
            #expect(position + length <= 4 + frameBytes, "a lent buffer ends where its frame does")
            target.writeBytes(stream[position..<(position + length)])
            position += length
            frames += try assembler.frames(in: &target)
        }
        var rest = ByteBuffer(bytes: stream[position...])
        frames += try assembler.frames(in: &rest)
        #expect(frames.map(\.readableBytes) == [frameBytes, 2])
        #expect(Array(frames[0].readableBytesView) == Array(stream[4..<(4 + frameBytes)]))
    }

    @Test func aFrameSpreadOverReadsIsGatheredInPlace() throws {
        var assembler = KafkaFrameAssembler(frameBytesMax: 1_000_000)
        var first = ByteBuffer(bytes: [0, 0, 0x27, 0x10] + Array(repeating: 1, count: 100))  // 10 000 bytes
        #expect(try assembler.frames(in: &first).isEmpty)
        let storage = try #require(assembler.gatheringStorage)
        for _ in 0..<98 {
            var read = ByteBuffer(bytes: Array(repeating: 2, count: 100))
            #expect(try assembler.frames(in: &read).isEmpty)
            #expect(assembler.gatheringStorage == storage, "each read is appended to the same buffer, not to a copy")
        }
        var last = ByteBuffer(bytes: Array(repeating: 3, count: 100))
        let frames = try assembler.frames(in: &last)
        #expect(frames.count == 1 && frames[0].readableBytes == 10_000)
        #expect(frames[0].withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) } == storage)
    }

    @Test func aReadThatMissesTheLentBufferClosesTheConnection() throws {
        var assembler = KafkaFrameAssembler(frameBytesMax: 1_000_000)
        var first = ByteBuffer(bytes: [0, 2, 0, 0] + [7, 7, 7])  // a frame of 131 072 bytes, 3 of them here
        #expect(try assembler.frames(in: &first).isEmpty)
        #expect(assembler.canLend)
        let lent = assembler.lendReadTarget()
        let target = try #require(lent)
        #expect(target.writableBytes >= 131_072 - 3)
        #expect(!assembler.canLend && assembler.lendReadTarget() == nil, "one lent buffer at a time")
        var other = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: KafkaProtocolError.self) { _ = try assembler.frames(in: &other) }
    }

    @Test func negativeAndOversizeFramesAreRefused() throws {
        var assembler = KafkaFrameAssembler(frameBytesMax: 100)
        var oversize = ByteBuffer(bytes: [0, 0, 0, 101] + Array(repeating: 0, count: 101))
        #expect(throws: KafkaProtocolError.self) { _ = try assembler.frames(in: &oversize) }
        var other = KafkaFrameAssembler(frameBytesMax: 100)
        // The size prefix itself cut in two reads.
        var first = ByteBuffer(bytes: [0xFF, 0xFF])
        #expect(try other.frames(in: &first).isEmpty)
        var second = ByteBuffer(bytes: [0xFF, 0xFE, 1, 2])
        #expect(throws: KafkaProtocolError.self) { _ = try other.frames(in: &second) }
    }
}
