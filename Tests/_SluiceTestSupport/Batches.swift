import NIOCore
import SluiceCore
import SluiceLog

/// Builders for the batches tests append.
public enum Batches {
    /// A batch of string records `"<prefix>-<i>"` with optional keys.
    public static func strings(
        _ values: [String], keys: [String?]? = nil, timestamp: Int64 = 1_700_000_000_000,
        compression: CompressionCodec = .none, configure: (inout RecordBatchBuilder) -> Void = { _ in }
    ) -> RecordBatch {
        let records = values.enumerated().map { index, value in
            ProducerRecord(key: keys?[index].map { Array($0.utf8) }, value: Array(value.utf8), timestamp: timestamp + Int64(index))
        }
        return try! RecordBatchBuilder.batch(records, compression: compression, configure: configure)
    }

    /// A batch from an idempotent (or transactional) producer.
    public static func producer(
        id: Int64, epoch: Int16, sequence: Int32, values: [String], transactional: Bool = false, timestamp: Int64 = 1_700_000_000_000
    ) -> RecordBatch {
        strings(values, timestamp: timestamp) { builder in
            builder.producerId = id
            builder.producerEpoch = epoch
            builder.baseSequence = sequence
            builder.isTransactional = transactional
        }
    }
}

extension ByteBuffer {
    /// The readable bytes as a string, for assertions.
    public var string: String { String(buffer: self) }
}

extension Record {
    public var valueString: String? { self.value.map { String(buffer: $0) } }
    public var keyString: String? { self.key.map { String(buffer: $0) } }
}

/// Decodes every record of a fetch result's batches, skipping control batches and, when given,
/// batches of aborted transactions (as a read_committed consumer does).
public func decodeRecords(_ records: ByteBuffer, aborted: [(producerId: Int64, firstOffset: Int64)] = []) throws -> [Record] {
    var result: [Record] = []
    var batches = RecordBatchSequence(records)
    var abortedOpen: [Int64: Int64] = [:]
    var pending = aborted.sorted { $0.firstOffset < $1.firstOffset }
    while let batch = try batches.next() {
        while let first = pending.first, first.firstOffset <= batch.baseOffset {
            abortedOpen[first.producerId] = first.firstOffset
            pending.removeFirst()
        }
        if batch.isControl {
            if let control = try batch.controlRecord(), control.type == .abort { abortedOpen.removeValue(forKey: batch.producerId) }
            continue
        }
        if batch.isTransactional, abortedOpen[batch.producerId] != nil { continue }
        result.append(contentsOf: try batch.records())
    }
    return result
}

/// Every record of a partition from `offset` on (control batches skipped; under read_committed,
/// aborted transactions too), in offset order.
public func readAll(_ partition: Partition, from offset: Int64 = 0, isolation: IsolationLevel = .readUncommitted) throws -> [Record] {
    var records: [Record] = []
    var next = max(offset, partition.startOffset)
    while true {
        let result = try partition.read(from: next, maxBytes: 64 * 1024, isolation: isolation)
        guard result.records.readableBytes > 0 else { break }
        let aborted = result.abortedTransactions.map { (producerId: $0.producerId, firstOffset: $0.firstOffset) }
        var batches = RecordBatchSequence(result.records)
        while let batch = try batches.next() { next = batch.nextOffset }
        records += try decodeRecords(result.records, aborted: aborted).filter { $0.offset >= offset }
    }
    return records
}
