import NIOCore
import SluiceKafkaProtocol
import Testing
import _SluiceTestSupport

/// One generated structure at one of its versions, as a test argument.
struct MessageVersion: CustomTestStringConvertible, Sendable {
    let type: any KafkaCodable.Type
    let version: Int16

    var name: String { self.type.kafkaSchema.name }
    var flexible: Bool { self.type.isFlexible(version: self.version) }
    var testDescription: String { "\(self.name) v\(self.version)" }

    /// Every request and response body of every API, the headers and the consumer-protocol structures.
    static let allTypes: [any KafkaCodable.Type] =
        ApiKey.allCases.flatMap { [$0.requestType as any KafkaCodable.Type, $0.responseType] }
        + [
            RequestHeader.self, ResponseHeader.self, ConsumerProtocolSubscription.self,
            ConsumerProtocolAssignment.self,
        ]

    static let all: [MessageVersion] = allTypes.flatMap { type in
        type.validVersions.map { MessageVersion(type: type, version: $0) }
    }

    /// A seed that differs per case but not per run, so a failure replays; `SLUICE_TEST_SEED` overrides it.
    var seed: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(self.name)/\(self.version)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return hash
    }
}

@Suite("Round trips of schema-generated values through every message and version")
struct SchemaRoundTripTests {
    static let iterations = 30

    /// Random values for every field the version carries, encoded by `SchemaCodec` (an interpreter of the
    /// encoding rules), must decode to the same field values and re-encode to the same bytes.
    @Test(arguments: MessageVersion.all)
    func randomValuesRoundTrip(_ subject: MessageVersion) throws {
        let random = SeededRandom(seed: subject.seed)
        try self.randomValuesRoundTrip(subject.type, version: subject.version, random: random)
    }

    func randomValuesRoundTrip<Message: KafkaCodable>(
        _ type: Message.Type,
        version: Int16,
        random: SeededRandom
    ) throws {
        let schema = Message.kafkaSchema
        let flexible = Message.isFlexible(version: version)
        var generator = SchemaValueGenerator(random: random)
        for iteration in 0..<Self.iterations {
            let tree = generator.structure(schema, version: version, flexible: flexible)
            let bytes = SchemaCodec.encode(tree, schema: schema, version: version, flexible: flexible)
            let decoded: Message
            do {
                decoded = try Message(decoding: bytes, version: version)
            } catch {
                Issue.record("seed \(random.seed) iteration \(iteration): \(error) decoding \(tree)")
                return
            }
            if let difference = SchemaMirror.tree(of: decoded, schema: schema).difference(from: tree) {
                Issue.record("seed \(random.seed) iteration \(iteration): decoded \(difference)")
                return
            }
            let encoded = try decoded.encoded(version: version)
            guard encoded == bytes else {
                let message =
                    "seed \(random.seed) iteration \(iteration): re-encoded \(encoded.readableBytes) bytes "
                    + "differ from \(bytes.readableBytes) for \(tree)"
                Issue.record("\(message)")
                return
            }
        }
    }

    /// A value at its defaults writes at every version and reads back equal.
    @Test(arguments: MessageVersion.all)
    func defaultsRoundTrip(_ subject: MessageVersion) throws {
        try self.defaultsRoundTrip(subject.type, version: subject.version)
    }

    func defaultsRoundTrip<Message: KafkaCodable>(_ type: Message.Type, version: Int16) throws {
        let encoded = try Message().encoded(version: version)
        #expect(try Message(decoding: encoded, version: version) == Message())
        let schema = Message.kafkaSchema
        let interpreted = SchemaCodec.encode(
            schema.defaultTree,
            schema: schema,
            version: version,
            flexible: Message.isFlexible(version: version)
        )
        #expect(encoded == interpreted)
    }

    /// A value filled for the highest version, written at every version: it must throw exactly when a field the
    /// version does not carry holds a non-default value and is not ignorable (or a null meets a version that does
    /// not allow one), and otherwise read back with the fields the version lacks at their defaults.
    @Test(arguments: MessageVersion.allTypes.map { MessageVersion(type: $0, version: $0.validVersions.upperBound) })
    func writingOtherVersionsFollowsIgnorable(_ subject: MessageVersion) throws {
        try self.writingOtherVersions(subject.type, random: SeededRandom(seed: subject.seed))
    }

