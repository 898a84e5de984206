import Foundation
import NIOCore
import SluiceCore
import Testing

/// The manifest of `Fixtures/kafka-python` (written by scripts/fixtures/make_record_batch_fixtures.py), and
/// the one the round-trip test writes for that script's `--verify` mode.
struct KafkaPythonManifest: Codable, Sendable {
    struct Header: Codable, Sendable {
        var baseOffset: Int64
        var partitionLeaderEpoch: Int32
        var magic: Int8
        var attributes: Int16
        var compression: Int
        var compressionName: String
        var timestampType: String
        var isTransactional: Bool
        var isControl: Bool
        var producerId: Int64
        var producerEpoch: Int16
        var baseSequence: Int32
        /// Kafka's lastSequence: -1 when the batch has no sequence.
        var lastSequence: Int32
        var lastOffsetDelta: Int32
        var recordCount: Int32
        var baseTimestamp: Int64
        var maxTimestamp: Int64

        enum CodingKeys: String, CodingKey {
            case baseOffset = "base_offset"
            case partitionLeaderEpoch = "partition_leader_epoch"
            case magic, attributes
            case compression
            case compressionName = "compression_name"
            case timestampType = "timestamp_type"
            case isTransactional = "is_transactional"
            case isControl = "is_control"
            case producerId = "producer_id"
            case producerEpoch = "producer_epoch"
            case baseSequence = "base_sequence"
            case lastSequence = "last_sequence"
            case lastOffsetDelta = "last_offset_delta"
            case recordCount = "record_count"
            case baseTimestamp = "base_timestamp"
            case maxTimestamp = "max_timestamp"
        }
    }

    struct Control: Codable, Sendable {
        /// "commit" or "abort".
        var type: String
        var coordinatorEpoch: Int32

        enum CodingKeys: String, CodingKey {
            case type
            case coordinatorEpoch = "coordinator_epoch"
        }
    }

    struct Case: Codable, Sendable, CustomTestStringConvertible {
        var name: String
        var file: String
        var byteCount: Int?
        var crc: UInt32?
        var header: Header
        var recordSet: String
        var control: Control?
        var notes: [String]

        var testDescription: String { self.name }

        enum CodingKeys: String, CodingKey {
            case name, file
            case byteCount = "byte_count"
            case crc, header
            case recordSet = "record_set"
            case control, notes
        }
    }

    /// One record as the manifest describes it: bytes in base64, header pairs of [key, base64 or null].
    struct FixtureRecord: Codable, Sendable {
        var offset: Int64
        /// What a reader returns: the log-append time in a LogAppendTime batch.
        var timestamp: Int64
        /// What the producer appended, when it differs from `timestamp`.
        var createTimestamp: Int64?
        var key: String?
        var value: String?
        var headers: [[String?]]

        enum CodingKeys: String, CodingKey {
            case offset, timestamp
            case createTimestamp = "create_timestamp"
            case key, value, headers
        }
    }

    var description: String?
    var cases: [Case]
    var recordSets: [String: [FixtureRecord]]

    enum CodingKeys: String, CodingKey {
        case description, cases
        case recordSets = "record_sets"
    }
}

extension KafkaPythonFixtures {
    /// A record reduced to comparable values.
    struct ExpectedRecord: Equatable, Sendable, CustomStringConvertible {
        struct Header: Equatable, Sendable {
            var key: String
            var value: [UInt8]?
        }

        var offset: Int64
        var timestamp: Int64
        var createTimestamp: Int64
        var key: [UInt8]?
        var value: [UInt8]?
        var headers: [Header]

