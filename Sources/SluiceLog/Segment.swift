import NIOCore
import SluiceCore

/// One segment of a partition: a `.log` file of record batches starting at `baseOffset`, with its
/// offset, time and aborted-transaction indexes. All mutation happens under the partition's lock;
/// readers take the file and a byte bound under the lock and read without it.
final class Segment: @unchecked Sendable {
    let directory: String
    let baseOffset: Int64
    let file: LogFile
    /// Bytes of valid batches in the file.
    private(set) var byteCount: Int64
    /// The offset after the last batch, `baseOffset` while empty.
    private(set) var nextOffset: Int64
    /// The largest timestamp of any batch, -1 while empty.
    private(set) var maxTimestamp: Int64 = -1
    /// The max timestamp of the first batch: segment.ms counts from it.
    private(set) var firstBatchTimestamp: Int64?
    var offsetIndex: OffsetIndex
    var timeIndex: TimeIndex
    var transactionIndex = TransactionIndex()
    private var bytesSinceIndexEntry: Int64 = 0
    /// Wall-clock milliseconds when this process created or opened the segment.
    let openedAt = currentTimeMillis()
    /// Whether bytes were written since the last fsync.
    var isDirty = false
    /// Rolled, with its indexes not yet persisted (`Partition.PendingSeal`): retention and compaction
    /// leave it alone until the flush that seals it is done.
    var sealPending = false
    /// Bytes from the start that drop-behind removed from the page cache (flush lock).
    var cacheDroppedBytes: Int64 = 0
    /// Where the disk blocks reserved ahead of the writes end (`reserveSpace`); 0 when none are.
    private var reservedEnd: Int64 = 0
    /// Whether the filesystem refused a reservation (unsupported, or the disk full): not asked again.
    private var reservationRefused = false

    /// How far ahead of its writes a busy segment reserves disk blocks, and how much a segment must
    /// hold before it does: a partition that takes little data reserves nothing, and one that takes
    /// a lot asks the filesystem once per this many bytes rather than once per page. What is reserved
    /// past the end is given back at roll (so a segment that takes no more writes and never rolls
    /// keeps up to a step until retention rolls it).
    static let reservationStepBytes: Int64 = 8 * 1024 * 1024

    static let logSuffix = ".log"
    static let indexSuffix = ".index"
    static let timeIndexSuffix = ".timeindex"
    static let transactionIndexSuffix = ".txnindex"
    static let cleanedSuffix = ".cleaned"
    static let swapSuffix = ".swap"

    var logPath: String { Self.path(self.directory, self.baseOffset, Self.logSuffix) }

    static func path(_ directory: String, _ baseOffset: Int64, _ suffix: String) -> String {
        directory + "/" + segmentFileStem(baseOffset) + suffix
    }

    /// A new, empty segment.
    init(creatingIn directory: String, baseOffset: Int64) throws(SluiceError) {
        self.directory = directory
        self.baseOffset = baseOffset
        let path = Self.path(directory, baseOffset, Self.logSuffix)
        self.file = try LogFile(path: path, create: true)
        try self.file.truncate(to: 0)
        self.byteCount = 0
        self.nextOffset = baseOffset
        self.offsetIndex = OffsetIndex(baseOffset: baseOffset)
        self.timeIndex = TimeIndex(baseOffset: baseOffset)
    }

    /// An existing segment whose batches are not scanned yet: `recover` or `loadIndexes` follows.
    init(openingIn directory: String, baseOffset: Int64) throws(SluiceError) {
        self.directory = directory
        self.baseOffset = baseOffset
        self.file = try LogFile(path: Self.path(directory, baseOffset, Self.logSuffix), create: false)
        self.byteCount = try self.file.size()
        self.nextOffset = baseOffset
        self.offsetIndex = OffsetIndex(baseOffset: baseOffset)
        self.timeIndex = TimeIndex(baseOffset: baseOffset)
    }

    var isEmpty: Bool { self.byteCount == 0 }

    /// The newest timestamp for time retention: the largest record timestamp, or the file's
    /// modification time when records carry none (Kafka's fallback).
    var retentionTimestamp: Int64 {
        if self.maxTimestamp >= 0 { return self.maxTimestamp }
        return (try? self.file.modificationTimeMillis()) ?? currentTimeMillis()
    }

    // MARK: Appending

