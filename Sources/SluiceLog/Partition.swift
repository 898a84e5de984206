import NIOCore
import SluiceCore

/// Which records a reader may see.
public enum IsolationLevel: Sendable, Hashable {
    /// Everything up to the high watermark, aborted transactional data included.
    case readUncommitted
    /// Only up to the last stable offset; aborted transactions are listed so readers skip them.
    case readCommitted
}

/// What an append did.
public struct AppendResult: Sendable, Equatable {
    public var baseOffset: Int64
    public var lastOffset: Int64
    /// The log-append time stamped on the batch, -1 when the topic keeps create time.
    public var logAppendTime: Int64
    public var logStartOffset: Int64
    /// The batch was a retry of one already appended; the offsets are the original ones.
    public var isDuplicate: Bool
}

/// What a read returned: whole batches, as stored.
public struct FetchResult: Sendable {
    /// Concatenated record batches, starting with the batch that holds the requested offset.
    public var records: ByteBuffer
    public var highWatermark: Int64
    public var lastStableOffset: Int64
    public var logStartOffset: Int64
    /// For read_committed: aborted transactions that overlap the returned range.
    public var abortedTransactions: [AbortedTransaction]

    /// Whether `batch` (one of `records`) belongs to an aborted transaction: a read_committed reader skips it.
    public func isAborted(_ batch: RecordBatch) -> Bool {
        batch.isTransactional && self.abortedTransactions.contains { aborted in
            aborted.producerId == batch.producerId && aborted.firstOffset <= batch.baseOffset && batch.baseOffset < aborted.lastOffset
        }
    }

    public init(records: ByteBuffer, highWatermark: Int64, lastStableOffset: Int64, logStartOffset: Int64, abortedTransactions: [AbortedTransaction]) {
        self.records = records
        self.highWatermark = highWatermark
        self.lastStableOffset = lastStableOffset
        self.logStartOffset = logStartOffset
        self.abortedTransactions = abortedTransactions
    }
}

/// What a partition knows of one producer.
public struct ProducerSummary: Sendable {
    public var producerId: Int64
    public var epoch: Int16
    public var lastSequence: Int32?
    public var lastTimestamp: Int64
    public var coordinatorEpoch: Int32
    public var currentTransactionFirstOffset: Int64?
}

/// One partition of a topic: an ordered list of segments with one writer at a time and any number of
/// concurrent readers. Appends are acknowledged per the log's durability policy.
public final class Partition: @unchecked Sendable {
    public let topicPartition: TopicPartition
    let directory: String
    let durability: DurabilityPolicy
    let lock = Lock()
    /// Serialises flushes so that a durable offset is only published after its data was synced.
    private let flushLock = Lock()
    /// Called (outside the lock) when the partition has unsynced data, so the flusher picks it up.
    var onDirty: (@Sendable (Partition) -> Void)?
    /// `LogOptions.pageCacheTailBytes`: set once when the log attaches the partition.
    var pageCacheTailBytes: Int64?

    // State below is guarded by `lock`.
    var config: TopicConfig
    var segments: [Segment]
    var logStartOffset: Int64
    var durableOffset: Int64
    var producerState: ProducerStateManager
    var recoveryPoint: Int64
    var failure: SluiceError?
    var isClosed = false
    var syncRounds = 0
    /// Segments rolled under group commit, oldest first, that the next flush syncs...
    private var pendingSeals: [PendingSeal] = []
    /// ...and then seals, off the flush lock, so that the partition's next sync need not wait.
    private var syncedSeals: [PendingSeal] = []
    /// Serialises sealing, so that seals complete (and move the recovery point) in roll order.
    private let sealLock = Lock()
    private var durabilityWaiters: [(offset: Int64, done: DurabilityCallback)] = []
    private var dataWaiters: [UInt64: DataWaiter] = [:]
    /// Waiters whose deadline passed before they registered: they must not register any more.
    private var expiredWaiters: Set<UInt64> = []
    private var nextWaiterId: UInt64 = 0

