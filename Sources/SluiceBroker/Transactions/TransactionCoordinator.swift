import NIOCore
import SluiceCore
import SluiceLog

/// The errors a transaction coordinator answers with; the broker maps them to Kafka error codes.
enum TransactionError: Error, Sendable, Equatable {
    case invalidProducerIdMapping
    case producerFenced
    case invalidProducerEpoch
    case concurrentTransactions
    case invalidTransactionState
    case invalidTransactionTimeout
    case coordinatorNotAvailable
    case unknownServerError(String)
}

/// Allocates producer ids and runs transactions: InitProducerId, AddPartitionsToTxn,
/// AddOffsetsToTxn and EndTxn, with state persisted to `__transaction_state` before each answer,
/// commit and abort markers written to every partition of a transaction, fencing by epoch, and
/// transactions aborted when they outlive their timeout.
actor TransactionCoordinator {
    private let log: Log
    private let statePartition: Partition
    private let groups: GroupCoordinator
    /// The produce lanes: markers are appended through them, after the batches enqueued before.
    private let appendLanes: AppendLanes
    private var transactions: [String: TransactionMetadata] = [:]
    /// The ongoing transactions' partitions, for produce requests to check (see `store`).
    nonisolated let partitions = TransactionPartitions()
    /// Transactional ids with a state change in flight: others wait or get CONCURRENT_TRANSACTIONS.
    private var busy: Set<String> = []
    private var nextProducerId: Int64 = 0
    private var producerIdBlockEnd: Int64 = 0
    let transactionTimeoutMsMax: Int32

    static let producerIdBlockSize: Int64 = 1000
    static let producerIdBlockKey: [UInt8] = Array("\u{0}producer-id-block".utf8)
    static let tickInterval: Duration = .milliseconds(200)

    init(log: Log, groups: GroupCoordinator, appendLanes: AppendLanes, transactionTimeoutMsMax: Int32) throws(SluiceError) {
        self.log = log
        self.groups = groups
        self.appendLanes = appendLanes
        self.transactionTimeoutMsMax = transactionTimeoutMsMax
        self.statePartition = try InternalTopics.partition(InternalTopics.transactionState, in: log)
        var transactions: [String: TransactionMetadata] = [:]
        var blockEnd: Int64 = 0
        try InternalTopics.replay(self.statePartition, { (record, _, _) throws(SluiceError) in
            guard let key = record.key else { return }
            let keyBytes = Array(key.readableBytesView)
            if keyBytes == Self.producerIdBlockKey {
                if let value = record.value, value.readableBytes == 8 { blockEnd = value.getInteger(at: value.readerIndex, as: Int64.self)! }
                return
            }
            let id = String(decoding: keyBytes, as: UTF8.self)
            if let value = record.value {
                transactions[id] = try TransactionMetadata(transactionalId: id, serialized: Array(value.readableBytesView))
            } else {
                transactions.removeValue(forKey: id)
            }
        }, control: { _, _ throws(SluiceError) in })
        self.transactions = transactions
        for metadata in transactions.values { self.partitions.update(metadata, previousProducerId: nil) }
        // Ids of the last block may have been handed out: start after it.
        self.nextProducerId = blockEnd
        self.producerIdBlockEnd = blockEnd
    }

    /// After a restart, finishes transactions that were preparing to commit or abort.
    func completePendingTransactions() async {
        for (id, metadata) in self.transactions where metadata.state == .prepareCommit || metadata.state == .prepareAbort {
            try? await self.writeMarkersAndComplete(id, metadata, commit: metadata.state == .prepareCommit)
        }
    }

    func runTicker() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.tickInterval)
            await self.abortTimedOutTransactions(now: currentTimeMillis())
        }
    }

    // MARK: Producer ids

    private func allocateProducerId() async throws -> Int64 {
        if self.nextProducerId >= self.producerIdBlockEnd {
            let end = self.producerIdBlockEnd + Self.producerIdBlockSize
            var value: [UInt8] = []
            value.appendInteger(end)
            let batch = try RecordBatchBuilder.batch([ProducerRecord(key: Self.producerIdBlockKey, value: value, timestamp: currentTimeMillis())])
            _ = try await self.statePartition.appendDurably(batch)
            self.producerIdBlockEnd = end
        }
        defer { self.nextProducerId += 1 }
        return self.nextProducerId
    }

    private func persist(_ metadata: TransactionMetadata) async throws {
        let batch = try RecordBatchBuilder.batch([ProducerRecord(key: Array(metadata.transactionalId.utf8), value: metadata.serialized,
                                                                 timestamp: currentTimeMillis())])
        _ = try await self.statePartition.appendDurably(batch)
    }

    // MARK: InitProducerId

    /// A producer id and epoch: fresh for an idempotent producer; for a transactional id, the same id
    /// with the epoch bumped (fencing older instances), after aborting an unfinished transaction.
    func initProducerId(transactionalId: String?, timeoutMs: Int32, producerId: Int64, producerEpoch: Int16) async -> Result<(Int64, Int16), TransactionError> {
        guard let transactionalId, !transactionalId.isEmpty else {
            do { return .success((try await self.allocateProducerId(), 0)) } catch { return .failure(.coordinatorNotAvailable) }
        }
        guard timeoutMs > 0 && timeoutMs <= self.transactionTimeoutMsMax else { return .failure(.invalidTransactionTimeout) }
        guard !self.busy.contains(transactionalId) else { return .failure(.concurrentTransactions) }
        self.busy.insert(transactionalId)
        defer { self.busy.remove(transactionalId) }
        let now = currentTimeMillis()
        do {
            guard var metadata = self.transactions[transactionalId] else {
                let id = try await self.allocateProducerId()
                let metadata = TransactionMetadata(transactionalId: transactionalId, producerId: id, producerEpoch: 0, timeoutMs: timeoutMs, state: .empty, now: now)
                try await self.persist(metadata)
                self.store(transactionalId, metadata)
                return .success((id, 0))
            }
            // KIP-360: a producer asking to bump its own epoch must name its current id and epoch.
            if producerId >= 0 && (producerId != metadata.producerId || producerEpoch != metadata.producerEpoch) {
                return .failure(producerId != metadata.producerId ? .invalidProducerIdMapping : .producerFenced)
            }
            switch metadata.state {
            case .prepareCommit, .prepareAbort, .prepareEpochFence:
                return .failure(.concurrentTransactions)
            case .ongoing:
                // A new instance fences the old one: its transaction is aborted with a bumped epoch.
                metadata.producerEpoch += 1
                try await self.writeMarkersAndComplete(transactionalId, metadata, commit: false)
                metadata = self.transactions[transactionalId]!
            default:
                break
            }
            if metadata.producerEpoch >= Int16.max - 1 {
                metadata.producerId = try await self.allocateProducerId()
                metadata.producerEpoch = 0
            } else {
                metadata.producerEpoch += 1
            }
            metadata.timeoutMs = timeoutMs
            metadata.state = .empty
            metadata.partitions = []
            metadata.groups = []
            metadata.lastUpdateTimestampMs = now
            try await self.persist(metadata)
            self.store(transactionalId, metadata)
            return .success((metadata.producerId, metadata.producerEpoch))
        } catch {
            return .failure(.coordinatorNotAvailable)
        }
    }

    // MARK: Adding partitions and groups

    /// Keeps a transactional id's state, once persisted, and tells produce requests.
    private func store(_ transactionalId: String, _ metadata: TransactionMetadata) {
        let previous = self.transactions.updateValue(metadata, forKey: transactionalId)
        self.partitions.update(metadata, previousProducerId: previous?.producerId)
    }

    private func validate(_ transactionalId: String, producerId: Int64, producerEpoch: Int16) -> Result<TransactionMetadata, TransactionError> {
        guard let metadata = self.transactions[transactionalId], metadata.producerId == producerId else {
            return .failure(.invalidProducerIdMapping)
        }
        guard producerEpoch == metadata.producerEpoch else { return .failure(.producerFenced) }
        return .success(metadata)
    }

    func addPartitions(transactionalId: String, producerId: Int64, producerEpoch: Int16, partitions: [TopicPartition]) async -> TransactionError? {
        await self.add(transactionalId, producerId: producerId, producerEpoch: producerEpoch) { $0.partitions.formUnion(partitions) }
    }

    func addOffsets(transactionalId: String, producerId: Int64, producerEpoch: Int16, groupId: String) async -> TransactionError? {
        await self.add(transactionalId, producerId: producerId, producerEpoch: producerEpoch) { $0.groups.insert(groupId) }
    }

    /// Checks a TxnOffsetCommit: the producer owns the id and added the group with AddOffsetsToTxn.
    func validateGroupInTransaction(transactionalId: String, producerId: Int64, producerEpoch: Int16, groupId: String) -> TransactionError? {
        switch self.validate(transactionalId, producerId: producerId, producerEpoch: producerEpoch) {
        case .failure(let error):
            return error
        case .success(let metadata):
            return metadata.state == .ongoing && metadata.groups.contains(groupId) ? nil : .invalidTransactionState
        }
    }

    private func add(_ transactionalId: String, producerId: Int64, producerEpoch: Int16, _ change: (inout TransactionMetadata) -> Void) async -> TransactionError? {
        guard !self.busy.contains(transactionalId) else { return .concurrentTransactions }
        var metadata: TransactionMetadata
        switch self.validate(transactionalId, producerId: producerId, producerEpoch: producerEpoch) {
        case .failure(let error): return error
        case .success(let found): metadata = found
        }
        switch metadata.state {
        case .prepareCommit, .prepareAbort, .prepareEpochFence: return .concurrentTransactions
        case .dead: return .invalidProducerIdMapping
        default: break
        }
        let before = metadata
        let now = currentTimeMillis()
        if metadata.state != .ongoing {
            metadata.state = .ongoing
            metadata.partitions = []
            metadata.groups = []
            metadata.startTimestampMs = now
        }
        change(&metadata)
        metadata.lastUpdateTimestampMs = now
        if metadata == before { return nil }
        self.busy.insert(transactionalId)
        defer { self.busy.remove(transactionalId) }
        do {
            try await self.persist(metadata)
        } catch {
            return .coordinatorNotAvailable
        }
        self.store(transactionalId, metadata)
        return nil
    }

    // MARK: Ending

    func endTransaction(transactionalId: String, producerId: Int64, producerEpoch: Int16, commit: Bool) async -> TransactionError? {
        guard !self.busy.contains(transactionalId) else { return .concurrentTransactions }
        let metadata: TransactionMetadata
        switch self.validate(transactionalId, producerId: producerId, producerEpoch: producerEpoch) {
        case .failure(let error): return error
        case .success(let found): metadata = found
        }
        switch metadata.state {
        case .ongoing:
            break
        case .completeCommit:
            return commit ? nil : .invalidTransactionState
        case .completeAbort:
            return commit ? .invalidTransactionState : nil
        case .prepareCommit:
            return commit ? .concurrentTransactions : .invalidTransactionState
        case .prepareAbort:
            return commit ? .invalidTransactionState : .concurrentTransactions
        case .empty:
            // Nothing was added: an abort is a no-op, a commit too (Kafka answers both).
            return nil
        case .dead, .prepareEpochFence:
            return .invalidTransactionState
        }
        self.busy.insert(transactionalId)
        defer { self.busy.remove(transactionalId) }
        do {
            try await self.writeMarkersAndComplete(transactionalId, metadata, commit: commit)
        } catch {
            return .coordinatorNotAvailable
        }
        return nil
    }

    /// Prepare (persisted), markers to every partition and group, complete (persisted).
    private func writeMarkersAndComplete(_ transactionalId: String, _ metadata: TransactionMetadata, commit: Bool) async throws {
        var prepared = metadata
        prepared.state = commit ? .prepareCommit : .prepareAbort
        prepared.lastUpdateTimestampMs = currentTimeMillis()
        try await self.persist(prepared)
        self.store(transactionalId, prepared)
        let marker = RecordBatchBuilder.controlBatch(commit ? .commit : .abort, producerId: prepared.producerId,
                                                     producerEpoch: prepared.producerEpoch, timestamp: currentTimeMillis())
        for partition in prepared.partitions.sorted() {
            guard let target = try? self.log.partition(partition) else { continue }  // a deleted topic
            // Through the partition's produce lane, whose work runs one piece at a time wherever it
            // runs (`AppendLanes`): a batch of this transaction already enqueued, or being checked
            // and appended on an event loop, is appended before the marker, and one checked after
            // it finds the transaction ended (the prepared state is stored above), so none lands
            // behind the marker.
            let appended: Result<AppendResult, SluiceError> = await withCheckedContinuation { continuation in
                self.appendLanes.enqueue(partition) {
                    continuation.resume(returning: Result { () throws(SluiceError) in try target.append(marker) })
                }
            }
            try await target.waitUntilDurable(try appended.get().lastOffset + 1)
        }
        if !prepared.groups.isEmpty {
            try await self.groups.completeTransaction(producerId: prepared.producerId, producerEpoch: prepared.producerEpoch, commit: commit)
        }
        var complete = prepared
        complete.state = commit ? .completeCommit : .completeAbort
        complete.partitions = []
        complete.groups = []
        complete.lastUpdateTimestampMs = currentTimeMillis()
        try await self.persist(complete)
        self.store(transactionalId, complete)
    }

    private func abortTimedOutTransactions(now: Int64) async {
        for (id, metadata) in self.transactions where metadata.state == .ongoing && !self.busy.contains(id)
            && now - metadata.startTimestampMs > Int64(metadata.timeoutMs) {
            self.busy.insert(id)
            var fenced = metadata
            // The epoch bump fences the producer that let the transaction time out.
            fenced.producerEpoch += 1
            try? await self.writeMarkersAndComplete(id, fenced, commit: false)
            self.busy.remove(id)
        }
    }

    // MARK: Administration

    struct Listing: Sendable {
        var transactionalId: String
        var producerId: Int64
        var producerEpoch: Int16
        var state: String
        var timeoutMs: Int32
        var startTimestampMs: Int64
        var partitions: [TopicPartition]
    }

    func list() -> [Listing] {
        self.transactions.values.sorted { $0.transactionalId < $1.transactionalId }.map {
            Listing(transactionalId: $0.transactionalId, producerId: $0.producerId, producerEpoch: $0.producerEpoch, state: $0.state.name,
                    timeoutMs: $0.timeoutMs, startTimestampMs: $0.startTimestampMs, partitions: $0.partitions.sorted())
        }
    }
}