        init(_ fixture: KafkaPythonManifest.FixtureRecord) throws {
            func bytes(_ base64: String?) throws -> [UInt8]? {
                guard let base64 else { return nil }
                return Array(try #require(Data(base64Encoded: base64), "bad base64 in manifest: \(base64)"))
            }
            self.offset = fixture.offset
            self.timestamp = fixture.timestamp
            self.createTimestamp = fixture.createTimestamp ?? fixture.timestamp
            self.key = try bytes(fixture.key)
            self.value = try bytes(fixture.value)
            self.headers = try fixture.headers.map { pair in
                try #require(pair.count == 2, "header is not a [key, value] pair")
                return Header(key: try #require(pair[0], "null header key"), value: try bytes(pair[1]))
            }
        }

        /// As read by Sluice; `createTimestamp` is not in a record as read and is set to `timestamp`.
        init(_ record: Record) {
            self.offset = record.offset
            self.timestamp = record.timestamp
            self.createTimestamp = record.timestamp
            self.key = record.key.map { Array($0.readableBytesView) }
            self.value = record.value.map { Array($0.readableBytesView) }
            self.headers = record.headers.map {
                Header(key: $0.key, value: $0.value.map { Array($0.readableBytesView) })
            }
        }

        /// The fields a reader sees (not `createTimestamp`).
        func matches(_ other: ExpectedRecord) -> Bool {
            self.offset == other.offset && self.timestamp == other.timestamp && self.key == other.key
                && self.value == other.value && self.headers == other.headers
        }

        var description: String {
            "offset \(self.offset) timestamp \(self.timestamp) key \(self.key.map { "\($0.count) bytes" } ?? "null") "
                + "value \(self.value.map { "\($0.count) bytes" } ?? "null") headers \(self.headers.count)"
        }
    }
}

/// The kafka-python fixtures: loading, and what the tests share.
enum KafkaPythonFixtures {
    static let directory: URL? = Bundle.module.url(forResource: "Fixtures", withExtension: nil)?
        .appendingPathComponent("kafka-python")

    static let manifest: Result<KafkaPythonManifest, any Error> = Result {
        let directory = try #require(Self.directory, "Fixtures missing from the test bundle")
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(KafkaPythonManifest.self, from: data)
    }

    static func cases() throws -> [KafkaPythonManifest.Case] {
        try self.manifest.get().cases
    }

    static func records(of fixture: KafkaPythonManifest.Case) throws -> [ExpectedRecord] {
        let set = try #require(
            try self.manifest.get().recordSets[fixture.recordSet], "no record set \(fixture.recordSet)")
        return try set.map(KafkaPythonFixtures.ExpectedRecord.init)
    }

    static func bytes(of fixture: KafkaPythonManifest.Case) throws -> [UInt8] {
        let directory = try #require(Self.directory, "Fixtures missing from the test bundle")
        return Array(try Data(contentsOf: directory.appendingPathComponent(fixture.file)))
    }

    /// The case's records built by Sluice with the case's settings and `compression`; a log-append-time
    /// batch is built with create times and stamped as the log does, a control batch by `controlBatch`.
    static func sluiceBatch(
        for fixture: KafkaPythonManifest.Case,
        records: [ExpectedRecord],
        compression: CompressionCodec
    ) throws -> RecordBatch {
        let header = fixture.header
        if let control = fixture.control {
            let record = try #require(records.first, "control batch without a record")
            var batch = RecordBatchBuilder.controlBatch(
                try #require(controlType(control.type)),
                producerId: header.producerId,
                producerEpoch: header.producerEpoch,
                coordinatorEpoch: control.coordinatorEpoch,
                timestamp: record.createTimestamp
            )
            batch.setBaseOffset(header.baseOffset)
            batch.setPartitionLeaderEpoch(header.partitionLeaderEpoch)
            return batch
        }
        var builder = RecordBatchBuilder(compression: compression)
        builder.baseOffset = header.baseOffset
        builder.partitionLeaderEpoch = header.partitionLeaderEpoch
        builder.isTransactional = header.isTransactional
        builder.producerId = header.producerId
        builder.producerEpoch = header.producerEpoch
        builder.baseSequence = header.baseSequence
        for record in records {
            builder.append(
                ProducerRecord(
                    key: record.key,
                    value: record.value,
                    headers: record.headers.map { (key: $0.key, value: $0.value) },
                    timestamp: record.createTimestamp
                ),
                offsetDelta: Int32(record.offset - header.baseOffset)
            )
        }
        var batch = try builder.build()
        if header.timestampType == "log_append_time" {
            batch.setLogAppendTime(header.maxTimestamp)
        }
        return batch
    }

    static func controlType(_ name: String) -> ControlRecordType? {
        switch name {
        case "commit": .commit
        case "abort": .abort
        default: nil
        }
    }

    static func timestampType(_ name: String) -> TimestampType? {
        switch name {
        case "create_time": .createTime
        case "log_append_time": .logAppendTime
        default: nil
        }
    }