    struct DataWaiter {
        var offset: Int64
        var isolation: IsolationLevel
        var continuation: CheckedContinuation<Void, Never>
    }

    static let logStartOffsetFile = "log-start-offset"
    static let recoveryPointFile = "recovery-point"
    /// Producer-state snapshots kept per partition.
    static let snapshotsKeptCount = 3

    init(topicPartition: TopicPartition, directory: String, config: TopicConfig, durability: DurabilityPolicy,
         segments: [Segment], logStartOffset: Int64, producerState: ProducerStateManager, recoveryPoint: Int64) {
        precondition(!segments.isEmpty, "a partition has at least one segment")
        self.topicPartition = topicPartition
        self.directory = directory
        self.config = config
        self.durability = durability
        self.segments = segments
        self.logStartOffset = logStartOffset
        self.producerState = producerState
        self.recoveryPoint = recoveryPoint
        self.durableOffset = segments.last!.nextOffset
    }

    var activeSegment: Segment { self.segments[self.segments.count - 1] }

    // MARK: Offsets

    /// The offset the next appended record gets.
    public var logEndOffset: Int64 { self.lock.withLock { self.activeSegment.nextOffset } }
    /// The end of what readers may see: durable data under fsync policies, all written data otherwise.
    public var highWatermark: Int64 { self.lock.withLock { self.highWatermarkLocked } }
    public var lastStableOffset: Int64 { self.lock.withLock { self.lastStableOffsetLocked } }
    public var startOffset: Int64 { self.lock.withLock { self.logStartOffset } }
    public var topicConfig: TopicConfig { self.lock.withLock { self.config } }

    var highWatermarkLocked: Int64 {
        if case .osManaged = self.durability { return self.activeSegment.nextOffset }
        return self.durableOffset
    }

    var lastStableOffsetLocked: Int64 {
        let highWatermark = self.highWatermarkLocked
        guard let firstUnstable = self.producerState.firstUnstableOffset else { return highWatermark }
        return max(min(firstUnstable, highWatermark), self.logStartOffset)
    }

    /// The producers the partition keeps state for (DescribeProducers).
    public var activeProducers: [ProducerSummary] {
        self.lock.withLock {
            self.producerState.producers.values.sorted { $0.producerId < $1.producerId }.map {
                ProducerSummary(producerId: $0.producerId, epoch: $0.epoch, lastSequence: $0.lastSequence, lastTimestamp: $0.lastTimestamp,
                                coordinatorEpoch: $0.coordinatorEpoch, currentTransactionFirstOffset: $0.currentTransactionFirstOffset)
            }
        }
    }

    /// Bytes of all segments.
    public var byteCount: Int64 { self.lock.withLock { self.segments.reduce(0) { $0 + $1.byteCount } } }
    public var segmentCount: Int { self.lock.withLock { self.segments.count } }

    // MARK: Appending

