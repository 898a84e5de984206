import NIOCore
import SluiceCore

/// Where a scan of a segment stopped early, and why.
public struct CorruptionReport: Sendable, CustomStringConvertible {
    public var topicPartition: TopicPartition?
    /// The segment's base offset.
    public var segmentBaseOffset: Int64
    /// The byte position in the segment's `.log` file where the first invalid batch starts.
    public var bytePosition: Int64
    /// The offset the log expected next at that point.
    public var offset: Int64
    public var reason: String
    /// Bytes dropped from this segment (later segments are dropped whole).
    public var truncatedByteCount: Int64

    public var description: String {
        let where_ = self.topicPartition.map { "\($0) " } ?? ""
        return "\(where_)segment \(self.segmentBaseOffset): invalid data at offset \(self.offset), byte \(self.bytePosition): \(self.reason); \(self.truncatedByteCount) bytes truncated"
    }
}

extension Segment {
    /// What a full scan of the segment found.
    struct ScanResult {
        var validByteCount: Int64
        var nextOffset: Int64
        var maxTimestamp: Int64
        var firstBatchTimestamp: Int64?
        var offsetIndex: OffsetIndex
        var timeIndex: TimeIndex
        var bytesSinceIndexEntry: Int64
        var batchCount: Int
        /// Set when the scan met invalid bytes before the end of the file.
        var corruption: (position: Int64, offset: Int64, reason: String)?
    }

    /// Bytes read at a time while scanning.
    static let scanChunkBytes = 8 * 1024 * 1024

    /// Reads every batch from the start, validating size, magic, CRC and offset order, rebuilding the
    /// offset and time indexes, and handing each valid batch to `visit`. Stops at the first invalid
    /// byte. Does not modify the segment.
    func scan(
        expectedFirstOffset: Int64,
        indexIntervalBytes: Int32,
        visit: (RecordBatch, Int64) throws(SluiceError) -> Void
    ) throws(SluiceError) -> ScanResult {
        let fileSize = try self.file.size()
        var result = ScanResult(
            validByteCount: 0, nextOffset: max(expectedFirstOffset, self.baseOffset), maxTimestamp: -1, firstBatchTimestamp: nil,
            offsetIndex: OffsetIndex(baseOffset: self.baseOffset), timeIndex: TimeIndex(baseOffset: self.baseOffset),
            bytesSinceIndexEntry: 0, batchCount: 0, corruption: nil)
        var chunk = ByteBuffer()
        var chunkStart: Int64 = 0
        var position: Int64 = 0
        func fail(_ reason: String) {
            result.corruption = (position, result.nextOffset, reason)
        }
        scanning: while position < fileSize {
            // Make sure the chunk holds at least the next batch's header.
            var offsetInChunk = Int(position - chunkStart)
            if chunk.readableBytes - offsetInChunk < RecordBatch.logOverheadByteCount {
                chunk.clear()
                chunkStart = position
                offsetInChunk = 0
                try self.file.read(at: position, byteCount: Int(min(Int64(Self.scanChunkBytes), fileSize - position)), into: &chunk)
                if chunk.readableBytes < RecordBatch.logOverheadByteCount {
                    fail("\(chunk.readableBytes) trailing bytes are too few for a batch header")
                    break scanning
                }
            }
            let size = RecordBatch.sizeOfBatch(in: chunk, at: offsetInChunk)!
            guard size >= RecordBatch.headerByteCount, size <= Limits.batchBytesMax else {
                fail("batch length \(size) is out of bounds")
                break scanning
            }
            guard position + Int64(size) <= fileSize else {
                fail("batch of \(size) bytes is cut off by the end of the file")
                break scanning
            }
            if chunk.readableBytes - offsetInChunk < size {
                chunk.clear()
                chunkStart = position
                offsetInChunk = 0
                try self.file.read(at: position, byteCount: max(size, Int(min(Int64(Self.scanChunkBytes), fileSize - position))), into: &chunk)
            }
            let batch = RecordBatch(unchecked: chunk.getSlice(at: chunk.readerIndex + offsetInChunk, length: size)!)
            do {
                try batch.validate()
            } catch {
                fail(error.message)
                break scanning
            }
            guard batch.hasPlausibleOffsets(segmentBaseOffset: self.baseOffset) else {
                fail("batch base offset \(batch.baseOffset) with last offset delta \(batch.lastOffsetDelta) does not fit the segment")
                break scanning
            }
            guard batch.baseOffset >= result.nextOffset else {
                fail("batch base offset \(batch.baseOffset) does not follow \(result.nextOffset - 1)")
                break scanning
            }
            try visit(batch, position)
            if result.bytesSinceIndexEntry >= Int64(indexIntervalBytes) {
                result.offsetIndex.append(offset: batch.baseOffset, position: position)
                result.timeIndex.append(timestamp: max(result.maxTimestamp, batch.maxTimestamp), offset: batch.baseOffset)
                result.bytesSinceIndexEntry = 0
            }
            result.bytesSinceIndexEntry += Int64(size)
            if result.firstBatchTimestamp == nil { result.firstBatchTimestamp = batch.maxTimestamp }
            result.maxTimestamp = max(result.maxTimestamp, batch.maxTimestamp)
            result.nextOffset = batch.nextOffset
            result.batchCount += 1
            position += Int64(size)
            result.validByteCount = position
        }
        return result
    }
}