    /// The repository root, from this file's path (Tests/SluiceCoreTests/ is two levels down).
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

extension KafkaPythonFixtures {
    /// Expects every header field of `batch` to be what the manifest says.
    static func expectHeader(_ batch: RecordBatch, _ header: KafkaPythonManifest.Header, _ name: String) {
        #expect(batch.baseOffset == header.baseOffset, "\(name): baseOffset")
        #expect(batch.partitionLeaderEpoch == header.partitionLeaderEpoch, "\(name): partitionLeaderEpoch")
        #expect(batch.magic == header.magic, "\(name): magic")
        #expect(batch.attributes == header.attributes, "\(name): attributes")
        #expect(batch.compression?.rawValue == header.compression, "\(name): compression")
        #expect(batch.compression?.description == header.compressionName, "\(name): compression name")
        #expect(
            batch.timestampType == KafkaPythonFixtures.timestampType(header.timestampType), "\(name): timestampType")
        #expect(batch.isTransactional == header.isTransactional, "\(name): isTransactional")
        #expect(batch.isControl == header.isControl, "\(name): isControl")
        #expect(batch.hasDeleteHorizon == false, "\(name): hasDeleteHorizon")
        #expect(batch.producerId == header.producerId, "\(name): producerId")
        #expect(batch.hasProducerId == (header.producerId >= 0), "\(name): hasProducerId")
        #expect(batch.producerEpoch == header.producerEpoch, "\(name): producerEpoch")
        #expect(batch.baseSequence == header.baseSequence, "\(name): baseSequence")
        if header.baseSequence >= 0 {
            // Kafka (and kafka-python) report -1 for a batch without a sequence; Sluice's lastSequence
            // is only meaningful with one, so that case is not compared.
            #expect(batch.lastSequence == header.lastSequence, "\(name): lastSequence")
        }
        #expect(batch.lastOffsetDelta == header.lastOffsetDelta, "\(name): lastOffsetDelta")
        #expect(batch.lastOffset == header.baseOffset + Int64(header.lastOffsetDelta), "\(name): lastOffset")
        #expect(batch.recordCount == header.recordCount, "\(name): recordCount")
        #expect(batch.baseTimestamp == header.baseTimestamp, "\(name): baseTimestamp")
        #expect(batch.maxTimestamp == header.maxTimestamp, "\(name): maxTimestamp")
    }

    /// Expects `actual` to be `expected` record by record, field by field; reports the first few mismatches.
    static func expectRecords(_ actual: [ExpectedRecord], _ expected: [ExpectedRecord], _ name: String) {
        #expect(actual.count == expected.count, "\(name): record count")
        var mismatchCount = 0
        for (index, (read, want)) in zip(actual, expected).enumerated() where !read.matches(want) {
            mismatchCount += 1
            guard mismatchCount <= 5 else { continue }
            #expect(read.offset == want.offset, "\(name) record \(index): offset")
            #expect(read.timestamp == want.timestamp, "\(name) record \(index): timestamp")
            #expect(read.key == want.key, "\(name) record \(index): key")
            #expect(read.value == want.value, "\(name) record \(index): value")
            #expect(read.headers == want.headers, "\(name) record \(index): headers")
        }
        #expect(mismatchCount == 0, "\(name): \(mismatchCount) records differ")
    }
}

@Suite struct KafkaPythonFixtureTests {
    /// kafka-python's batches decode in Sluice to what kafka-python was given, and Sluice's builder
    /// encodes the same records to the same bytes.
    @Test(arguments: try KafkaPythonFixtures.cases())
    func decodesKafkaPythonBatch(_ fixture: KafkaPythonManifest.Case) throws {
        let name = fixture.name
        let bytes = try KafkaPythonFixtures.bytes(of: fixture)
        let expected = try KafkaPythonFixtures.records(of: fixture)
        #expect(bytes.count == fixture.byteCount, "\(name): file size")

        let batch = try RecordBatch(validating: ByteBuffer(bytes: bytes))
        #expect(batch.byteCount == bytes.count)
        #expect(batch.crc == fixture.crc, "\(name): crc")
        #expect(batch.computeCRC() == batch.crc, "\(name): computed crc")
        KafkaPythonFixtures.expectHeader(batch, fixture.header, name)

        let records = try batch.records().map(KafkaPythonFixtures.ExpectedRecord.init)
        KafkaPythonFixtures.expectRecords(records, expected, name)

        // The streaming reader returns nil after the last record and no more.
        var reader = try batch.recordReader()
        #expect(reader.remainingRecordCount == expected.count)
        while try reader.next() != nil {}
        #expect(try reader.next() == nil)

        let control = try batch.controlRecord()
        if let want = fixture.control {
            let read = try #require(control, "\(name): no control record")
            #expect(read.type == KafkaPythonFixtures.controlType(want.type), "\(name): control type")
            #expect(read.coordinatorEpoch == want.coordinatorEpoch, "\(name): coordinator epoch")
        } else {
            #expect(control == nil, "\(name): control record in a data batch")
        }

        // Re-encoded by Sluice, uncompressed: the same records back, and for an uncompressed
        // kafka-python batch the very same bytes.
        let rebuilt = try KafkaPythonFixtures.sluiceBatch(for: fixture, records: expected, compression: .none)
        let revalidated = try RecordBatch(validating: rebuilt.buffer)
        var uncompressedHeader = fixture.header
        uncompressedHeader.attributes &= ~0x07
        uncompressedHeader.compression = CompressionCodec.none.rawValue
        uncompressedHeader.compressionName = CompressionCodec.none.description
        KafkaPythonFixtures.expectHeader(revalidated, uncompressedHeader, "\(name) rebuilt by Sluice")
        KafkaPythonFixtures.expectRecords(
            try revalidated.records().map(KafkaPythonFixtures.ExpectedRecord.init), expected,
            "\(name) rebuilt by Sluice")
        if fixture.header.compression == CompressionCodec.none.rawValue {
            let sluiceBytes = Array(rebuilt.buffer.readableBytesView)
            let differenceIndex =
                zip(sluiceBytes, bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? (sluiceBytes.count == bytes.count ? nil : min(sluiceBytes.count, bytes.count))
            #expect(
                differenceIndex == nil,
                "\(name): Sluice's encoding differs from kafka-python's from byte \(differenceIndex ?? 0)")
        }
    }