    /// Appends a batch: validates it, checks producer state, assigns offsets and writes it. The data is
    /// not yet durable: await `waitUntilDurable(result.lastOffset + 1)` or use `appendDurably`.
    public func append(_ incoming: RecordBatch, now: Int64 = currentTimeMillis()) throws(SluiceError) -> AppendResult {
        var batch = incoming
        try batch.validate()
        let requireKeys = self.lock.withLock { self.config.cleanupPolicy.contains(.compact) }
        try batch.validateRecords(requireKeys: requireKeys)
        let control = try batch.controlRecord()
        let info = ProducerBatchInfo(batch)
        var wake: [CheckedContinuation<Void, Never>] = []
        let result: AppendResult = try self.lock.withLock { () throws(SluiceError) -> AppendResult in
            if let failure = self.failure { throw failure }
            guard !self.isClosed else { throw SluiceError(.closed, "partition \(self.topicPartition) is closed") }
            guard batch.byteCount <= Int(self.config.maxMessageBytes) else {
                throw SluiceError(.limitExceeded, "batch of \(batch.byteCount) bytes exceeds max.message.bytes \(self.config.maxMessageBytes) of \(self.topicPartition.topic)")
            }
            switch try self.producerState.check(info) {
            case .duplicate(let first, let last):
                return AppendResult(baseOffset: first, lastOffset: last, logAppendTime: -1, logStartOffset: self.logStartOffset, isDuplicate: true)
            case .append:
                break
            }
            // The base offset and leader epoch are rewritten as the batch is written, without copying it;
            // log-append time changes the CRC and so does copy.
            let baseOffset = self.activeSegment.nextOffset
            let lastOffset = baseOffset + Int64(batch.lastOffsetDelta)
            var logAppendTime: Int64 = -1
            if self.config.logAppendTime {
                batch.setLogAppendTime(now)
                logAppendTime = now
            }
            try self.rollIfNeeded(incomingByteCount: Int64(batch.byteCount), lastOffset: lastOffset, maxTimestamp: batch.maxTimestamp, now: now)
            self.activeSegment.reserveSpace(forAppending: Int64(batch.byteCount))
            try self.activeSegment.append(batch, baseOffset: baseOffset, leaderEpoch: 0, indexIntervalBytes: self.config.indexIntervalBytes)
            let firstUnstableBefore = self.producerState.firstUnstableOffset
            if let completed = self.producerState.update(info, firstOffset: baseOffset, lastOffset: lastOffset, control: control),
               completed.isAborted {
                self.activeSegment.transactionIndex.append(AbortedTransaction(
                    producerId: completed.producerId, firstOffset: completed.firstOffset, lastOffset: completed.markerOffset,
                    lastStableOffset: self.producerState.firstUnstableOffset ?? lastOffset + 1))
            }
            if case .osManaged = self.durability {
                wake = self.takeSatisfiedDataWaiters()
            } else if firstUnstableBefore != self.producerState.firstUnstableOffset {
                wake = self.takeSatisfiedDataWaiters()
            }
            return AppendResult(baseOffset: baseOffset, lastOffset: lastOffset, logAppendTime: logAppendTime,
                                logStartOffset: self.logStartOffset, isDuplicate: false)
        }
        for continuation in wake { continuation.resume() }
        if !result.isDuplicate { self.onDirty?(self) }
        return result
    }

    /// Appends and returns once the batch is durable under the log's policy.
    public func appendDurably(_ batch: RecordBatch, now: Int64 = currentTimeMillis()) async throws -> AppendResult {
        let result = try self.append(batch, now: now)
        if case .fsyncPerAppend = self.durability { try self.flush() }
        try await self.waitUntilDurable(result.lastOffset + 1)
        return result
    }

    /// Returns once every offset below `offset` is durable.
    public func waitUntilDurable(_ offset: Int64) async throws {
        if case .osManaged = self.durability { return }
        let ready: Bool = try self.lock.withLock { () throws(SluiceError) -> Bool in
            if let failure = self.failure { throw failure }
            return self.durableOffset >= offset
        }
        if ready { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            self.whenDurable(offset) { continuation.resume(with: $0) }
        }
    }

    /// What `whenDurable` calls: success, or the failure that stopped the partition first.
    public typealias DurabilityCallback = @Sendable (Result<Void, any Error>) -> Void

    /// Calls `done` once every offset below `offset` is durable, or once the partition fails or
    /// closes first: at once if that is already so, otherwise on the thread that syncs, after the
    /// sync. No task waits in between, so `done` had better be short: it delays the next sync.
    public func whenDurable(_ offset: Int64, _ done: @escaping DurabilityCallback) {
        if case .osManaged = self.durability { return done(.success(())) }
        // Without a flusher (a sync per append), what is waited for is synced here; a failure is
        // kept as the partition's and reported below.
        if case .fsyncPerAppend = self.durability { try? self.flush() }
        let immediate: Result<Void, any Error>? = self.lock.withLock {
            if let failure = self.failure { return .failure(failure) }
            if self.durableOffset >= offset { return .success(()) }
            self.durabilityWaiters.append((offset, done))
            return nil
        }
        if let immediate { done(immediate) }
    }

