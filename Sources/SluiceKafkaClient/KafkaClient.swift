import NIOCore
import SluiceCore
import SluiceKafkaProtocol

/// Produce and fetch over one broker connection, for `sluice produce|consume --bootstrap`.
public struct KafkaClient: Sendable {
    public let connection: KafkaConnection

    public init(bootstrap: String, clientId: String = "sluice") async throws {
        guard let colon = bootstrap.lastIndex(of: ":"), let port = Int(bootstrap[bootstrap.index(after: colon)...]) else {
            throw SluiceError(.invalidConfiguration, "bootstrap address '\(bootstrap)' is not HOST:PORT")
        }
        do {
            self.connection = try await KafkaConnection(host: String(bootstrap[..<colon]), port: port, clientId: clientId)
        } catch let error as SluiceError {
            throw error
        } catch {
            throw SluiceError(.ioFailure, "cannot connect to \(bootstrap)", underlying: error)
        }
    }

    /// The partition count of a topic; throws when the topic does not exist.
    public func partitionCount(of topic: String) async throws -> Int32 {
        var request = MetadataRequest()
        request.topics = [.init(name: topic)]
        request.allowAutoTopicCreation = false
        let response = try await self.connection.send(request, as: MetadataResponse.self)
        guard let entry = response.topics.first(where: { $0.name == topic }) else {
            throw SluiceError(.unknownTopic, "topic '\(topic)' does not exist")
        }
        if entry.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue {
            throw SluiceError(.unknownTopic, "topic '\(topic)' does not exist")
        }
        try KafkaErrorCode(rawValue: entry.errorCode).check("metadata of \(topic)")
        return Int32(entry.partitions.count)
    }

    /// Appends batches (one per partition) with acks=all; returns each partition's base offset.
    public func produce(topic: String, batches: [Int32: RecordBatch], acks: Int16 = -1, timeoutMs: Int32 = 30_000) async throws -> [Int32: Int64] {
        var request = ProduceRequest(transactionalId: nil, acks: acks, timeoutMs: timeoutMs, topicData: [])
        request.topicData = [.init(name: topic, partitionData: batches.sorted { $0.key < $1.key }.map { .init(index: $0.key, records: $0.value.buffer) })]
        if acks == 0 {
            try await self.connection.sendWithoutResponse(request)
            return [:]
        }
        let response = try await self.connection.send(request, as: ProduceResponse.self)
        var offsets: [Int32: Int64] = [:]
        for topicResponse in response.responses {
            for partition in topicResponse.partitionResponses {
                let code = KafkaErrorCode(rawValue: partition.errorCode)
                guard code == .noError else {
                    throw SluiceError(.invalidRequest, "produce to \(topic)-\(partition.index) failed: \(code.name)\(partition.errorMessage.map { ": \($0)" } ?? "")")
                }
                offsets[partition.index] = partition.baseOffset
            }
        }
        return offsets
    }

    /// Kafka's special ListOffsets timestamps.
    public static let latest: Int64 = -1
    public static let earliest: Int64 = -2

    /// The offset for `timestamp` (or `latest`/`earliest`) in each partition.
    public func listOffsets(topic: String, partitions: [Int32], timestamp: Int64, readCommitted: Bool) async throws -> [Int32: Int64] {
        var request = ListOffsetsRequest()
        request.replicaId = -1
        request.isolationLevel = readCommitted ? 1 : 0
        request.topics = [.init(name: topic, partitions: partitions.map { .init(partitionIndex: $0, timestamp: timestamp) })]
        let response = try await self.connection.send(request, as: ListOffsetsResponse.self)
        var offsets: [Int32: Int64] = [:]
        for partition in response.topics.flatMap(\.partitions) {
            try KafkaErrorCode(rawValue: partition.errorCode).check("ListOffsets of \(topic)-\(partition.partitionIndex)")
            offsets[partition.partitionIndex] = partition.offset >= 0 ? partition.offset : (partition.oldStyleOffsets.first ?? -1)
        }
        return offsets
    }

    /// One fetch of every partition from its position, waiting up to `maxWaitMs` for data.
    public func fetch(topic: String, positions: [Int32: Int64], readCommitted: Bool, maxWaitMs: Int32 = 500,
                      partitionBytesMax: Int32 = 1 << 20) async throws -> [Int32: (records: [Record], nextOffset: Int64)] {
        var request = FetchRequest()
        request.replicaId = -1
        request.maxWaitMs = maxWaitMs
        request.minBytes = 1
        request.maxBytes = 50 << 20
        request.isolationLevel = readCommitted ? 1 : 0
        let version = try await self.connection.version(of: .fetch)
        let topicId: KafkaUUID
        if version >= 13 {
            var metadata = MetadataRequest()
            metadata.topics = [.init(name: topic)]
            metadata.allowAutoTopicCreation = false
            topicId = try await self.connection.send(metadata, as: MetadataResponse.self).topics.first?.topicId ?? .zero
        } else {
            topicId = .zero
        }
        request.topics = [.init(topic: topic, topicId: topicId, partitions: positions.sorted { $0.key < $1.key }.map {
            .init(partition: $0.key, fetchOffset: $0.value, partitionMaxBytes: partitionBytesMax)
        })]
        let response = try await self.connection.send(request, version: version, as: FetchResponse.self)
        try KafkaErrorCode(rawValue: response.errorCode).check("fetch")
        var result: [Int32: (records: [Record], nextOffset: Int64)] = [:]
        for partition in response.responses.flatMap(\.partitions) {
            try KafkaErrorCode(rawValue: partition.errorCode).check("fetch of \(topic)-\(partition.partitionIndex)")
            let start = positions[partition.partitionIndex] ?? 0
            var records: [Record] = []
            var next = start
            let aborted = partition.abortedTransactions ?? []
            var batches = RecordBatchSequence(partition.records ?? ByteBuffer())
            while batches.remainingByteCount > 0 {
                // A fetch may end with a partial batch (max bytes); it is read next time.
                guard let batch = try? batches.next() else { break }
                next = max(next, batch.nextOffset)
                if batch.isControl { continue }
                if readCommitted && batch.isTransactional,
                   aborted.contains(where: { $0.producerId == batch.producerId && $0.firstOffset <= batch.baseOffset }),
                   try !Self.committedLater(batch, in: partition.records ?? ByteBuffer()) {
                    continue
                }
                var reader = try batch.recordReader()
                while let record = try reader.next() {
                    if record.offset >= start { records.append(record) }
                }
            }
            result[partition.partitionIndex] = (records, next)
        }
        return result
    }

    /// Whether the transaction of `batch` ends with a commit marker in `records` (a later
    /// transaction of the same producer can reuse a listed aborted id's range otherwise).
    private static func committedLater(_ batch: RecordBatch, in records: ByteBuffer) throws -> Bool {
        var batches = RecordBatchSequence(records)
        while let candidate = try? batches.next() {
            guard candidate.baseOffset > batch.baseOffset, candidate.isControl, candidate.producerId == batch.producerId else { continue }
            return try candidate.controlRecord()?.type == .commit
        }
        return false
    }

    public func close() async {
        await self.connection.close()
    }
}
