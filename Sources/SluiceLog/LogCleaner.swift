import NIOCore
import SluiceCore

/// What one compaction pass did.
public struct CleanerStats: Sendable, Equatable {
    public var segmentsCleaned = 0
    public var segmentsAfter = 0
    public var bytesBefore: Int64 = 0
    public var bytesAfter: Int64 = 0
    public var recordsRemoved = 0
    public var tombstonesRemoved = 0
}

/// Log compaction: keeps the latest record per key in the closed segments below the last stable
/// offset, keeps tombstones for `delete.retention.ms` after they were first cleaned (KIP-534's
/// delete horizon), drops aborted transactional data, and swaps cleaned segments in crash-safely
/// (`.cleaned` while written, `.swap` once complete, then renamed over the original).
enum LogCleaner {
    /// The most distinct keys one pass maps; beyond it the pass cleans only the segments mapped so far.
    static let offsetMapKeyCountMax = 10_000_000

    /// The offset after the last batch in a segment file (used to complete an interrupted swap).
    static func nextOffset(ofSegmentFile path: String) throws(SluiceError) -> Int64 {
        let file = try LogFile(path: path, create: false)
        let size = try file.size()
        var position: Int64 = 0
        var next: Int64 = 0
        while position < size {
            let header = try file.read(at: position, byteCount: RecordBatch.headerByteCount)
            guard header.readableBytes == RecordBatch.headerByteCount, let batchSize = RecordBatch.sizeOfBatch(in: header, at: 0),
                  batchSize >= RecordBatch.headerByteCount else { break }
            let batch = RecordBatch(unchecked: header)
            guard batch.hasPlausibleOffsets(segmentBaseOffset: 0) else { break }
            next = batch.nextOffset
            position += Int64(batchSize)
        }
        return next
    }

    /// Whether a data batch belongs to an aborted transaction.
    static func isAborted(_ batch: RecordBatch, _ aborted: [Int64: [AbortedTransaction]]) -> Bool {
        guard batch.isTransactional, !batch.isControl, let entries = aborted[batch.producerId] else { return false }
        return entries.contains { batch.baseOffset >= $0.firstOffset && batch.baseOffset <= $0.lastOffset }
    }

    /// Calls `body` for every batch of `segment` below `bound` bytes.
    static func forEachBatch(_ segment: Segment, bound: Int64, _ body: (RecordBatch) throws(SluiceError) -> Void) throws(SluiceError) {
        var position: Int64 = 0
        while position < bound {
            let chunk = try segment.file.read(at: position, byteCount: Int(min(Int64(Segment.scanChunkBytes), bound - position)))
            var batches = RecordBatchSequence(chunk)
            var consumed: Int64 = 0
            while batches.remainingByteCount >= RecordBatch.logOverheadByteCount {
                let before = batches.remainingByteCount
                guard let size = RecordBatch.sizeOfBatch(in: chunk, at: chunk.readableBytes - before), size <= before else { break }
                guard let batch = try batches.next() else { break }
                try body(batch)
                consumed += Int64(size)
            }
            if consumed == 0 {
                // One batch larger than the chunk.
                let header = try segment.file.read(at: position, byteCount: RecordBatch.logOverheadByteCount)
                guard let size = RecordBatch.sizeOfBatch(in: header, at: 0), size > 0 else {
                    throw SluiceError(.corruptData, "\(segment.logPath): bad batch at byte \(position)")
                }
                let whole = try segment.file.read(at: position, byteCount: size)
                try body(RecordBatch(unchecked: whole))
                consumed = Int64(size)
            }
            position += consumed
        }
    }
}