    /// Rolls to a new segment when the batch would not fit, the segment spans more than segment.ms, or
    /// offsets would overflow the index's 32-bit relative offsets. Syncs the old segment and snapshots
    /// producer state. Like Kafka, the age is the incoming batch's timestamp minus the first batch's,
    /// falling back to wall-clock time since the segment was opened when timestamps are missing.
    private func rollIfNeeded(incomingByteCount: Int64, lastOffset: Int64, maxTimestamp: Int64, now: Int64) throws(SluiceError) {
        let active = self.activeSegment
        guard !active.isEmpty else { return }
        let tooBig = active.byteCount + incomingByteCount > self.config.segmentBytes
        let age: Int64
        if let first = active.firstBatchTimestamp, first >= 0, maxTimestamp >= 0 {
            age = maxTimestamp - first
        } else {
            age = now - active.openedAt
        }
        let tooOld = age > self.config.segmentMs
        let overflow = lastOffset - active.baseOffset > Int64(UInt32.max) - 1
        guard tooBig || tooOld || overflow else { return }
        try self.roll()
    }

    /// What sealing a rolled segment takes beyond its data sync: its reservation given back, its
    /// indexes and the producer state at its end written, then the recovery point moved past it.
    struct PendingSeal {
        var segment: Segment
        /// The offset the segment ends at: the next segment's base.
        var end: Int64
        /// Producer state as of `end`.
        var producerSnapshot: [UInt8]
    }

    /// Closes the active segment and opens a new one at the log end offset. Lock held.
    ///
    /// Under group commit only the new segment is made here; the next flush syncs the old one and
    /// seals it (`PendingSeal`), off the append path. Sealing takes a dozen fsyncs (data, three
    /// indexes, a snapshot, the recovery point and their directory), which under load held appends
    /// to every partition rolling at once for up to a tenth of a second. Other policies seal here.
    func roll() throws(SluiceError) {
        let old = self.activeSegment
        let newBase = old.nextOffset
        if case .groupCommit = self.durability {
            let segment = try Segment(creatingIn: self.directory, baseOffset: newBase)
            old.sealPending = true
            self.pendingSeals.append(PendingSeal(segment: old, end: newBase, producerSnapshot: self.producerState.snapshotBytes))
            self.segments.append(segment)
            return
        }
        do throws(SluiceError) {
            try old.file.sync()
        } catch {
            // Waiters are failed by the next flush, which sees the failure.
            if self.failure == nil { self.failure = error }
            throw error
        }
        old.isDirty = false
        try self.writeSealFiles(PendingSeal(segment: old, end: newBase, producerSnapshot: self.producerState.snapshotBytes))
        let segment = try Segment(creatingIn: self.directory, baseOffset: newBase)
        self.segments.append(segment)
        try FileSystem.syncDirectory(self.directory)
        self.durableOffset = max(self.durableOffset, newBase)
        try self.writeRecoveryPoint(newBase)
        self.removeOldSnapshots()
    }

    /// Lock held.
    func writeRecoveryPoint(_ offset: Int64) throws(SluiceError) {
        try self.writeRecoveryPointFile(offset)
        self.recoveryPoint = offset
    }

    private func writeRecoveryPointFile(_ offset: Int64) throws(SluiceError) {
        var bytes: [UInt8] = []
        appendBigEndian(offset, to: &bytes)
        try FileSystem.writeAtomically(bytes, to: self.directory + "/" + Self.recoveryPointFile)
    }

    func writeLogStartOffset() throws(SluiceError) {
        var bytes: [UInt8] = []
        appendBigEndian(self.logStartOffset, to: &bytes)
        try FileSystem.writeAtomically(bytes, to: self.directory + "/" + Self.logStartOffsetFile)
    }

