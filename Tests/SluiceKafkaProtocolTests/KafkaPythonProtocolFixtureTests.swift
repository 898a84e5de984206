import Foundation
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import Testing

/// A JSON value of the fixture manifest.
enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

/// The manifest written by scripts/fixtures/make_protocol_fixtures.py.
struct ProtocolFixtureManifest: Decodable, Sendable {
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        /// "body", "request_frame", "response_frame" or "version_prefixed".
        var kind: String
        var message: String
        var version: Int16
        var file: String
        var byteCount: Int
        var value: JSONValue
        var correlationId: Int32?
        /// The client id of request frames; nil for a null one.
        var clientId: JSONValue?
        var headerVersion: Int16?
        var notes: [String]?

        var testDescription: String { self.name }

        enum CodingKeys: String, CodingKey {
            case name, kind, message, version, file, value, notes
            case byteCount = "byte_count"
            case correlationId = "correlation_id"
            case clientId = "client_id"
            case headerVersion = "header_version"
        }
    }

    var kafkaPythonVersion: String
    var cases: [Case]

    enum CodingKeys: String, CodingKey {
        case kafkaPythonVersion = "kafka_python_version"
        case cases
    }
}

enum ProtocolFixtures {
    static let directory: URL? = Bundle.module.url(forResource: "Fixtures", withExtension: nil)?
        .appendingPathComponent("kafka-python-protocol")

    static let manifest: Result<ProtocolFixtureManifest, any Error> = Result {
        let directory = try #require(Self.directory, "Fixtures missing from the test bundle")
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(ProtocolFixtureManifest.self, from: data)
    }

    /// The cases, or none when the manifest does not load (`manifestLoads` then fails).
    static let cases: [ProtocolFixtureManifest.Case] = (try? Self.manifest.get().cases) ?? []

    static func bytes(_ fixture: ProtocolFixtureManifest.Case) throws -> ByteBuffer {
        let directory = try #require(Self.directory)
        let data = try Data(contentsOf: directory.appendingPathComponent(fixture.file))
        #expect(data.count == fixture.byteCount)
        return ByteBuffer(bytes: data)
    }

    static let typesByName: [String: any KafkaCodable.Type] = Dictionary(
        uniqueKeysWithValues: MessageVersion.allTypes.map { ($0.kafkaSchema.name, $0) }
    )

    /// The manifest's value as a tree, interpreted with the Swift schema (hex for bytes and uuids).
    static func tree(_ json: JSONValue, schema: KafkaSchema) throws -> SchemaValue {
        guard case .object(let object) = json else { throw FixtureError("expected an object for \(schema.name)") }
        var fields: [String: SchemaValue] = [:]
        for (name, value) in object {
            guard let field = schema.fields.first(where: { $0.name == name }) else {
                throw FixtureError("\(schema.name) has no field \(name)")
            }
            fields[name] = try self.tree(value, type: field.type, field: field)
        }
        return .structure(fields)
    }