    /// Writes a batch at `baseOffset` with partition leader epoch `leaderEpoch`: the two header
    /// fields outside the CRC are rewritten on the way to the file, the batch itself is not copied.
    /// On failure the file is cut back so the segment stays as it was.
    func append(_ batch: RecordBatch, baseOffset: Int64, leaderEpoch: Int32, indexIntervalBytes: Int32) throws(SluiceError) {
        precondition(baseOffset >= self.nextOffset, "offsets must increase: \(baseOffset) after \(self.nextOffset)")
        let position = self.byteCount
        var header: [UInt8] = []
        header.reserveCapacity(RecordBatch.Field.magic)
        appendBigEndian(baseOffset, to: &header)
        appendBigEndian(batch.batchLength, to: &header)
        appendBigEndian(leaderEpoch, to: &header)
        do {
            try batch.buffer.withUnsafeReadableBytes { raw in Result { () throws(SluiceError) in
                try self.file.write(prefix: header, rest: UnsafeRawBufferPointer(rebasing: raw[RecordBatch.Field.magic...]), at: position)
            } }.get()
        } catch {
            try? self.file.truncate(to: position)
            self.reservedEnd = 0
            throw error
        }
        self.recordAppended(baseOffset: baseOffset, nextOffset: baseOffset + Int64(batch.lastOffsetDelta) + 1,
                            maxTimestamp: batch.maxTimestamp, byteCount: Int64(batch.byteCount), at: position, indexIntervalBytes: indexIntervalBytes)
    }

    /// Reserves disk blocks for the next `byteCount` bytes and a step beyond, once the segment holds
    /// a step: a busy active segment's writes then land in allocated blocks (as Redpanda's
    /// segment fallocation step does). The file's size does not change, so recovery reads what it did.
    func reserveSpace(forAppending byteCount: Int64) {
        let end = self.byteCount + byteCount
        guard end > self.reservedEnd, self.byteCount >= Self.reservationStepBytes, !self.reservationRefused else { return }
        let start = max(self.reservedEnd, self.byteCount)
        let reservedEnd = end + Self.reservationStepBytes
        if self.file.preallocate(from: start, byteCount: reservedEnd - start) {
            self.reservedEnd = reservedEnd
        } else {
            self.reservationRefused = true
        }
    }

    /// Gives back the blocks reserved past the end (at roll, once the segment takes no more writes),
    /// those of an earlier process too: a segment active across a restart or a crash was reserved
    /// by a process that no longer knows it, so the blocks the file holds decide, not what this
    /// process reserved. A file without a reservation is left alone: the cut would move its
    /// modification time, which time retention reads when records carry no timestamps.
    func releaseReservedSpace() {
        defer { self.reservedEnd = 0 }
        // Only disk space is at stake: a failure leaves the blocks reserved, nothing else.
        guard let allocated = try? self.file.allocatedBytes(), allocated > self.byteCount + Self.unreservedSlackBytes else { return }
        try? self.file.truncate(to: self.byteCount)
    }

    /// Bytes a file may hold past its size without a reservation (its last block, rounded up).
    static let unreservedSlackBytes: Int64 = 64 * 1024

    /// Updates sizes and indexes for a batch now stored at `position`.
    func recordAppended(baseOffset: Int64, nextOffset: Int64, maxTimestamp: Int64, byteCount size: Int64, at position: Int64, indexIntervalBytes: Int32) {
        if self.bytesSinceIndexEntry >= Int64(indexIntervalBytes) {
            self.offsetIndex.append(offset: baseOffset, position: position)
            self.timeIndex.append(timestamp: max(self.maxTimestamp, maxTimestamp), offset: baseOffset)
            self.bytesSinceIndexEntry = 0
        }
        self.bytesSinceIndexEntry += size
        self.byteCount = position + size
        self.nextOffset = nextOffset
        if self.firstBatchTimestamp == nil { self.firstBatchTimestamp = maxTimestamp }
        self.maxTimestamp = max(self.maxTimestamp, maxTimestamp)
        self.isDirty = true
    }

    /// Cuts the segment at `position` (a batch boundary) with `nextOffset` the offset after it.
    func truncate(toPosition position: Int64, nextOffset: Int64) throws(SluiceError) {
        try self.file.truncate(to: position)
        self.reservedEnd = 0
        self.byteCount = position
        self.nextOffset = nextOffset
        self.offsetIndex.truncate(toPosition: position)
        self.timeIndex.truncate(toOffset: nextOffset)
        self.transactionIndex.truncate(toOffset: nextOffset)
        self.isDirty = true
    }

    // MARK: Index files

    /// Writes the three index files and syncs them (at roll and at clean shutdown).
    func persistIndexes() throws(SluiceError) {
        for (suffix, bytes) in [
            (Self.indexSuffix, self.offsetIndex.serialized),
            (Self.timeIndexSuffix, self.timeIndex.serialized),
            (Self.transactionIndexSuffix, self.transactionIndex.serialized),
        ] {
            // Atomic: a crash leaves the old file or the new one, never a torn index that a later
            // clean start would trust.
            try FileSystem.writeAtomically(bytes, to: Self.path(self.directory, self.baseOffset, suffix))
        }
    }