    private func removeOldSnapshots() {
        let snapshots = Self.snapshotOffsets(in: self.directory)
        for offset in snapshots.dropLast(Self.snapshotsKeptCount) {
            try? FileSystem.remove(self.directory + "/" + ProducerStateManager.snapshotFileName(offset))
        }
    }

    static func snapshotOffsets(in directory: String) -> [Int64] {
        ((try? FileSystem.list(directory)) ?? []).compactMap { name in
            guard name.hasSuffix(ProducerStateManager.snapshotSuffix) else { return nil }
            return Int64(name.dropLast(ProducerStateManager.snapshotSuffix.count))
        }.sorted()
    }

    // MARK: Flushing

    /// Syncs every segment written since the last flush and publishes the new durable offset.
    public func flush() throws(SluiceError) {
        try self.flushLock.withLock { () throws(SluiceError) in try self.syncAndPublish() }
        // The data is durable and acknowledged: a seal that fails is no sync failure. It stays
        // queued for the next flush (or `sealPendingSegments`), and the segment stays out of
        // retention's and compaction's way until then.
        try? self.sealSynced()
    }

    /// Seals what rolls left unsealed, its data synced first: for retention, delete-records and
    /// compaction, which leave unsealed segments alone, and for close.
    func sealPendingSegments() throws(SluiceError) {
        guard self.lock.withLock({ self.segments.contains(where: \.sealPending) }) else { return }
        try self.flushLock.withLock { () throws(SluiceError) in try self.syncAndPublish() }
        try self.sealSynced()
    }

    /// Syncs, publishes the durable offset and answers its waiters. Flush lock held.
    private func syncAndPublish() throws(SluiceError) {
        let (target, toSync, seals) = try self.lock.withLock { () throws(SluiceError) -> (Int64, [(segment: Segment, byteCount: Int64)], [PendingSeal]) in
            if let failure = self.failure { throw failure }
            let dirty = self.segments.filter(\.isDirty)
            for segment in dirty { segment.isDirty = false }
            defer { self.pendingSeals = [] }
            return (self.activeSegment.nextOffset, dirty.map { ($0, $0.byteCount) }, self.pendingSeals)
        }
        if !toSync.isEmpty { self.lock.withLock { self.syncRounds += 1 } }
        do throws(SluiceError) {
            for (segment, _) in toSync { try segment.file.sync() }
            // Segments made by the rolls since the last flush: their names must be durable
            // before any of their data is called so.
            if !seals.isEmpty { try FileSystem.syncDirectory(self.directory) }
        } catch {
            let waiters = self.lock.withLock { self.recordSyncFailure(error) }
            for waiter in waiters { waiter(.failure(error)) }
            throw error
        }
        var ready: [DurabilityCallback] = []
        var wake: [CheckedContinuation<Void, Never>] = []
        self.lock.withLock {
            // Waiters are answered up to the durable offset even when this flush did not move it:
            // a roll moves it too (it syncs the old segment) without answering anyone.
            let advanced = target > self.durableOffset
            self.durableOffset = max(self.durableOffset, target)
            let durable = self.durableOffset
            self.durabilityWaiters.removeAll { waiter in
                guard waiter.offset <= durable else { return false }
                ready.append(waiter.done)
                return true
            }
            if advanced { wake = self.takeSatisfiedDataWaiters() }
        }
        if !seals.isEmpty { self.lock.withLock { self.syncedSeals.append(contentsOf: seals) } }
        for done in ready { done(.success(())) }
        for continuation in wake { continuation.resume() }
        // After the waiters are answered: neither dropping clean pages nor sealing is part of
        // durability, and a producer waiting for its acknowledgement need not wait for them.
        if let tailBytes = self.pageCacheTailBytes { Self.dropSyncedPages(toSync, keepingTailBytes: tailBytes) }
    }