    static func tree(_ json: JSONValue, type: KafkaSchema.FieldType, field: KafkaSchema.Field?) throws -> SchemaValue {
        switch (type, json) {
        case (.bool, .bool(let value)): return .bool(value)
        case (.int8, .int(let value)), (.int16, .int(let value)), (.uint16, .int(let value)),
            (.int32, .int(let value)), (.uint32, .int(let value)), (.int64, .int(let value)):
            return .int(value)
        case (.float64, .double(let value)): return .double(value)
        case (.float64, .int(let value)): return .double(Double(value))
        case (.string, .string(let value)): return .string(value)
        case (.string, .null): return .string(nil)
        case (.uuid, .string(let hex)):
            return .uuid(try #require(KafkaUUID(bytes: try self.hexBytes(hex))))
        case (.bytes, .string(let hex)), (.records, .string(let hex)): return .bytes(try self.hexBytes(hex))
        case (.bytes, .null), (.records, .null): return .bytes(nil)
        case (.array, .null): return .array(nil)
        case (.array(let element), .array(let values)):
            return .array(
                try values.map { value in
                    if case .structure(let schema) = element { return try self.tree(value, schema: schema) }
                    return try self.tree(value, type: element, field: nil)
                }
            )
        case (.structure(let schema), .object): return try self.tree(json, schema: schema)
        case (.structure(let schema), .null):
            // kafka-python leaves an unset tagged structure null; Kafka's default is the structure at its defaults.
            return field?.isNullableStructure == true ? .nullStructure : schema.defaultTree
        default:
            throw FixtureError("\(json) does not fit \(type)")
        }
    }

    static func hexBytes(_ hex: String) throws -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { throw FixtureError("odd hex length") }
        return try stride(from: 0, to: digits.count, by: 2).map { index in
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw FixtureError("bad hex \(hex)")
            }
            return byte
        }
    }

    /// Compares a decoded value with the manifest: every field the manifest names must match.
    static func check<Message: KafkaCodable>(_ value: Message, against json: JSONValue) throws {
        let expected = try self.tree(json, schema: Message.kafkaSchema)
        let actual = SchemaMirror.tree(of: value, schema: Message.kafkaSchema).restricted(to: expected)
        if let difference = actual.difference(from: expected) {
            Issue.record("\(Message.kafkaSchema.name): \(difference)")
        }
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension SchemaValue {
    /// This tree with only the fields `expected` has (recursively), for comparing with partial expectations.
    func restricted(to expected: SchemaValue) -> SchemaValue {
        switch (self, expected) {
        case (.structure(let mine), .structure(let theirs)):
            var result: [String: SchemaValue] = [:]
            for (key, value) in theirs {
                if let own = mine[key] { result[key] = own.restricted(to: value) }
            }
            return .structure(result)
        case (.array(let mine?), .array(let theirs?)) where mine.count == theirs.count:
            return .array(zip(mine, theirs).map { $0.restricted(to: $1) })
        default:
            return self
        }
    }
}

@Suite("Bytes from kafka-python decode to its values and re-encode identically")
struct KafkaPythonProtocolFixtureTests {
    @Test func manifestLoads() throws {
        let manifest = try ProtocolFixtures.manifest.get()
        #expect(manifest.cases.count > 300)
        // Every generated request and response has fixtures.
        let covered = Set(manifest.cases.map(\.message))
        for api in ApiKey.allCases {
            #expect(covered.contains(api.requestType.kafkaSchema.name), "no fixture for \(api.name) requests")
            #expect(covered.contains(api.responseType.kafkaSchema.name), "no fixture for \(api.name) responses")
        }
        #expect(covered.contains("ConsumerProtocolSubscription"))
        #expect(covered.contains("ConsumerProtocolAssignment"))
        // Flexible versions are well represented.
        let flexibleCases = manifest.cases.filter { fixture in
            ProtocolFixtures.typesByName[fixture.message].map { $0.isFlexible(version: fixture.version) } ?? false
        }
        #expect(flexibleCases.count > 100)
    }

    @Test(arguments: ProtocolFixtures.cases)
    func fixture(_ fixture: ProtocolFixtureManifest.Case) throws {
        let type = try #require(ProtocolFixtures.typesByName[fixture.message], "no codec for \(fixture.message)")
        let bytes = try ProtocolFixtures.bytes(fixture)
        switch fixture.kind {
        case "body":
            try self.checkBody(type, fixture: fixture, bytes: bytes)
        case "version_prefixed":
            try self.checkVersionPrefixed(type, fixture: fixture, bytes: bytes)
        case "request_frame":
            let messageType = try #require(type as? any KafkaMessage.Type)
            try self.checkRequestFrame(messageType, fixture: fixture, bytes: bytes)
        case "response_frame":
            let messageType = try #require(type as? any KafkaMessage.Type)
            try self.checkResponseFrame(messageType, fixture: fixture, bytes: bytes)
        default:
            Issue.record("unknown fixture kind \(fixture.kind)")
        }
    }

    func checkBody<Message: KafkaCodable>(
        _ type: Message.Type,
        fixture: ProtocolFixtureManifest.Case,
        bytes: ByteBuffer
    ) throws {
        let value = try Message(decoding: bytes, version: fixture.version)
        try ProtocolFixtures.check(value, against: fixture.value)
        #expect(try value.encoded(version: fixture.version) == bytes, "re-encoding differs")
    }

    func checkVersionPrefixed<Message: KafkaCodable>(
        _ type: Message.Type,
        fixture: ProtocolFixtureManifest.Case,
        bytes: ByteBuffer
    ) throws {
        let (value, version) = try Message.decodeVersionPrefixed(bytes)
        #expect(version == fixture.version)
        try ProtocolFixtures.check(value, against: fixture.value)
        #expect(try value.versionPrefixedBytes(version: version) == Array(bytes.readableBytesView))
    }

    func checkRequestFrame<Message: KafkaMessage>(
        _ type: Message.Type,
        fixture: ProtocolFixtureManifest.Case,
        bytes: ByteBuffer
    ) throws {
        var stream = bytes
        let frame = try #require(
            try KafkaFrameDecoder.nextFrame(in: &stream, frameBytesMax: KafkaFrameDecoder.frameBytesMaxDefault)
        )
        #expect(stream.readableBytes == 0)
        let request = try KafkaRequestFrame(parsing: frame)
        #expect(request.apiKey == Message.apiKey)
        #expect(request.apiVersion == fixture.version)
        #expect(request.correlationId == fixture.correlationId)
        #expect(request.headerVersion == fixture.headerVersion)
        if case .string(let clientId)? = fixture.clientId {
            #expect(request.clientId == clientId)
        } else {
            // JSON null (which the decoder reads as an absent optional): the client sent a null client id.
            #expect(request.clientId == nil)
        }
        let body = try request.decodeBody(as: Message.self)
        try ProtocolFixtures.check(body, against: fixture.value)
        var encoded = ByteBuffer()
        try KafkaRequestFrame.write(
            body,
            version: request.apiVersion,
            correlationId: request.correlationId,
            clientId: request.clientId,
            into: &encoded
        )
        #expect(encoded == bytes)
    }

    func checkResponseFrame<Message: KafkaMessage>(
        _ type: Message.Type,
        fixture: ProtocolFixtureManifest.Case,
        bytes: ByteBuffer
    ) throws {
        let api = try #require(ApiKey(rawValue: Message.apiKey))
        #expect(api.responseHeaderVersion(for: fixture.version) == fixture.headerVersion)
        var stream = bytes
        let frame = try #require(
            try KafkaFrameDecoder.nextFrame(in: &stream, frameBytesMax: KafkaFrameDecoder.frameBytesMaxDefault)
        )
        let response = try KafkaResponseFrame(
            parsing: frame,
            headerVersion: api.responseHeaderVersion(for: fixture.version)
        )
        #expect(response.correlationId == fixture.correlationId)
        let body = try Message(decoding: response.body, version: fixture.version)
        try ProtocolFixtures.check(body, against: fixture.value)
        var encoded = ByteBuffer()
        try KafkaResponseFrame.write(
            body, version: fixture.version, correlationId: response.correlationId, into: &encoded)
        #expect(encoded == bytes)
        var copied = ByteBuffer()
        try response.write(into: &copied, headerVersion: api.responseHeaderVersion(for: fixture.version))
        #expect(copied == bytes)
    }

    /// The records of kafka-python's produce requests are valid record batches, read without copying.
    @Test(
        arguments: ProtocolFixtures.cases.filter { $0.name.hasPrefix("ProduceRequest") && $0.name.hasSuffix("batches") }
    )
    func produceRecordsAreZeroCopyBatches(_ fixture: ProtocolFixtureManifest.Case) throws {
        let bytes = try ProtocolFixtures.bytes(fixture)
        let request = try ProduceRequest(decoding: bytes, version: fixture.version)
        var batchCount = 0
        for topic in request.topicData {
            for partition in topic.partitionData {
                guard let records = partition.records else { continue }
                let batch = try RecordBatch(validating: records)
                #expect(batch.buffer.readableBytes == records.readableBytes)
                #expect(Self.sharesStorage(records, with: bytes))
                batchCount += 1
            }
        }
        #expect(batchCount == 2)
        #expect(request.transactionalId == (fixture.version >= 3 ? "txn-7" : nil))
        #expect(request.acks == -1)
    }

    @Test(
        arguments: ProtocolFixtures.cases.filter { $0.name.hasPrefix("FetchResponse") && $0.name.hasSuffix("batches") })
    func fetchResponseRecords(_ fixture: ProtocolFixtureManifest.Case) throws {
        let bytes = try ProtocolFixtures.bytes(fixture)
        let response = try FetchResponse(decoding: bytes, version: fixture.version)
        let partitions = try #require(response.responses.first).partitions
        #expect(partitions.count == 2)
        let records = try #require(partitions[0].records)
        _ = try RecordBatch(validating: records)
        #expect(Self.sharesStorage(records, with: bytes))
        #expect(partitions[0].abortedTransactions == [.init(producerId: 77, firstOffset: 100)] || fixture.version < 4)
        #expect(partitions[1].records == nil)
        #expect(partitions[1].errorCode == KafkaErrorCode.offsetOutOfRange.rawValue)
    }

    /// A join group's protocol metadata is a consumer-protocol subscription that decodes as Kafka's consumer does.
    @Test(
        arguments: ProtocolFixtures.cases.filter {
            $0.name.hasPrefix("JoinGroupRequest") && $0.name.hasSuffix("consumer")
        })
    func joinGroupSubscription(_ fixture: ProtocolFixtureManifest.Case) throws {
        let request = try JoinGroupRequest(decoding: try ProtocolFixtures.bytes(fixture), version: fixture.version)
        #expect(request.protocolType == "consumer")
        #expect(request.protocols.map(\.name) == ["cooperative-sticky", "range"])
        let (subscription, _) = try ConsumerProtocolSubscription.decodeVersionPrefixed(request.protocols[0].metadata)
        #expect(subscription.topics == ["orders", "payments"])
    }

    @Test(
        arguments: ProtocolFixtures.cases.filter {
            $0.name.hasPrefix("SyncGroupRequest") && $0.name.hasSuffix("consumer")
        })
    func syncGroupAssignment(_ fixture: ProtocolFixtureManifest.Case) throws {
        let request = try SyncGroupRequest(decoding: try ProtocolFixtures.bytes(fixture), version: fixture.version)
        let assignment = try #require(request.assignments.first).assignment
        let (decoded, _) = try ConsumerProtocolAssignment.decodeVersionPrefixed(assignment)
        #expect(decoded.assignedPartitions == [.init(topic: "orders", partitions: [0, 2, 4])])
        #expect(decoded.userData == [0, 1])
    }

    /// Whether `slice`'s bytes lie inside `buffer`'s storage (a slice, not a copy).
    static func sharesStorage(_ slice: ByteBuffer, with buffer: ByteBuffer) -> Bool {
        slice.withUnsafeReadableBytes { slicePointer in
            buffer.withUnsafeReadableBytes { bufferPointer in
                guard let sliceBase = slicePointer.baseAddress, let bufferBase = bufferPointer.baseAddress else {
                    return false
                }
                return sliceBase >= bufferBase && sliceBase + slicePointer.count <= bufferBase + bufferPointer.count
            }
        }
    }
}
