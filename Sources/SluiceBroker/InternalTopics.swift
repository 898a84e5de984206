import NIOCore
import SluiceCore
import SluiceLog

/// The compacted topics where coordinators keep their state: committed offsets and group metadata in
/// `__consumer_offsets`, transaction state in `__transaction_state`. One partition each: one node
/// coordinates every group and transaction.
enum InternalTopics {
    static let consumerOffsets = "__consumer_offsets"
    static let transactionState = "__transaction_state"
    /// The topics only the coordinators write.
    static let coordinatorTopics: Set<String> = [consumerOffsets, transactionState]

    /// Creates the topic if it does not exist and returns its only partition.
    static func partition(_ name: String, in log: Log) throws(SluiceError) -> Partition {
        if !log.topicNames.contains(name) {
            var config = TopicConfig(partitionCount: 1)
            config.cleanupPolicy = .compact
            config.segmentBytes = 100 * 1024 * 1024
            config.retentionMs = -1
            try log.createTopic(name, config: config)
        }
        return try log.partition(TopicPartition(name, 0))
    }

    /// Every record of the partition in offset order, transactional ones included, with the batch
    /// facts a coordinator needs to replay transactions.
    static func replay(
        _ partition: Partition,
        _ body: (_ record: Record, _ producerId: Int64, _ isTransactional: Bool) throws(SluiceError) -> Void,
        control: (_ producerId: Int64, _ type: ControlRecordType) throws(SluiceError) -> Void
    ) throws(SluiceError) {
        var offset = partition.startOffset
        while true {
            let result = try partition.read(from: offset, maxBytes: 4 * 1024 * 1024)
            guard result.records.readableBytes > 0 else { return }
            var batches = RecordBatchSequence(result.records)
            while let batch = try batches.next() {
                offset = batch.nextOffset
                if batch.isControl {
                    if let marker = try batch.controlRecord() { try control(batch.producerId, marker.type) }
                    continue
                }
                var reader = try batch.recordReader()
                while let record = try reader.next() { try body(record, batch.producerId, batch.isTransactional) }
            }
        }
    }
}
