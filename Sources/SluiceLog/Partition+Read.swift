import NIOCore
import SluiceCore

extension Partition {
    /// Bytes read beyond `maxBytes` in one go, to reach the requested offset from its index entry.
    static let readSlackBytes = 64 * 1024

    /// Reads whole batches starting with the one that holds `offset`, up to `maxBytes` (the first
    /// batch is returned whole even when larger), bounded by the high watermark or, under
    /// read_committed, the last stable offset. Every batch served is checked (size, magic, CRC).
    public func read(from offset: Int64, maxBytes: Int, isolation: IsolationLevel = .readUncommitted) throws(SluiceError) -> FetchResult {
        struct Plan {
            var segments: ArraySlice<Segment>
            var startPosition: Int64
            var bounds: [Int64]
            /// Per segment, where the partition's page-cache tail starts (drop-behind), or nil.
            var cachedFrom: [Int64]?
        }
        let (plan, highWatermark, lastStable, logStart, aborted) = try self.lock.withLock { () throws(SluiceError) -> (Plan?, Int64, Int64, Int64, [AbortedTransaction]) in
            if let failure = self.failure { throw failure }
            let highWatermark = self.highWatermarkLocked
            let lastStable = self.lastStableOffsetLocked
            // Between the high watermark and the log end the data exists but is not visible yet: an
            // empty answer, not an out-of-range error that would make a consumer reset.
            guard offset >= self.logStartOffset, offset <= self.activeSegment.nextOffset else {
                throw SluiceError(.offsetOutOfRange, "offset \(offset) of \(self.topicPartition) is outside \(self.logStartOffset)...\(self.activeSegment.nextOffset)")
            }
            let upper = isolation == .readCommitted ? lastStable : highWatermark
            guard offset < upper else { return (nil, highWatermark, lastStable, self.logStartOffset, []) }
            var index = self.segmentIndex(containing: offset)
            while index < self.segments.count - 1 && self.segments[index].nextOffset <= offset { index += 1 }
            let segment = self.segments[index]
            let start = segment.offsetIndex.position(for: offset).position
            var aborted: [AbortedTransaction] = []
            if isolation == .readCommitted {
                for candidate in self.segments[index...] {
                    for entry in candidate.transactionIndex.entries where entry.lastOffset >= offset && entry.firstOffset < upper {
                        aborted.append(entry)
                    }
                }
            }
            let slice = self.segments[index...]
            let bounds = slice.map(\.byteCount)
            let cachedFrom = self.pageCacheTailBytes.map { Self.cacheTailStarts(bounds, tailBytes: $0) }
            return (Plan(segments: slice, startPosition: start, bounds: bounds, cachedFrom: cachedFrom), highWatermark, lastStable, self.logStartOffset, aborted)
        }
        guard let plan else {
            return FetchResult(records: ByteBuffer(), highWatermark: highWatermark, lastStableOffset: lastStable, logStartOffset: logStart, abortedTransactions: [])
        }
        let upper = isolation == .readCommitted ? lastStable : highWatermark
        var position = plan.startPosition
        for (index, (segment, bound)) in zip(plan.segments, plan.bounds).enumerated() {
            let records = try Self.readBatches(segment: segment, from: position, bound: bound, offset: offset, upper: upper, maxBytes: maxBytes)
            if let cachedFrom = plan.cachedFrom?[index], position + Int64(records.readableBytes) <= cachedFrom {
                // A reader catching up: what it read before the tail leaves the page cache again,
                // rather than pushing out the tail that readers keeping up need.
                segment.file.dropCachedPages(from: LogFile.folioAlignedStart(before: position), upTo: position + Int64(records.readableBytes))
            }
            if records.readableBytes > 0 {
                return FetchResult(records: records, highWatermark: highWatermark, lastStableOffset: lastStable,
                                   logStartOffset: logStart, abortedTransactions: aborted)
            }
            position = 0
        }
        return FetchResult(records: ByteBuffer(), highWatermark: highWatermark, lastStableOffset: lastStable, logStartOffset: logStart, abortedTransactions: aborted)
    }

