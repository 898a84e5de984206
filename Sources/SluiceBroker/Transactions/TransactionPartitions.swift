import NIOConcurrencyHelpers
import SluiceCore

/// What a produce request checks of the transaction coordinator without waiting for it (Kafka's
/// KIP-890 verification): per transactional producer id, its current epoch and, while a transaction
/// is ongoing, the partitions added to it. A transactional batch for a partition that was never
/// added (a late retry after the transaction ended, a buggy client) is refused: appended, it would
/// open a transaction that no marker ever closes, and hold the partition's last stable offset back.
///
/// The coordinator updates it after each state change is persisted; clients add a partition and wait
/// for the answer before they produce to it, and wait for their produce answers before they end a
/// transaction, so the checks see the state that the client saw.
final class TransactionPartitions: Sendable {
    struct Entry: Sendable, Equatable {
        var epoch: Int16
        /// The partitions of the ongoing transaction; nil when none is ongoing.
        var ongoing: Set<TopicPartition>?
    }

    private let entries = NIOLockedValueBox<[Int64: Entry]>([:])

    /// Records a transactional id's new state; `previousProducerId` is the id it had before, if any.
    func update(_ metadata: TransactionMetadata, previousProducerId: Int64?) {
        let entry = Entry(epoch: metadata.producerEpoch, ongoing: metadata.state == .ongoing ? metadata.partitions : nil)
        self.entries.withLockedValue { entries in
            if let previousProducerId, previousProducerId != metadata.producerId { entries.removeValue(forKey: previousProducerId) }
            entries[metadata.producerId] = entry
        }
    }

    enum Verdict: Equatable {
        case allowed
        /// The coordinator knows a newer epoch for this producer id: a fenced instance.
        case fenced
        /// No ongoing transaction of this producer holds the partition.
        case notInTransaction
    }

    /// Whether a transactional batch of `producerId` at `epoch` may be appended to `partition`.
    func verdict(producerId: Int64, epoch: Int16, partition: TopicPartition) -> Verdict {
        self.entries.withLockedValue { entries in
            guard let entry = entries[producerId] else { return .notInTransaction }
            if epoch < entry.epoch { return .fenced }
            return epoch == entry.epoch && entry.ongoing?.contains(partition) == true ? .allowed : .notInTransaction
        }
    }
}
