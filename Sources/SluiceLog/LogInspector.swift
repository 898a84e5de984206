import NIOCore
import SluiceCore

/// Read-only inspection of a data directory, for `sluice log verify` and `sluice log dump`: reads the
/// files as they are, recovers nothing and changes nothing.
public enum LogInspector {
    /// What verification found in one partition.
    public struct PartitionReport: Sendable {
        public var topicPartition: TopicPartition
        public var segmentCount = 0
        public var batchCount = 0
        public var byteCount: Int64 = 0
        public var firstOffset: Int64?
        public var nextOffset: Int64 = 0
        /// Corrupt data or indexes that disagree with it.
        public var problems: [String] = []
        /// Findings that recovery resolves on its own (indexes not yet written after an unclean stop).
        public var warnings: [String] = []
    }

    public struct Report: Sendable {
        public var partitions: [PartitionReport] = []
        public var cleanShutdown: Bool
        public var isClean: Bool { self.partitions.allSatisfy(\.problems.isEmpty) }
    }

    /// A batch's header, for dumps.
    public struct BatchSummary: Sendable {
        public var position: Int64
        public var byteCount: Int
        public var baseOffset: Int64
        public var lastOffset: Int64
        public var recordCount: Int32
        public var maxTimestamp: Int64
        public var compression: String
        public var producerId: Int64
        public var producerEpoch: Int16
        public var baseSequence: Int32
        public var isTransactional: Bool
        public var control: String?
        public var crcValid: Bool
    }

    public struct SegmentSummary: Sendable {
        public var baseOffset: Int64
        public var byteCount: Int64
        public var batches: [BatchSummary]
        public var offsetIndex: [(offset: Int64, position: Int64)]
        public var timeIndex: [(timestamp: Int64, offset: Int64)]
        public var abortedTransactions: [AbortedTransaction]
        public var problem: String?
    }

    public struct ProducerSummary: Sendable {
        public var producerId: Int64
        public var epoch: Int16
        public var lastSequence: Int32?
        public var lastOffset: Int64?
        public var currentTransactionFirstOffset: Int64?
    }

    public struct PartitionDump: Sendable {
        public var topicPartition: TopicPartition
        public var logStartOffset: Int64?
        public var recoveryPoint: Int64?
        public var segments: [SegmentSummary]
        public var snapshotOffset: Int64?
        public var producers: [ProducerSummary]
    }

    /// The partitions of the directory: (topic-partition, directory), optionally of one topic.
    static func partitionDirectories(_ directory: String, topic: String?) throws(SluiceError) -> [(TopicPartition, String)] {
        let topicsDirectory = directory + "/topics"
        guard FileSystem.isDirectory(topicsDirectory) else {
            throw SluiceError(.invalidConfiguration, "\(directory) is not a Sluice data directory (no topics folder)")
        }
        var result: [(TopicPartition, String)] = []
        for name in try FileSystem.list(topicsDirectory) where !Log.isLeftover(name) {
            if let topic, topic != name { continue }
            let topicDirectory = topicsDirectory + "/" + name
            guard FileSystem.isDirectory(topicDirectory) else { continue }
            for entry in try FileSystem.list(topicDirectory) {
                guard let index = Int32(entry), FileSystem.isDirectory(topicDirectory + "/" + entry) else { continue }
                result.append((TopicPartition(name, index), topicDirectory + "/" + entry))
            }
        }
        if let topic, result.isEmpty { throw SluiceError(.unknownTopic, "topic '\(topic)' does not exist in \(directory)") }
        return result.sorted { $0.0 < $1.0 }
    }

    static func segmentBases(_ directory: String) throws(SluiceError) -> [Int64] {
        try FileSystem.list(directory).compactMap { name -> Int64? in
            guard name.hasSuffix(Segment.logSuffix) else { return nil }
            return Int64(name.dropLast(Segment.logSuffix.count))
        }.sorted()
    }