    /// The other direction: kafka-python reads what Sluice builds, with every codec. Needs SLUICE_PYTHON,
    /// a python with scripts/fixtures/requirements.txt installed.
    @Test(
        .enabled(if: ProcessInfo.processInfo.environment["SLUICE_PYTHON"] != nil, "SLUICE_PYTHON is not set"),
        arguments: CompressionCodec.allCases
    )
    func kafkaPythonReadsSluiceBatches(_ codec: CompressionCodec) throws {
        let python = try #require(ProcessInfo.processInfo.environment["SLUICE_PYTHON"])
        let manifest = try KafkaPythonFixtures.manifest.get()
        // The fixture cases of this codec; with a codec, also the producer-state and log-append-time
        // cases compressed by Sluice (control batches stay uncompressed, as coordinators write them).
        var cases = manifest.cases.filter { $0.header.compression == codec.rawValue }
        if codec != .none {
            let recordSets = Set(cases.map(\.recordSet))
            for var fixture in manifest.cases
            where fixture.header.compression == 0 && fixture.control == nil && !recordSets.contains(fixture.recordSet) {
                fixture.name += "-\(codec)"
                fixture.header.attributes |= Int16(codec.rawValue)
                fixture.header.compression = codec.rawValue
                fixture.header.compressionName = codec.description
                cases.append(fixture)
            }
        }

        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sluice-kafka-python-\(codec)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var written = KafkaPythonManifest(
            description: "RecordBatch v2 batches built by Sluice", cases: [], recordSets: [:])
        for var fixture in cases {
            let records = try KafkaPythonFixtures.records(of: fixture)
            let batch = try KafkaPythonFixtures.sluiceBatch(for: fixture, records: records, compression: codec)
            fixture.file = "sluice-\(fixture.name).bin"
            fixture.byteCount = batch.byteCount
            fixture.crc = batch.crc
            fixture.notes = ["built by Sluice's RecordBatchBuilder"]
            try Data(batch.buffer.readableBytesView).write(to: directory.appendingPathComponent(fixture.file))
            written.cases.append(fixture)
            written.recordSets[fixture.recordSet] = manifest.recordSets[fixture.recordSet]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try encoder.encode(written).write(to: directory.appendingPathComponent("manifest.json"))

        let script = KafkaPythonFixtures.repositoryRoot.appendingPathComponent(
            "scripts/fixtures/make_record_batch_fixtures.py")
        let process = Process()
        if python.contains("/") {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script.path, "--verify", directory.path]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, script.path, "--verify", directory.path]
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "kafka-python --verify failed for \(codec):\n\(text)")
    }
}
