import NIOCore
import SluiceCore

extension Partition {
    /// Decoded records from `offset` on, as a consumer sees them: control records dropped and, under
    /// read_committed, aborted transactional records dropped. `nextOffset` is where to read next
    /// (past skipped batches too); equal to `offset` when nothing is available yet.
    public func readRecords(from offset: Int64, maxBytes: Int, isolation: IsolationLevel = .readUncommitted) throws(SluiceError) -> (records: [Record], nextOffset: Int64) {
        let result = try self.read(from: offset, maxBytes: maxBytes, isolation: isolation)
        var records: [Record] = []
        var next = offset
        var batches = RecordBatchSequence(result.records)
        while let batch = try batches.next() {
            next = batch.nextOffset
            if batch.isControl { continue }
            if isolation == .readCommitted && result.isAborted(batch) { continue }
            var reader = try batch.recordReader()
            while let record = try reader.next() {
                if record.offset >= offset { records.append(record) }
            }
        }
        return (records, next)
    }
}