    /// Validates every batch of every segment (size, magic, CRC, offset order) and checks the index
    /// files against the data.
    public static func verify(directory: String, topic: String? = nil) throws(SluiceError) -> Report {
        let clean = FileSystem.exists(directory + "/" + Log.cleanShutdownFile)
        // A writer appending meanwhile would make the active segment look torn.
        let lock = try DirectoryLock(directory: directory)
        defer { lock.release() }
        var report = Report(cleanShutdown: clean)
        for (topicPartition, partitionDirectory) in try partitionDirectories(directory, topic: topic) {
            var partition = PartitionReport(topicPartition: topicPartition)
            let bases = try segmentBases(partitionDirectory)
            var expected: Int64 = bases.first ?? 0
            for (index, base) in bases.enumerated() {
                let isActive = index == bases.count - 1
                let segment = try Segment(openingIn: partitionDirectory, baseOffset: base)
                var batchStarts: [Int64: (baseOffset: Int64, maxTimestampSoFar: Int64)] = [:]
                var maxSoFar: Int64 = -1
                let scan = try segment.scan(expectedFirstOffset: expected, indexIntervalBytes: Int32.max) { (batch, position) throws(SluiceError) in
                    maxSoFar = max(maxSoFar, batch.maxTimestamp)
                    batchStarts[position] = (batch.baseOffset, maxSoFar)
                }
                partition.segmentCount += 1
                partition.batchCount += scan.batchCount
                partition.byteCount += scan.validByteCount
                if scan.batchCount > 0 && partition.firstOffset == nil { partition.firstOffset = batchStarts[0]?.baseOffset }
                if let corruption = scan.corruption {
                    partition.problems.append("\(topicPartition) segment \(base): invalid data at offset \(corruption.offset), byte \(corruption.position): \(corruption.reason)")
                }
                expected = scan.nextOffset
                partition.nextOffset = scan.nextOffset
                // Indexes: trusted only where a clean shutdown or a roll wrote them.
                var indexIssues: [String] = []
                let indexPath = Segment.path(partitionDirectory, base, Segment.indexSuffix)
                let timePath = Segment.path(partitionDirectory, base, Segment.timeIndexSuffix)
                let transactionPath = Segment.path(partitionDirectory, base, Segment.transactionIndexSuffix)
                if let bytes = try? FileSystem.readAll(indexPath) {
                    do {
                        let offsetIndex = try OffsetIndex(baseOffset: base, serialized: bytes, segmentByteCount: scan.validByteCount)
                        for entry in offsetIndex.entries {
                            let offset = base + Int64(entry.relativeOffset)
                            if batchStarts[Int64(entry.position)]?.baseOffset != offset {
                                indexIssues.append("offset index entry (offset \(offset), byte \(entry.position)) does not point at the batch starting at that offset")
                            }
                        }
                    } catch {
                        indexIssues.append(error.message)
                    }
                } else {
                    indexIssues.append("offset index file is missing")
                }
                if let bytes = try? FileSystem.readAll(timePath) {
                    do {
                        let timeIndex = try TimeIndex(baseOffset: base, serialized: bytes, nextOffset: max(scan.nextOffset, base + 1))
                        let byOffset = Dictionary(batchStarts.values.map { ($0.baseOffset, $0.maxTimestampSoFar) }, uniquingKeysWith: { a, _ in a })
                        for entry in timeIndex.entries {
                            let offset = base + Int64(entry.relativeOffset)
                            if byOffset[offset] != entry.timestamp {
                                indexIssues.append("time index entry (timestamp \(entry.timestamp), offset \(offset)) disagrees with the data")
                            }
                        }
                    } catch {
                        indexIssues.append(error.message)
                    }
                } else {
                    indexIssues.append("time index file is missing")
                }
                if let bytes = try? FileSystem.readAll(transactionPath) {
                    if let error = Result(catching: { () throws(SluiceError) in try TransactionIndex(serialized: bytes, segmentBaseOffset: base) }).failure {
                        indexIssues.append(error.message)
                    }
                } else {
                    indexIssues.append("transaction index file is missing")
                }
                for issue in indexIssues {
                    let message = "\(topicPartition) segment \(base): \(issue)"
                    if isActive && !clean {
                        partition.warnings.append(message + " (the active segment's indexes are rebuilt when the log opens after an unclean stop)")
                    } else {
                        partition.problems.append(message)
                    }
                }
            }
            for offset in Partition.snapshotOffsets(in: partitionDirectory) {
                let path = partitionDirectory + "/" + ProducerStateManager.snapshotFileName(offset)
                do {
                    _ = try ProducerStateManager(snapshot: try FileSystem.readAll(path))
                } catch {
                    partition.warnings.append("\(topicPartition): producer state snapshot \(offset) is unreadable (\(error.message)); recovery rebuilds state from the log")
                }
            }
            report.partitions.append(partition)
        }
        return report
    }