extension Partition {
    /// Runs one compaction pass if the topic is compacted and there is something to clean.
    @discardableResult
    public func compact(now: Int64 = currentTimeMillis()) throws(SluiceError) -> CleanerStats {
        struct Plan {
            var segments: [Segment]
            var bounds: [Int64]
            var aborted: [Int64: [AbortedTransaction]]
            var segmentBytes: Int64
            var deleteRetentionMs: Int64
            var compression: Bool
        }
        // Segments a roll left unsealed are sealed first, so that they may be compacted too.
        try? self.sealPendingSegments()
        let plan: Plan? = self.lock.withLock {
            guard self.config.cleanupPolicy.contains(.compact), !self.isClosed, self.failure == nil else { return nil }
            // Neither the active segment nor one rolled but not yet sealed (`roll`).
            let sealedEnd = self.segments.first(where: \.sealPending)?.baseOffset ?? self.activeSegment.baseOffset
            var cleanableEnd = min(self.lastStableOffsetLocked, sealedEnd)
            if self.config.minCompactionLagMs > 0,
               let young = self.segments.first(where: { now - $0.maxTimestamp < self.config.minCompactionLagMs }) {
                cleanableEnd = min(cleanableEnd, young.baseOffset)
            }
            let candidates = self.segments.filter { $0.nextOffset <= cleanableEnd && !$0.isEmpty }
            guard !candidates.isEmpty else { return nil }
            var aborted: [Int64: [AbortedTransaction]] = [:]
            for segment in self.segments {
                for entry in segment.transactionIndex.entries { aborted[entry.producerId, default: []].append(entry) }
            }
            return Plan(segments: candidates, bounds: candidates.map(\.byteCount), aborted: aborted,
                        segmentBytes: self.config.segmentBytes, deleteRetentionMs: self.config.deleteRetentionMs, compression: true)
        }
        guard let plan else { return CleanerStats() }

        // 1. The latest offset of every key in the cleanable range.
        var latest: [ByteBuffer: Int64] = [:]
        // Each producer's last batch survives even when emptied, so its sequence state survives too.
        var lastBatchOfProducer: [Int64: Int64] = [:]
        var mappedSegmentCount = 0
        mapping: for (segment, bound) in zip(plan.segments, plan.bounds) {
            try LogCleaner.forEachBatch(segment, bound: bound) { (batch) throws(SluiceError) in
                if batch.producerId >= 0 && !batch.isControl { lastBatchOfProducer[batch.producerId] = batch.baseOffset }
                guard !batch.isControl, !LogCleaner.isAborted(batch, plan.aborted) else { return }
                // A batch that does not decode is kept as it is (and skipped by the map).
                guard var reader = try? batch.recordReader() else { return }
                while let record = try? reader.next() {
                    // Copied so the map does not pin whole read chunks in memory.
                    if let key = record.key { latest[ByteBuffer(bytes: key.readableBytesView)] = record.offset }
                }
            }
            mappedSegmentCount += 1
            if latest.count > LogCleaner.offsetMapKeyCountMax { break mapping }
        }

        // 2. Group consecutive segments so that cleaned groups merge into segments of bounded size.
        var groups: [[Int]] = []
        var current: [Int] = []
        var currentBytes: Int64 = 0
        for index in 0..<mappedSegmentCount {
            let segment = plan.segments[index]
            let contiguous = current.last.map { plan.segments[$0].nextOffset <= segment.baseOffset && self.isAdjacent(plan.segments[$0], segment) } ?? true
            if !current.isEmpty && (!contiguous || currentBytes + plan.bounds[index] > plan.segmentBytes
                || segment.nextOffset - plan.segments[current[0]].baseOffset > Int64(UInt32.max) - 1) {
                groups.append(current)
                current = []
                currentBytes = 0
            }
            current.append(index)
            currentBytes += plan.bounds[index]
        }
        if !current.isEmpty { groups.append(current) }

        var stats = CleanerStats()
        for group in groups {
            try self.cleanGroup(group.map { plan.segments[$0] }, bounds: group.map { plan.bounds[$0] }, latest: latest,
                                lastBatchOfProducer: lastBatchOfProducer, aborted: plan.aborted,
                                deleteRetentionMs: plan.deleteRetentionMs, now: now, stats: &stats)
        }
        return stats
    }

    /// Whether `second` directly follows `first` in the current segment list. Lock not held.
    private func isAdjacent(_ first: Segment, _ second: Segment) -> Bool {
        self.lock.withLock {
            guard let index = self.segments.firstIndex(where: { $0 === first }) else { return false }
            return index + 1 < self.segments.count && self.segments[index + 1] === second
        }
    }

