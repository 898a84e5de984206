import SluiceCore
import SluiceLog
import SluiceNexmark

#if canImport(Glibc)
import Glibc
#endif

/// Where `sluice datagen nexmark` writes: events are appended synchronously, and the sink may wait
/// (for durability, for the disk) at the end of each chunk.
protocol NexmarkSink {
    /// For the summary: a file name or a topic.
    var destination: String { get }
    mutating func append(_ event: NexmarkEvent, eventNumber: Int64) throws(SluiceError)
    mutating func endChunk() async throws
    /// Writes what is buffered, makes it durable and closes; returns the bytes of JSON written.
    mutating func finish() async throws -> Int64
    /// Closes after a failure, without waiting.
    mutating func abandon() async
}

/// JSON lines into a file (or stdout), through a buffer of `bufferByteCount`.
struct NexmarkFileSink: NexmarkSink {
    /// Bytes buffered before a write.
    static let bufferByteCount = 1 << 20

    let destination: String
    private let descriptor: Int32
    private let isStandardOutput: Bool
    private var buffer: [UInt8] = []
    private var writtenByteCount: Int64 = 0

    init(path: String) throws(SluiceError) {
        self.isStandardOutput = path == "-"
        self.destination = self.isStandardOutput ? "stdout" : path
        if self.isStandardOutput {
            self.descriptor = 1
        } else {
            self.descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard self.descriptor >= 0 else {
                throw SluiceError(.ioFailure, "cannot create \(path)", underlying: Errno(errno))
            }
        }
        self.buffer.reserveCapacity(Self.bufferByteCount + 64 * 1024)
    }

    mutating func append(_ event: NexmarkEvent, eventNumber: Int64) throws(SluiceError) {
        NexmarkJSON.append(event, to: &self.buffer)
        self.buffer.append(UInt8(ascii: "\n"))
        if self.buffer.count >= Self.bufferByteCount { try self.writeBuffer() }
    }

    mutating func endChunk() async throws {}

    mutating func finish() async throws -> Int64 {
        try self.writeBuffer()
        if !self.isStandardOutput {
            // EINVAL: a file that cannot be synced, such as /dev/null or a pipe.
            guard fsync(self.descriptor) == 0 || errno == EINVAL else {
                throw SluiceError(.ioFailure, "cannot sync \(self.destination)", underlying: Errno(errno))
            }
            close(self.descriptor)
        }
        return self.writtenByteCount
    }

    mutating func abandon() async {
        if !self.isStandardOutput { close(self.descriptor) }
    }

    private mutating func writeBuffer() throws(SluiceError) {
        var offset = 0
        while offset < self.buffer.count {
            let written = self.buffer.withUnsafeBytes { bytes in
                write(self.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw SluiceError(.ioFailure, "cannot write \(self.destination)", underlying: Errno(errno))
            }
            offset += written
        }
        self.writtenByteCount += Int64(self.buffer.count)
        self.buffer.removeAll(keepingCapacity: true)
    }
}

/// Records into a topic of the embedded log: null key, the event's JSON as value, its dateTime as
/// timestamp, event n into partition n modulo the partition count, in batches of `batchRecordCount`
/// records or `batchByteCount` bytes.
struct NexmarkTopicSink: NexmarkSink {
    /// Bytes of records per batch at most: half a topic's default max.message.bytes (1 MiB), and never
    /// more than half the topic's own.
    static let batchByteCountMax = 512 * 1024
    /// Batches appended and not yet known durable, at most: bounds the memory awaiting a sync.
    static let batchesInFlightMax = 32

    let destination: String
    private let log: Log
    private let partitions: [Partition]
    private let batchRecordCount: Int
    private let batchByteCount: Int
    private var builders: [RecordBatchBuilder]
    private var pending: [(partition: Partition, endOffset: Int64)] = []
    private var value: [UInt8] = []
    private var writtenByteCount: Int64 = 0

    /// Creates the topic with `partitionCount` partitions (default 1) and no time retention when it is
    /// absent; an existing topic must have `partitionCount` partitions when that is given.
    init(log: Log, topic: String, partitionCount: Int32?, batchRecordCount: Int) throws(SluiceError) {
        do throws(SluiceError) {
            if log.topicNames.contains(topic) {
                let existing = try log.topicConfig(topic).partitionCount
                if let partitionCount, partitionCount != existing {
                    throw SluiceError(
                        .invalidConfiguration,
                        "topic '\(topic)' exists with \(existing) partition\(existing == 1 ? "" : "s"), not \(partitionCount)"
                    )
                }
            } else {
                var config = TopicConfig(partitionCount: partitionCount ?? 1)
                config.retentionMs = -1
                try config.validate()
                try log.createTopic(topic, config: config)
            }
            self.partitions = try log.partitions(of: topic)
        } catch {
            try? log.close()
            throw error
        }
        self.log = log
        self.destination =
            "topic '\(topic)' (\(self.partitions.count) partition\(self.partitions.count == 1 ? "" : "s"))"
        self.batchRecordCount = batchRecordCount
        self.batchByteCount = min(Self.batchByteCountMax, Int(self.partitions[0].topicConfig.maxMessageBytes) / 2)
        self.builders = self.partitions.map { _ in RecordBatchBuilder() }
    }

    mutating func append(_ event: NexmarkEvent, eventNumber: Int64) throws(SluiceError) {
        let index = Int(eventNumber % Int64(self.partitions.count))
        self.value.removeAll(keepingCapacity: true)
        NexmarkJSON.append(event, to: &self.value)
        self.writtenByteCount += Int64(self.value.count)
        self.builders[index].append(ProducerRecord(key: nil, value: self.value, timestamp: event.dateTime))
        if self.builders[index].recordCount >= self.batchRecordCount
            || self.builders[index].encodedByteCount >= self.batchByteCount
        {
            try self.appendBatch(index)
        }
    }

    mutating func endChunk() async throws {
        if self.pending.count >= Self.batchesInFlightMax { try await self.waitForPending() }
    }

    mutating func finish() async throws -> Int64 {
        for index in self.builders.indices { try self.appendBatch(index) }
        try self.log.flush()
        try await self.waitForPending()
        try self.log.close()
        return self.writtenByteCount
    }

    mutating func abandon() async {
        try? self.log.close()
    }

    private mutating func appendBatch(_ index: Int) throws(SluiceError) {
        guard self.builders[index].recordCount > 0 else { return }
        let batch = try self.builders[index].build()
        self.builders[index] = RecordBatchBuilder()
        let result = try self.partitions[index].append(batch)
        self.pending.append((self.partitions[index], result.lastOffset + 1))
    }

    private mutating func waitForPending() async throws {
        for (partition, endOffset) in self.pending { try await partition.waitUntilDurable(endOffset) }
        self.pending.removeAll()
    }
}