    /// Seals rolled segments whose data a flush synced, oldest first: what `roll` leaves to the
    /// flush. One that fails is kept, with those after it, for the next flush.
    private func sealSynced() throws(SluiceError) {
        try self.sealLock.withLock { () throws(SluiceError) in
            let seals = self.lock.withLock { () -> [PendingSeal] in
                defer { self.syncedSeals = [] }
                return self.syncedSeals
            }
            try self.seal(seals)
        }
    }

    /// A rolled segment's own part of its seal, its data synced: the reservation given back, its
    /// indexes and the producer state at its end written. The recovery point follows.
    private func writeSealFiles(_ seal: PendingSeal) throws(SluiceError) {
        seal.segment.releaseReservedSpace()
        try seal.segment.persistIndexes()
        try FileSystem.writeAtomically(seal.producerSnapshot, to: self.directory + "/" + ProducerStateManager.snapshotFileName(seal.end))
    }

    /// Seal lock held.
    private func seal(_ seals: [PendingSeal]) throws(SluiceError) {
        for (index, seal) in seals.enumerated() {
            do throws(SluiceError) {
                try self.writeSealFiles(seal)
                // Only once the segment's indexes are written may a restart trust them.
                try self.writeRecoveryPointFile(seal.end)
            } catch {
                self.lock.withLock { self.syncedSeals.insert(contentsOf: seals[index...], at: 0) }
                throw error
            }
            self.lock.withLock {
                self.recoveryPoint = seal.end
                seal.segment.sealPending = false
            }
            self.removeOldSnapshots()
        }
    }

    /// Drops synced bytes from the page cache, all but the last `tailBytes` of those just synced
    /// (`LogOptions.pageCacheTailBytes`). Flush lock held: only flushes move `cacheDroppedBytes`.
    private static func dropSyncedPages(_ synced: [(segment: Segment, byteCount: Int64)], keepingTailBytes tailBytes: Int64) {
        let tailStarts = Self.cacheTailStarts(synced.map(\.byteCount), tailBytes: tailBytes)
        for ((segment, _), end) in zip(synced, tailStarts) {
            guard end > segment.cacheDroppedBytes else { continue }
            // Each range starts a little before where the previous one ended (folioAlignedStart).
            segment.file.dropCachedPages(from: LogFile.folioAlignedStart(before: segment.cacheDroppedBytes), upTo: end)
            segment.cacheDroppedBytes = end
        }
    }

    /// Where the last `tailBytes` of these consecutive byte counts start within each: the page-cache
    /// tail, counted back from the end of the last; bytes before it may leave the cache.
    static func cacheTailStarts(_ byteCounts: [Int64], tailBytes: Int64) -> [Int64] {
        var keptBytes = tailBytes
        return byteCounts.reversed().map { byteCount in
            defer { keptBytes = max(0, keptBytes - byteCount) }
            return max(0, byteCount - keptBytes)
        }.reversed()
    }

    /// How many flushes synced data: the fsync cadence that benchmarks reproduce.
    public var syncRoundCount: Int { self.lock.withLock { self.syncRounds } }

    /// Whether data was written that is not synced yet.
    var hasUnsyncedData: Bool { self.lock.withLock { self.segments.contains(where: \.isDirty) } }

    // MARK: Waiting for data

    /// Returns when data beyond `offset` is visible under `isolation`, or at `deadline`.
    public func waitForData(beyond offset: Int64, isolation: IsolationLevel, deadline: ContinuousClock.Instant) async {
        let waiterId: UInt64 = self.lock.withLock {
            self.nextWaiterId += 1
            return self.nextWaiterId
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = self.lock.withLock { () -> Bool in
                        if self.expiredWaiters.remove(waiterId) != nil { return true }
                        if self.isClosed || self.visibleEnd(isolation) > offset { return true }
                        self.dataWaiters[waiterId] = DataWaiter(offset: offset, isolation: isolation, continuation: continuation)
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                let waiter = self.lock.withLock { () -> DataWaiter? in
                    guard let waiter = self.dataWaiters.removeValue(forKey: waiterId) else {
                        // Not registered yet (or already woken): make sure it never waits.
                        self.expiredWaiters.insert(waiterId)
                        return nil
                    }
                    return waiter
                }
                waiter?.continuation.resume()
            }
            await group.next()
            group.cancelAll()
        }
        // A wake-up that came first leaves an expiry mark behind only if the timer also fired.
        self.lock.withLock { _ = self.expiredWaiters.remove(waiterId) }
    }