    /// Segments, batch headers, indexes and producer state of the partitions of `topic`.
    public static func dump(directory: String, topic: String, partition: Int32? = nil, batchesPerSegmentMax: Int = Int.max) throws(SluiceError) -> [PartitionDump] {
        var dumps: [PartitionDump] = []
        for (topicPartition, partitionDirectory) in try partitionDirectories(directory, topic: topic) {
            if let partition, partition != topicPartition.partition { continue }
            var segments: [SegmentSummary] = []
            for base in try segmentBases(partitionDirectory) {
                let segment = try Segment(openingIn: partitionDirectory, baseOffset: base)
                var batches: [BatchSummary] = []
                let scan = try segment.scan(expectedFirstOffset: base, indexIntervalBytes: Int32.max) { (batch, position) throws(SluiceError) in
                    guard batches.count < batchesPerSegmentMax else { return }
                    let control = try? batch.controlRecord()
                    batches.append(BatchSummary(
                        position: position, byteCount: batch.byteCount, baseOffset: batch.baseOffset, lastOffset: batch.lastOffset,
                        recordCount: batch.recordCount, maxTimestamp: batch.maxTimestamp, compression: batch.compression?.description ?? "unknown",
                        producerId: batch.producerId, producerEpoch: batch.producerEpoch, baseSequence: batch.baseSequence,
                        isTransactional: batch.isTransactional, control: control.map { "\($0.type)" }, crcValid: true))
                }
                let offsetIndex = (try? FileSystem.readAll(Segment.path(partitionDirectory, base, Segment.indexSuffix)))
                    .flatMap { try? OffsetIndex(baseOffset: base, serialized: $0, segmentByteCount: Int64.max) }
                let timeIndex = (try? FileSystem.readAll(Segment.path(partitionDirectory, base, Segment.timeIndexSuffix)))
                    .flatMap { try? TimeIndex(baseOffset: base, serialized: $0, nextOffset: Int64.max) }
                let transactions = (try? FileSystem.readAll(Segment.path(partitionDirectory, base, Segment.transactionIndexSuffix)))
                    .flatMap { try? TransactionIndex(serialized: $0, segmentBaseOffset: base) }
                segments.append(SegmentSummary(
                    baseOffset: base, byteCount: scan.validByteCount, batches: batches,
                    offsetIndex: offsetIndex?.entries.map { (base + Int64($0.relativeOffset), Int64($0.position)) } ?? [],
                    timeIndex: timeIndex?.entries.map { ($0.timestamp, base + Int64($0.relativeOffset)) } ?? [],
                    abortedTransactions: transactions?.entries ?? [],
                    problem: scan.corruption.map { "invalid data at offset \($0.offset), byte \($0.position): \($0.reason)" }))
            }
            var producers: [ProducerSummary] = []
            let snapshotOffset = Partition.snapshotOffsets(in: partitionDirectory).last
            if let snapshotOffset,
               let state = try? ProducerStateManager(snapshot: FileSystem.readAll(partitionDirectory + "/" + ProducerStateManager.snapshotFileName(snapshotOffset))) {
                producers = state.producers.values.sorted { $0.producerId < $1.producerId }.map {
                    ProducerSummary(producerId: $0.producerId, epoch: $0.epoch, lastSequence: $0.lastSequence, lastOffset: $0.lastOffset,
                                    currentTransactionFirstOffset: $0.currentTransactionFirstOffset)
                }
            }
            dumps.append(PartitionDump(
                topicPartition: topicPartition,
                logStartOffset: Partition.readOffsetFile(partitionDirectory + "/" + Partition.logStartOffsetFile),
                recoveryPoint: Partition.readOffsetFile(partitionDirectory + "/" + Partition.recoveryPointFile),
                segments: segments, snapshotOffset: snapshotOffset, producers: producers))
        }
        return dumps
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
