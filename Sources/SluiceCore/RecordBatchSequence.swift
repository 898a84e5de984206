import NIOCore

/// Walks the record batches concatenated in a buffer (a fetch response's records, a segment chunk),
/// slicing each without copying. Throws on a batch that is cut off or has an impossible length.
public struct RecordBatchSequence: Sendable {
    private let buffer: ByteBuffer
    private var cursor: Int

    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
        self.cursor = buffer.readerIndex
    }

    /// Bytes not yet walked.
    public var remainingByteCount: Int { self.buffer.writerIndex - self.cursor }

    /// The next batch (structure checked, CRC not), or nil at the end.
    public mutating func next() throws(SluiceError) -> RecordBatch? {
        guard self.cursor < self.buffer.writerIndex else { return nil }
        guard let size = RecordBatch.sizeOfBatch(in: self.buffer, at: self.cursor),
              size >= RecordBatch.headerByteCount, self.cursor + size <= self.buffer.writerIndex
        else {
            throw SluiceError(.corruptData, "record batch at byte \(self.cursor - self.buffer.readerIndex) is cut off or has a bad length")
        }
        let batch = RecordBatch(unchecked: self.buffer.getSlice(at: self.cursor, length: size)!)
        self.cursor += size
        return batch
    }
}