    func visibleEnd(_ isolation: IsolationLevel) -> Int64 {
        isolation == .readCommitted ? self.lastStableOffsetLocked : self.highWatermarkLocked
    }

    /// Removes and returns the data waiters that can proceed. Lock held.
    func takeSatisfiedDataWaiters() -> [CheckedContinuation<Void, Never>] {
        guard !self.dataWaiters.isEmpty else { return [] }
        var ready: [CheckedContinuation<Void, Never>] = []
        for (id, waiter) in self.dataWaiters where self.isClosed || self.visibleEnd(waiter.isolation) > waiter.offset {
            ready.append(waiter.continuation)
            self.dataWaiters.removeValue(forKey: id)
        }
        return ready
    }

    // MARK: Closing

    /// Flushes, writes indexes and a producer-state snapshot. Readers waiting are released.
    func close() throws(SluiceError) {
        // Refuse appends first, so that the final flush covers everything acknowledged from now on.
        let alreadyClosed = self.lock.withLock { () -> Bool in
            defer { self.isClosed = true }
            return self.isClosed
        }
        guard !alreadyClosed else { return }
        var flushError: SluiceError?
        do { try self.flush() } catch { flushError = error }
        // Also after a failed flush: a seal under way on the flusher's thread ends before the
        // partition's files are left to the caller (a topic deletion removes them).
        do { try self.sealSynced() } catch { flushError = flushError ?? error }
        let (wake, failed): ([CheckedContinuation<Void, Never>], [DurabilityCallback]) = try self.lock.withLock { () throws(SluiceError) in
            if self.failure == nil && flushError == nil {
                try self.activeSegment.persistIndexes()
                try FileSystem.writeAtomically(self.producerState.snapshotBytes,
                                               to: self.directory + "/" + ProducerStateManager.snapshotFileName(self.activeSegment.nextOffset))
                self.removeOldSnapshots()
            }
            return (self.takeSatisfiedDataWaiters(), self.takeDurabilityWaiters())
        }
        for continuation in wake { continuation.resume() }
        let closed = SluiceError(.closed, "partition \(self.topicPartition) closed before the append was durable")
        for done in failed { done(.failure(flushError ?? closed)) }
        if let flushError { throw flushError }
    }

    /// Stops the partition as a crash would: no flush; waiters fail.
    func abandon() {
        let (wake, failed) = self.lock.withLock { () -> ([CheckedContinuation<Void, Never>], [DurabilityCallback]) in
            self.isClosed = true
            return (self.takeSatisfiedDataWaiters(), self.takeDurabilityWaiters())
        }
        for continuation in wake { continuation.resume() }
        for done in failed { done(.failure(SluiceError(.closed, "partition \(self.topicPartition) was abandoned"))) }
    }

    /// Removes and returns every durability waiter. Lock held.
    private func takeDurabilityWaiters() -> [DurabilityCallback] {
        defer { self.durabilityWaiters.removeAll() }
        return self.durabilityWaiters.map(\.done)
    }

    /// Records a failed sync: the page cache may have dropped the data, so the partition stops
    /// accepting writes and every waiter fails. Lock held.
    func recordSyncFailure(_ error: SluiceError) -> [DurabilityCallback] {
        if self.failure == nil { self.failure = error }
        return self.takeDurabilityWaiters()
    }
}