    func writingOtherVersions<Message: KafkaCodable>(_ type: Message.Type, random: SeededRandom) throws {
        let schema = Message.kafkaSchema
        var generator = SchemaValueGenerator(random: random)
        let highest = Message.validVersions.upperBound
        var successesSeen = 0
        for iteration in 0..<Self.iterations {
            let tree = generator.structure(schema, version: highest, flexible: Message.isFlexible(version: highest))
            let bytes = SchemaCodec.encode(
                tree, schema: schema, version: highest, flexible: Message.isFlexible(version: highest))
            let value = try Message(decoding: bytes, version: highest)
            for version in Message.validVersions {
                let flexible = Message.isFlexible(version: version)
                let expectation = SchemaProjection.project(tree, schema: schema, version: version, flexible: flexible)
                do {
                    let encoded = try value.encoded(version: version)
                    successesSeen += 1
                    guard case .success(let projected) = expectation else {
                        Issue.record("seed \(random.seed) #\(iteration) v\(version): wrote, but expected a throw")
                        continue
                    }
                    let decoded = try Message(decoding: encoded, version: version)
                    if let difference = SchemaMirror.tree(of: decoded, schema: schema).difference(from: projected) {
                        Issue.record("seed \(random.seed) #\(iteration) v\(version): \(difference)")
                    }
                } catch {
                    guard case .failure(let reason) = expectation else {
                        Issue.record("seed \(random.seed) #\(iteration) v\(version): threw \(error), expected success")
                        continue
                    }
                    #expect(
                        error.code == .unsupportedVersion || error.code == .unexpectedNull,
                        "v\(version) threw \(error); expected because \(reason)"
                    )
                }
            }
        }
        #expect(successesSeen > 0)
    }
}

/// What writing a tree at another version should do, computed from the schema alone.
enum SchemaProjection {
    struct Refusal: Error {
        var reason: String
    }

    /// The tree as it reads back after writing at `version`, or why the write must fail.
    static func project(
        _ tree: SchemaValue,
        schema: KafkaSchema,
        version: Int16,
        flexible: Bool
    ) -> Result<SchemaValue, Refusal> {
        Result { () throws(Refusal) -> SchemaValue in
            try self.projectStructure(tree, schema: schema, version: version, flexible: flexible, path: schema.name)
        }
    }

    static func projectStructure(
        _ tree: SchemaValue,
        schema: KafkaSchema,
        version: Int16,
        flexible: Bool,
        path: String
    ) throws(Refusal) -> SchemaValue {
        guard case .structure(let fields) = tree else { return tree }
        var result: [String: SchemaValue] = [:]
        for field in schema.fields {
            let value = fields[field.name] ?? field.defaultTree
            let fieldPath = "\(path).\(field.name)"
            guard field.isPresent(version) else {
                if value != field.defaultTree && !field.ignorable {
                    throw Refusal(reason: "\(fieldPath) is not in v\(version) and not ignorable")
                }
                result[field.name] = field.defaultTree
                continue
            }
            let tagged = field.isTagged(version, flexible: flexible)
            if tagged && value == field.defaultTree {
                result[field.name] = value
                continue
            }
            if value.isNull && !field.nullableVersions.contains(version) {
                throw Refusal(reason: "\(fieldPath) is null but not nullable in v\(version)")
            }
            result[field.name] = try self.projectValue(
                value,
                type: field.type,
                version: version,
                flexible: flexible,
                path: fieldPath
            )
        }
        return .structure(result)
    }

    static func projectValue(
        _ value: SchemaValue,
        type: KafkaSchema.FieldType,
        version: Int16,
        flexible: Bool,
        path: String
    ) throws(Refusal) -> SchemaValue {
        switch (type, value) {
        case (.structure(let schema), .structure):
            return try self.projectStructure(value, schema: schema, version: version, flexible: flexible, path: path)
        case (.array(.structure(let schema)), .array(let elements?)):
            var projected: [SchemaValue] = []
            for (index, element) in elements.enumerated() {
                projected.append(
                    try self.projectStructure(
                        element,
                        schema: schema,
                        version: version,
                        flexible: flexible,
                        path: "\(path)[\(index)]"
                    )
                )
            }
            return .array(projected)
        default:
            return value
        }
    }
}

extension SchemaValue {
    var isNull: Bool {
        switch self {
        case .string(nil), .bytes(nil), .array(nil), .nullStructure: return true
        default: return false
        }
    }
}