    private func cleanGroup(
        _ group: [Segment], bounds: [Int64], latest: [ByteBuffer: Int64], lastBatchOfProducer: [Int64: Int64],
        aborted: [Int64: [AbortedTransaction]],
        deleteRetentionMs: Int64, now: Int64, stats: inout CleanerStats
    ) throws(SluiceError) {
        let base = group[0].baseOffset
        let cleanedPath = Segment.path(self.directory, base, Segment.cleanedSuffix)
        let swapPath = Segment.path(self.directory, base, Segment.swapSuffix)
        let output = try LogFile(path: cleanedPath, create: true)
        try output.truncate(to: 0)
        var position: Int64 = 0
        var offsetIndex = OffsetIndex(baseOffset: base)
        var timeIndex = TimeIndex(baseOffset: base)
        var transactionIndex = TransactionIndex()
        var bytesSinceIndexEntry: Int64 = 0
        var maxTimestamp: Int64 = -1
        var firstBatchTimestamp: Int64?
        var nextOffset = base
        let indexInterval = Int64(self.topicConfig.indexIntervalBytes)

        func write(_ batch: RecordBatch) throws(SluiceError) {
            try output.write(batch.buffer, at: position)
            if bytesSinceIndexEntry >= indexInterval {
                offsetIndex.append(offset: batch.baseOffset, position: position)
                timeIndex.append(timestamp: max(maxTimestamp, batch.maxTimestamp), offset: batch.baseOffset)
                bytesSinceIndexEntry = 0
            }
            bytesSinceIndexEntry += Int64(batch.byteCount)
            position += Int64(batch.byteCount)
            if firstBatchTimestamp == nil { firstBatchTimestamp = batch.maxTimestamp }
            maxTimestamp = max(maxTimestamp, batch.maxTimestamp)
            nextOffset = batch.nextOffset
        }

        do {
            for (segment, bound) in zip(group, bounds) {
                stats.bytesBefore += bound
                for entry in segment.transactionIndex.entries { transactionIndex.append(entry) }
                try LogCleaner.forEachBatch(segment, bound: bound) { (batch) throws(SluiceError) in
                    if batch.isControl {
                        try write(batch)
                        return
                    }
                    if LogCleaner.isAborted(batch, aborted) {
                        stats.recordsRemoved += Int(batch.recordCount)
                        return
                    }
                    var kept: [Record] = []
                    var removedCount = 0
                    var hasTombstone = false
                    let horizonPassed = batch.hasDeleteHorizon && now >= batch.baseTimestamp
                    guard let records = try? batch.records() else {
                        // Undecodable: copied unchanged rather than failing every pass.
                        try write(batch)
                        return
                    }
                    for record in records {
                        let isLatest = record.key.map { latest[$0] == record.offset } ?? true
                        let isTombstone = record.value == nil
                        if !isLatest || (isTombstone && horizonPassed) {
                            removedCount += 1
                            if isTombstone && isLatest { stats.tombstonesRemoved += 1 }
                            continue
                        }
                        hasTombstone = hasTombstone || isTombstone
                        kept.append(record)
                    }
                    stats.recordsRemoved += removedCount
                    let needsHorizon = hasTombstone && !batch.hasDeleteHorizon
                    if removedCount == 0 && !needsHorizon {
                        try write(batch)
                        return
                    }
                    let keepsProducerState = batch.producerId >= 0 && lastBatchOfProducer[batch.producerId] == batch.baseOffset
                    guard !kept.isEmpty || keepsProducerState else { return }
                    var builder = RecordBatchBuilder(compression: batch.compression ?? .none)
                    builder.lastOffsetDeltaOverride = batch.lastOffsetDelta
                    builder.baseOffset = batch.baseOffset
                    builder.partitionLeaderEpoch = batch.partitionLeaderEpoch
                    builder.isTransactional = batch.isTransactional
                    builder.producerId = batch.producerId
                    builder.producerEpoch = batch.producerEpoch
                    builder.baseSequence = batch.baseSequence
                    builder.timestampType = batch.timestampType
                    if hasTombstone { builder.deleteHorizon = batch.hasDeleteHorizon ? batch.baseTimestamp : now + deleteRetentionMs }
                    for record in kept {
                        builder.append(
                            ProducerRecord(key: record.key.map { Array($0.readableBytesView) }, value: record.value.map { Array($0.readableBytesView) },
                                           headers: record.headers.map { ($0.key, $0.value.map { Array($0.readableBytesView) }) },
                                           timestamp: record.timestamp),
                            offsetDelta: Int32(record.offset - batch.baseOffset))
                    }
                    var rebuilt = try builder.build()
                    if batch.timestampType == .logAppendTime { rebuilt.setLogAppendTime(batch.maxTimestamp) }
                    try write(rebuilt)
                }
            }
            try output.sync()
            try FileSystem.rename(cleanedPath, swapPath)
            try FileSystem.syncDirectory(self.directory)
        } catch {
            try? FileSystem.remove(cleanedPath)
            throw error
        }

        // Swap in under the lock, unless retention or truncation changed the group meanwhile.
        let replaced: Bool = try self.lock.withLock { () throws(SluiceError) -> Bool in
            guard let first = self.segments.firstIndex(where: { $0 === group[0] }),
                  first + group.count <= self.segments.count - 1,
                  zip(self.segments[first..<(first + group.count)], group).allSatisfy({ $0 === $1 }),
                  zip(group, bounds).allSatisfy({ $0.byteCount == $1 })
            else { return false }
            for segment in group.dropFirst() { try segment.deleteFiles() }
            for suffix in [Segment.indexSuffix, Segment.timeIndexSuffix, Segment.transactionIndexSuffix] {
                try FileSystem.remove(Segment.path(self.directory, base, suffix))
            }
            try FileSystem.rename(swapPath, Segment.path(self.directory, base, Segment.logSuffix))
            let cleaned = try Segment(openingIn: self.directory, baseOffset: base)
            cleaned.reset(byteCount: position, nextOffset: max(nextOffset, group.last!.nextOffset), maxTimestamp: maxTimestamp,
                          firstBatchTimestamp: firstBatchTimestamp, offsetIndex: offsetIndex, timeIndex: timeIndex,
                          transactionIndex: transactionIndex, bytesSinceIndexEntry: bytesSinceIndexEntry)
            try cleaned.persistIndexes()
            self.segments.replaceSubrange(first..<(first + group.count), with: [cleaned])
            try FileSystem.syncDirectory(self.directory)
            return true
        }
        if replaced {
            stats.segmentsCleaned += group.count
            stats.segmentsAfter += 1
            stats.bytesAfter += position
        } else {
            try FileSystem.remove(swapPath)
        }
    }
}