    /// The index of the last segment whose base offset is at or below `offset`. Lock held.
    func segmentIndex(containing offset: Int64) -> Int {
        var low = 0, high = self.segments.count
        while low < high {
            let middle = (low + high) / 2
            if self.segments[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
        }
        return max(low - 1, 0)
    }

    /// Reads batches of one segment from `position` (a batch boundary at or before the one holding
    /// `offset`) until `maxBytes`, the byte `bound` or the offset `upper`.
    static func readBatches(segment: Segment, from position: Int64, bound: Int64, offset: Int64, upper: Int64, maxBytes: Int) throws(SluiceError) -> ByteBuffer {
        guard position < bound else { return ByteBuffer() }
        let wanted = Int(min(Int64(maxBytes) + Int64(readSlackBytes), bound - position))
        let chunk = try segment.file.read(at: position, byteCount: wanted)
        var cursor = 0
        var firstIncluded: Int?
        var end = 0
        while true {
            guard chunk.readableBytes - cursor >= RecordBatch.logOverheadByteCount,
                  let size = RecordBatch.sizeOfBatch(in: chunk, at: cursor)
            else {
                if firstIncluded == nil && cursor > 0 && position + Int64(cursor) < bound {
                    // The next header straddles the chunk's end: read on from there.
                    return try readBatches(segment: segment, from: position + Int64(cursor), bound: bound, offset: offset, upper: upper, maxBytes: maxBytes)
                }
                break
            }
            guard size >= RecordBatch.headerByteCount, size <= Limits.batchBytesMax else {
                throw SluiceError(.corruptData, "\(segment.logPath): batch length \(size) at byte \(position + Int64(cursor)) is invalid")
            }
            if chunk.readableBytes - cursor < size {
                guard firstIncluded == nil else { break }
                if position + Int64(cursor) + Int64(size) > bound { break }
                // The first wanted batch is larger than the chunk: read it whole.
                let batchStart = position + Int64(cursor)
                let whole = try segment.file.read(at: batchStart, byteCount: size)
                let batch = RecordBatch(unchecked: whole)
                if batch.lastOffset < offset {
                    return try readBatches(segment: segment, from: batchStart + Int64(size), bound: bound, offset: offset, upper: upper, maxBytes: maxBytes)
                }
                try Self.check(batch, segment: segment, position: batchStart)
                return batch.lastOffset < upper ? whole : ByteBuffer()
            }
            let batch = RecordBatch(unchecked: chunk.getSlice(at: cursor, length: size)!)
            if batch.lastOffset >= upper { break }
            if batch.lastOffset >= offset {
                if let first = firstIncluded, end - first + size > maxBytes { break }
                try Self.check(batch, segment: segment, position: position + Int64(cursor))
                if firstIncluded == nil { firstIncluded = cursor }
                end = cursor + size
            }
            cursor += size
        }
        guard let first = firstIncluded else { return ByteBuffer() }
        return chunk.getSlice(at: first, length: end - first)!
    }

    private static func check(_ batch: RecordBatch, segment: Segment, position: Int64) throws(SluiceError) {
        do {
            try batch.validate()
        } catch {
            throw SluiceError(.corruptData, "\(segment.logPath): batch at byte \(position) is corrupt: \(error.message)")
        }
    }

    /// The first record at or after `timestamp`: its offset and timestamp, nil when none.
    public func offset(forTimestamp timestamp: Int64) throws(SluiceError) -> (offset: Int64, timestamp: Int64)? {
        let start: Int64? = self.lock.withLock {
            guard let segment = self.segments.first(where: { $0.maxTimestamp >= timestamp }) else { return nil }
            return max(segment.timeIndex.scanStart(for: timestamp), self.logStartOffset, segment.baseOffset)
        }
        guard var cursor = start else { return nil }
        while true {
            let result: FetchResult
            do {
                result = try self.read(from: cursor, maxBytes: 1024 * 1024)
            } catch where error.code == .offsetOutOfRange {
                return nil
            }
            guard result.records.readableBytes > 0 else { return nil }
            var batches = RecordBatchSequence(result.records)
            while let batch = try batches.next() {
                cursor = batch.nextOffset
                guard batch.maxTimestamp >= timestamp, !batch.isControl else { continue }
                var reader = try batch.recordReader()
                while let record = try reader.next() {
                    if record.timestamp >= timestamp && record.offset >= result.logStartOffset { return (record.offset, record.timestamp) }
                }
            }
        }
    }
}
