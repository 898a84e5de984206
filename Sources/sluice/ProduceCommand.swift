import ArgumentParser
import Foundation
import NIOCore
import SluiceCore
import SluiceKafkaClient
import SluiceLog

#if canImport(Glibc)
import Glibc
#endif

struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Append lines from stdin or a file as records; prints the offsets acknowledged.",
        discussion: """
            Each line is one record. With --key-separator, the text before the first separator is the key.
            With --timestamp-separator, the text before the first separator is the timestamp (epoch ms).
            Keyed records go to the partition Kafka's default partitioner picks (murmur2 of the key).
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "The topic to append to.") var topic: String
    @Option(help: "Append to this partition instead of choosing by key.") var partition: Int32?
    @Option(help: "Split each line into key and value at the first occurrence of this text.") var keySeparator: String?
    @Option(help: "Split a leading timestamp (epoch milliseconds) off each line at this text.") var timestampSeparator: String?
    @Option(help: "The timestamp of every record (epoch milliseconds); default: now.") var timestamp: Int64?
    @Option(name: .customLong("header"), help: "A header key=value added to every record; repeatable.") var headers: [String] = []
    @Option(help: "Read lines from this file instead of stdin.") var file: String?
    @Option(help: "Compression of the batches: none, gzip, snappy, lz4 or zstd.") var compression: String = "none"
    @Option(help: "Records per batch.") var batchRecords: Int = 500
    @Flag(help: "Print nothing but errors.") var quiet = false
    @Option(help: "Produce to a running broker (HOST:PORT) instead of the embedded log.") var bootstrap: String?

    /// Batches appended but not yet acknowledged, at most.
    static let batchesInFlightMax = 32

    func validate() throws {
        guard self.batchRecords >= 1 && self.batchRecords <= 100_000 else {
            throw ValidationError("--batch-records must be between 1 and 100000")
        }
        if self.timestamp != nil && self.timestampSeparator != nil {
            throw ValidationError("--timestamp and --timestamp-separator exclude each other")
        }
        for header in self.headers where !header.contains("=") {
            throw ValidationError("--header '\(header)' is not key=value")
        }
        guard codec(named: self.compression) != nil else {
            throw ValidationError("--compression must be none, gzip, snappy, lz4 or zstd, not '\(self.compression)'")
        }
    }

    func run() async throws {
        try await reportingErrors {
            let sink: any RecordSink
            if let bootstrap = self.bootstrap {
                sink = try await RemoteSink(client: try await KafkaClient(bootstrap: bootstrap), topic: self.topic)
            } else {
                sink = try LocalSink(log: try self.data.openLog(), topic: self.topic)
            }
            do {
                try await self.produce(into: sink)
                await sink.close()
            } catch {
                await sink.close()
                throw error
            }
        }
    }

    private func produce(into sink: any RecordSink) async throws {
        let partitionCount = sink.partitionCount
        if let partition = self.partition, partition < 0 || partition >= partitionCount {
            throw SluiceError(.unknownPartition, "topic '\(self.topic)' has no partition \(partition) (it has \(partitionCount))")
        }
        let input: UnsafeMutablePointer<FILE>
        if let file = self.file {
            guard let opened = fopen(file, "r") else { throw SluiceError(.ioFailure, "cannot open \(file)", underlying: Errno(errno)) }
            input = opened
        } else {
            input = fdopen(0, "r")
        }
        defer { if self.file != nil { fclose(input) } }
        let headerPairs: [(key: String, value: [UInt8]?)] = self.headers.map { header in
            let equals = header.firstIndex(of: "=")!
            return (String(header[..<equals]), Array(header[header.index(after: equals)...].utf8))
        }
        let codec = codec(named: self.compression)!
        var builders: [Int32: RecordBatchBuilder] = [:]
        var roundRobin: Int32 = 0
        var lineNumber = 0
        var total = 0

        func flush(_ partitionIndex: Int32) async throws {
            guard let builder = builders.removeValue(forKey: partitionIndex), builder.recordCount > 0 else { return }
            try await sink.append(try builder.build(), partition: partitionIndex)
            if sink.pendingCount >= Self.batchesInFlightMax { try await acknowledge() }
        }

        func acknowledge() async throws {
            for (partition, first, last) in try await sink.acknowledge() where !self.quiet {
                printFlushed("\(self.topic)-\(partition): offsets \(first)-\(last) acknowledged")
            }
        }

        while let line = readLine(from: input) {
            lineNumber += 1
            var rest = Substring(line)
            var recordTimestamp = self.timestamp ?? currentTimeMillis()
            if let separator = self.timestampSeparator {
                guard let range = rest.range(of: separator), let parsed = Int64(rest[..<range.lowerBound]) else {
                    throw SluiceError(.invalidRequest, "line \(lineNumber) does not start with a timestamp followed by '\(separator)'")
                }
                recordTimestamp = parsed
                rest = rest[range.upperBound...]
            }
            var key: [UInt8]?
            if let separator = self.keySeparator {
                guard let range = rest.range(of: separator) else {
                    throw SluiceError(.invalidRequest, "line \(lineNumber) has no key separator '\(separator)'")
                }
                key = Array(rest[..<range.lowerBound].utf8)
                rest = rest[range.upperBound...]
            }
            let partitionIndex: Int32
            if let explicit = self.partition {
                partitionIndex = explicit
            } else if let key {
                partitionIndex = Murmur2.partition(forKey: key, partitionCount: partitionCount)
            } else {
                partitionIndex = roundRobin
            }
            var builder = builders[partitionIndex] ?? RecordBatchBuilder(compression: codec)
            builder.append(ProducerRecord(key: key, value: Array(rest.utf8), headers: headerPairs, timestamp: recordTimestamp))
            builders[partitionIndex] = builder
            total += 1
            if builder.recordCount >= self.batchRecords {
                try await flush(partitionIndex)
                if self.partition == nil && key == nil { roundRobin = (roundRobin + 1) % partitionCount }
            }
        }
        for partitionIndex in builders.keys.sorted() { try await flush(partitionIndex) }
        try await acknowledge()
        if !self.quiet { printFlushed("\(total) record\(total == 1 ? "" : "s") acknowledged") }
    }
}

/// Where `sluice produce` appends: the embedded log or a broker.
protocol RecordSink: Sendable {
    var partitionCount: Int32 { get }
    var pendingCount: Int { get }
    func append(_ batch: RecordBatch, partition: Int32) async throws
    /// Waits until every pending batch is acknowledged; returns (partition, first, last offset) each.
    func acknowledge() async throws -> [(Int32, Int64, Int64)]
    func close() async
}

final class LocalSink: RecordSink, @unchecked Sendable {
    let log: Log
    let partitions: [Partition]
    var pending: [(Partition, AppendResult)] = []

    init(log: Log, topic: String) throws {
        self.log = log
        self.partitions = try log.partitions(of: topic)
    }

    var partitionCount: Int32 { Int32(self.partitions.count) }
    var pendingCount: Int { self.pending.count }

    func append(_ batch: RecordBatch, partition: Int32) async throws {
        let target = self.partitions[Int(partition)]
        self.pending.append((target, try target.append(batch)))
    }

    func acknowledge() async throws -> [(Int32, Int64, Int64)] {
        defer { self.pending.removeAll() }
        var acknowledged: [(Int32, Int64, Int64)] = []
        for (partition, result) in self.pending {
            try await partition.waitUntilDurable(result.lastOffset + 1)
            acknowledged.append((partition.topicPartition.partition, result.baseOffset, result.lastOffset))
        }
        return acknowledged
    }

    func close() async {
        try? self.log.close()
    }
}

final class RemoteSink: RecordSink, @unchecked Sendable {
    let client: KafkaClient
    let topic: String
    let partitionCount: Int32
    var pending: [(Int32, Int32)] = []
    var acknowledged: [(Int32, Int64, Int64)] = []

    init(client: KafkaClient, topic: String) async throws {
        self.client = client
        self.topic = topic
        self.partitionCount = try await client.partitionCount(of: topic)
    }

    var pendingCount: Int { 0 }

    func append(_ batch: RecordBatch, partition: Int32) async throws {
        // One request per batch, acks=all: answered once durable on the broker.
        let offsets = try await self.client.produce(topic: self.topic, batches: [partition: batch])
        if let base = offsets[partition] { self.acknowledged.append((partition, base, base + Int64(batch.recordCount) - 1)) }
    }

    func acknowledge() async throws -> [(Int32, Int64, Int64)] {
        defer { self.acknowledged.removeAll() }
        return self.acknowledged
    }

    func close() async {
        await self.client.close()
    }
}

func codec(named name: String) -> CompressionCodec? {
    CompressionCodec.allCases.first { $0.description == name }
}

/// One line without its newline, or nil at end of input. Handles lines of any length.
func readLine(from file: UnsafeMutablePointer<FILE>) -> String? {
    var linePointer: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(linePointer) }
    let length = getline(&linePointer, &capacity, file)
    guard length >= 0, let linePointer else { return nil }
    var count = length
    if count > 0 && linePointer[count - 1] == 0x0A { count -= 1 }
    if count > 0 && linePointer[count - 1] == 0x0D { count -= 1 }
    return String(decoding: UnsafeRawBufferPointer(start: linePointer, count: count), as: UTF8.self)
}
