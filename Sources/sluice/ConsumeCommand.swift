import ArgumentParser
import NIOCore
import SluiceCore
import SluiceKafkaClient
import SluiceLog

struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print a topic's records: partition, offset, timestamp, key, headers and value.")

    @OptionGroup var data: DataOptions
    @Option(help: "The topic to read.") var topic: String
    @Option(help: "Read only this partition (default: all).") var partition: Int32?
    @Flag(help: "Start at each partition's first record (the default).") var fromBeginning = false
    @Flag(help: "Start at each partition's end: only new records (with --follow).") var fromEnd = false
    @Option(help: "Start at this offset (with --partition, or in every partition).") var offset: Int64?
    @Option(help: "Start at the first record at or after this timestamp (epoch milliseconds).") var fromTimestamp: Int64?
    @Flag(help: "Keep waiting for new records until interrupted.") var follow = false
    @Option(help: "read_committed (default) or read_uncommitted.") var isolation: String = "read_committed"
    @Option(help: "text (default) or json (one object a line).") var format: OutputFormat = .text
    @Option(help: "Stop after this many records.") var maxRecords: Int?
    @Option(help: "Consume from a running broker (HOST:PORT) instead of the embedded log.") var bootstrap: String?

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    /// Bytes read from a partition per read.
    static let readBytesMax = 1024 * 1024

    func validate() throws {
        let starts = [self.fromBeginning, self.fromEnd, self.offset != nil, self.fromTimestamp != nil].filter { $0 }.count
        guard starts <= 1 else { throw ValidationError("choose one of --from-beginning, --from-end, --offset and --from-timestamp") }
        guard self.isolation == "read_committed" || self.isolation == "read_uncommitted" else {
            throw ValidationError("--isolation must be read_committed or read_uncommitted, not '\(self.isolation)'")
        }
        if let maxRecords = self.maxRecords, maxRecords < 1 { throw ValidationError("--max-records must be at least 1") }
    }

    func run() async throws {
        if let bootstrap = self.bootstrap {
            try await reportingErrors { try await self.consumeRemote(bootstrap) }
            return
        }
        try await reportingErrors {
            let log = try self.data.openLog()
            defer { try? log.close() }
            let isolation: IsolationLevel = self.isolation == "read_committed" ? .readCommitted : .readUncommitted
            var partitions = try log.partitions(of: self.topic)
            if let index = self.partition {
                partitions = [try log.partition(TopicPartition(self.topic, index))]
            }
            var positions: [Int64] = []
            for partition in partitions {
                if self.fromEnd {
                    positions.append(isolation == .readCommitted ? partition.lastStableOffset : partition.highWatermark)
                } else if let offset = self.offset {
                    guard offset >= partition.startOffset && offset <= partition.highWatermark else {
                        throw SluiceError(.offsetOutOfRange, "offset \(offset) is outside \(partition.topicPartition)'s range \(partition.startOffset)...\(partition.highWatermark)")
                    }
                    positions.append(offset)
                } else if let timestamp = self.fromTimestamp {
                    positions.append(try partition.offset(forTimestamp: timestamp)?.offset ?? partition.highWatermark)
                } else {
                    positions.append(partition.startOffset)
                }
            }
            var printed = 0
            while true {
                var progressed = false
                for (index, partition) in partitions.enumerated() {
                    let (records, next) = try partition.readRecords(from: positions[index], maxBytes: Self.readBytesMax, isolation: isolation)
                    if next > positions[index] { progressed = true }
                    positions[index] = next
                    for record in records {
                        printFlushed(self.format == .json ? jsonLine(record, topic: self.topic, partition: partition.topicPartition.partition)
                                                          : textLine(record, partition: partition.topicPartition.partition))
                        printed += 1
                        if let maxRecords = self.maxRecords, printed >= maxRecords { return }
                    }
                }
                if progressed { continue }
                guard self.follow else { return }
                let deadline = ContinuousClock.now + .milliseconds(500)
                await withTaskGroup(of: Void.self) { group in
                    for (index, partition) in partitions.enumerated() {
                        let position = positions[index]
                        group.addTask { await partition.waitForData(beyond: position, isolation: isolation, deadline: deadline) }
                    }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }
}

extension ConsumeCommand {
    /// The same loop over a broker: ListOffsets for the start, then Fetch (long polls with --follow).
    func consumeRemote(_ bootstrap: String) async throws {
        let client = try await KafkaClient(bootstrap: bootstrap)
        defer { Task { await client.close() } }
        let readCommitted = self.isolation == "read_committed"
        let count = try await client.partitionCount(of: self.topic)
        let partitions = self.partition.map { [$0] } ?? Array(0..<count)
        var positions: [Int32: Int64]
        if let offset = self.offset {
            positions = Dictionary(uniqueKeysWithValues: partitions.map { ($0, offset) })
        } else {
            let timestamp = self.fromEnd ? KafkaClient.latest : (self.fromTimestamp ?? KafkaClient.earliest)
            positions = try await client.listOffsets(topic: self.topic, partitions: partitions, timestamp: timestamp, readCommitted: readCommitted)
            if self.fromTimestamp != nil {
                // No record at or after the timestamp: start at the end.
                let ends = try await client.listOffsets(topic: self.topic, partitions: partitions, timestamp: KafkaClient.latest, readCommitted: readCommitted)
                for (partition, offset) in positions where offset < 0 { positions[partition] = ends[partition] ?? 0 }
            }
        }
        var printed = 0
        while true {
            let results = try await client.fetch(topic: self.topic, positions: positions, readCommitted: readCommitted, maxWaitMs: self.follow ? 500 : 100)
            var progressed = false
            for partition in partitions {
                guard let result = results[partition] else { continue }
                if result.nextOffset > positions[partition]! { progressed = true }
                positions[partition] = result.nextOffset
                for record in result.records {
                    printFlushed(self.format == .json ? jsonLine(record, topic: self.topic, partition: partition) : textLine(record, partition: partition))
                    printed += 1
                    if let maxRecords = self.maxRecords, printed >= maxRecords { return }
                }
            }
            if !progressed && !self.follow { return }
        }
    }
}

func textLine(_ record: Record, partition: Int32) -> String {
    var line = "partition:\(partition) offset:\(record.offset) timestamp:\(record.timestamp)"
    line += " key:" + (record.key.map(displayText) ?? "null")
    if !record.headers.isEmpty {
        line += " headers:" + record.headers.map { "\($0.key)=\($0.value.map(displayText) ?? "null")" }.joined(separator: ",")
    }
    line += " value:" + (record.value.map(displayText) ?? "null")
    return line
}

/// UTF-8 text as is; other bytes as base64 prefixed with `base64:`.
func displayText(_ buffer: ByteBuffer) -> String {
    let bytes = Array(buffer.readableBytesView)
    if let text = String(validating: bytes, as: UTF8.self) { return text }
    return "base64:" + base64(bytes)
}

func jsonLine(_ record: Record, topic: String, partition: Int32) -> String {
    var json = JSONWriter()
    json.beginObject()
    json.field("topic", string: topic)
    json.field("partition", int: Int64(partition))
    json.field("offset", int: record.offset)
    json.field("timestamp", int: record.timestamp)
    json.field("key", bytes: record.key)
    json.field("value", bytes: record.value)
    json.key("headers")
    json.beginArray()
    for header in record.headers {
        json.beginObject()
        json.field("key", string: header.key)
        json.field("value", bytes: header.value)
        json.endObject()
    }
    json.endArray()
    json.endObject()
    return json.text
}

/// A small streaming JSON writer (no Foundation on the output path).
struct JSONWriter {
    private(set) var text = ""
    private var needsComma = false

    mutating func beginObject() {
        self.separate()
        self.text += "{"
        self.needsComma = false
    }

    mutating func endObject() {
        self.text += "}"
        self.needsComma = true
    }

    mutating func beginArray() {
        self.separate()
        self.text += "["
        self.needsComma = false
    }

    mutating func endArray() {
        self.text += "]"
        self.needsComma = true
    }

    mutating func key(_ name: String) {
        self.separate()
        self.appendString(name)
        self.text += ":"
        self.needsComma = false
    }

    mutating func field(_ name: String, string: String?) {
        self.key(name)
        if let string { self.appendString(string) } else { self.text += "null" }
        self.needsComma = true
    }

    mutating func field(_ name: String, int: Int64) {
        self.key(name)
        self.text += String(int)
        self.needsComma = true
    }

    mutating func field(_ name: String, double: Double) {
        self.key(name)
        self.text += double.isFinite ? String(double) : "null"
        self.needsComma = true
    }

    /// Bytes as a string when they are UTF-8, else as {"base64": "..."}.
    mutating func field(_ name: String, bytes: ByteBuffer?) {
        guard let bytes else { return self.field(name, string: nil) }
        let array = Array(bytes.readableBytesView)
        if let text = String(validating: array, as: UTF8.self) {
            self.field(name, string: text)
        } else {
            self.key(name)
            self.text += "{\"base64\":\"\(base64(array))\"}"
            self.needsComma = true
        }
    }

    private mutating func separate() {
        if self.needsComma { self.text += "," }
    }

    private mutating func appendString(_ value: String) {
        self.text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": self.text += "\\\""
            case "\\": self.text += "\\\\"
            case "\n": self.text += "\\n"
            case "\r": self.text += "\\r"
            case "\t": self.text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                self.text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: self.text.unicodeScalars.append(scalar)
            }
        }
        self.text += "\""
    }
}

func base64(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var output: [UInt8] = []
    output.reserveCapacity((bytes.count + 2) / 3 * 4)
    var index = 0
    while index + 3 <= bytes.count {
        let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
        output += [alphabet[Int(value >> 18)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)], alphabet[Int(value & 63)]]
        index += 3
    }
    let remaining = bytes.count - index
    if remaining == 1 {
        let value = UInt32(bytes[index]) << 16
        output += [alphabet[Int(value >> 18)], alphabet[Int(value >> 12 & 63)], 61, 61]
    } else if remaining == 2 {
        let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
        output += [alphabet[Int(value >> 18)], alphabet[Int(value >> 12 & 63)], alphabet[Int(value >> 6 & 63)], 61]
    }
    return String(decoding: output, as: UTF8.self)
}
