import ArgumentParser
import Foundation
import NIOCore
import SluiceCore
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
            let log = try self.data.openLog()
            defer { try? log.close() }
            let partitions = try log.partitions(of: self.topic)
            if let partition = self.partition, partition < 0 || Int(partition) >= partitions.count {
                throw SluiceError(.unknownPartition, "topic '\(self.topic)' has no partition \(partition) (it has \(partitions.count))")
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
            var inFlight: [(Partition, AppendResult)] = []
            var roundRobin: Int32 = 0
            var lineNumber = 0
            var total = 0

            func flushBuilder(_ partitionIndex: Int32) async throws {
                guard let builder = builders.removeValue(forKey: partitionIndex), builder.recordCount > 0 else { return }
                let partition = partitions[Int(partitionIndex)]
                let result = try partition.append(try builder.build())
                inFlight.append((partition, result))
                if inFlight.count >= Self.batchesInFlightMax { try await acknowledge() }
            }

            func acknowledge() async throws {
                for (partition, result) in inFlight {
                    try await partition.waitUntilDurable(result.lastOffset + 1)
                    if !self.quiet {
                        printFlushed("\(partition.topicPartition): offsets \(result.baseOffset)-\(result.lastOffset) acknowledged")
                    }
                }
                inFlight.removeAll()
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
                    partitionIndex = Murmur2.partition(forKey: key, partitionCount: Int32(partitions.count))
                } else {
                    partitionIndex = roundRobin
                }
                var builder = builders[partitionIndex] ?? RecordBatchBuilder(compression: codec)
                builder.append(ProducerRecord(key: key, value: Array(rest.utf8), headers: headerPairs, timestamp: recordTimestamp))
                builders[partitionIndex] = builder
                total += 1
                if builder.recordCount >= self.batchRecords {
                    try await flushBuilder(partitionIndex)
                    if self.partition == nil && key == nil { roundRobin = (roundRobin + 1) % Int32(partitions.count) }
                }
            }
            for partitionIndex in builders.keys.sorted() { try await flushBuilder(partitionIndex) }
            try await acknowledge()
            if !self.quiet { printFlushed("\(total) record\(total == 1 ? "" : "s") acknowledged") }
        }
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