    /// Loads index files written by a clean shutdown or a roll, checking them against the data.
    /// `nextOffset` and `maxTimestamp` come from the last batch.
    func loadIndexes() throws(SluiceError) {
        let offsetBytes = try FileSystem.readAll(Self.path(self.directory, self.baseOffset, Self.indexSuffix))
        self.offsetIndex = try OffsetIndex(baseOffset: self.baseOffset, serialized: offsetBytes, segmentByteCount: self.byteCount)
        // The last batch gives the next offset; the index only helps to reach it.
        let tail = try self.scanTail()
        self.nextOffset = tail.nextOffset
        self.maxTimestamp = tail.maxTimestamp
        self.firstBatchTimestamp = tail.firstBatchTimestamp
        self.bytesSinceIndexEntry = tail.bytesSinceIndexEntry
        let timeBytes = try FileSystem.readAll(Self.path(self.directory, self.baseOffset, Self.timeIndexSuffix))
        self.timeIndex = try TimeIndex(baseOffset: self.baseOffset, serialized: timeBytes, nextOffset: self.nextOffset)
        let transactionBytes = try FileSystem.readAll(Self.path(self.directory, self.baseOffset, Self.transactionIndexSuffix))
        self.transactionIndex = try TransactionIndex(serialized: transactionBytes, segmentBaseOffset: self.baseOffset)
    }

    /// Walks batch headers from the last index entry to the end to find the next offset. Max
    /// timestamp comes from the time index's last entry or the walked batches.
    private func scanTail() throws(SluiceError) -> (nextOffset: Int64, maxTimestamp: Int64, firstBatchTimestamp: Int64?, bytesSinceIndexEntry: Int64) {
        var nextOffset = self.baseOffset
        var maxTimestamp: Int64 = -1
        var firstTimestamp: Int64?
        if self.byteCount > 0 {
            let first = try self.file.read(at: 0, byteCount: RecordBatch.headerByteCount)
            firstTimestamp = first.getInteger(at: RecordBatch.Field.maxTimestamp, as: Int64.self)
        }
        let start = self.offsetIndex.entries.last.map { Int64($0.position) } ?? 0
        var position = start
        var header = ByteBuffer()
        while position < self.byteCount {
            header.clear()
            try self.file.read(at: position, byteCount: RecordBatch.headerByteCount, into: &header)
            guard header.readableBytes == RecordBatch.headerByteCount,
                  let size = RecordBatch.sizeOfBatch(in: header, at: 0), size >= RecordBatch.headerByteCount,
                  position + Int64(size) <= self.byteCount
            else {
                throw SluiceError(.corruptData, "segment \(self.baseOffset) has a bad batch header at byte \(position)")
            }
            let batch = RecordBatch(unchecked: header)
            guard batch.hasPlausibleOffsets(segmentBaseOffset: self.baseOffset) else {
                throw SluiceError(.corruptData, "segment \(self.baseOffset) has a batch with impossible offsets at byte \(position)")
            }
            nextOffset = batch.nextOffset
            maxTimestamp = max(maxTimestamp, batch.maxTimestamp)
            position += Int64(size)
        }
        let indexedMax = self.timeIndexMaxFromFile()
        return (nextOffset, max(maxTimestamp, indexedMax), firstTimestamp, position - start)
    }

    private func timeIndexMaxFromFile() -> Int64 {
        guard let bytes = try? FileSystem.readAll(Self.path(self.directory, self.baseOffset, Self.timeIndexSuffix)),
              bytes.count >= TimeIndex.entryByteCount
        else { return -1 }
        return readBigEndian(bytes, bytes.count - TimeIndex.entryByteCount)
    }

    /// Removes the segment's files.
    func deleteFiles() throws(SluiceError) {
        for suffix in [Self.logSuffix, Self.indexSuffix, Self.timeIndexSuffix, Self.transactionIndexSuffix] {
            try FileSystem.remove(Self.path(self.directory, self.baseOffset, suffix))
        }
    }

    /// Replaces this segment's state with what a scan found (recovery and index rebuilds).
    func reset(byteCount: Int64, nextOffset: Int64, maxTimestamp: Int64, firstBatchTimestamp: Int64?,
               offsetIndex: OffsetIndex, timeIndex: TimeIndex, transactionIndex: TransactionIndex, bytesSinceIndexEntry: Int64) {
        self.byteCount = byteCount
        self.nextOffset = nextOffset
        self.maxTimestamp = maxTimestamp
        self.firstBatchTimestamp = firstBatchTimestamp
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        self.transactionIndex = transactionIndex
        self.bytesSinceIndexEntry = bytesSinceIndexEntry
    }
}
