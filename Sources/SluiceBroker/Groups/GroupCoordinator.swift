import Logging
import NIOCore
import SluiceCore
import SluiceLog

/// An offset a group committed for a partition.
struct CommittedOffset: Sendable, Equatable {
    var offset: Int64
    var leaderEpoch: Int32
    var metadata: String?
    var commitTimestampMs: Int64
}

/// Coordinates every consumer group of the node: membership through `ConsumerGroup` state
/// machines, committed offsets in `__consumer_offsets` (written durably before a commit is
/// answered; transactional commits become visible with the transaction's marker), each group's
/// membership there too once a rebalance completes or the group empties (`GroupMetadataRecord`),
/// expiry of sessions and rebalances by a ticker.
actor GroupCoordinator {
    private let offsetsPartition: Partition
    private let initialRebalanceDelayMs: Int64
    private let logger: Logger
    private var groups: [String: ConsumerGroup] = [:]
    private var offsets: [String: [TopicPartition: CommittedOffset]] = [:]
    /// Transactional commits not yet ended, by producer id.
    private var pendingTransactionalOffsets: [Int64: [String: [TopicPartition: CommittedOffset]]] = [:]
    private var joinWaiters: [UInt64: CheckedContinuation<ConsumerGroup.JoinResponse, Never>] = [:]
    private var syncWaiters: [UInt64: CheckedContinuation<ConsumerGroup.SyncResponse, Never>] = [:]
    private var nextWaiter: UInt64 = 0

    /// The session timeouts a member may ask for (Kafka's group.min/max.session.timeout.ms).
    static let sessionTimeoutMsRange: ClosedRange<Int32> = 1_000...1_800_000
    /// How often sessions and rebalance deadlines are checked.
    static let tickInterval: Duration = .milliseconds(100)

    init(log: Log, initialRebalanceDelayMs: Int64, logger: Logger) throws(SluiceError) {
        self.offsetsPartition = try InternalTopics.partition(InternalTopics.consumerOffsets, in: log)
        self.initialRebalanceDelayMs = initialRebalanceDelayMs
        self.logger = logger
        var committed: [String: [TopicPartition: CommittedOffset]] = [:]
        var pending: [Int64: [String: [TopicPartition: CommittedOffset]]] = [:]
        // Each group's last membership record (nil: a tombstone), parsed once the replay is done.
        var memberships: [String: [UInt8]?] = [:]
        try InternalTopics.replay(self.offsetsPartition, { (record, producerId, isTransactional) throws(SluiceError) in
            guard let key = record.key.map({ Array($0.readableBytesView) }) else { return }
            // A record this broker cannot read is skipped, as Kafka skips unknown keys: it costs that
            // group a rebalance or an offset, never the broker's start.
            do throws(SluiceError) {
                if let group = try GroupMetadataRecord.parseKey(key) {
                    memberships[group] = .some(record.value.map { Array($0.readableBytesView) })
                    return
                }
                guard let parsed = try OffsetRecord.parseKey(key) else { return }
                let value = try record.value.map { (value) throws(SluiceError) in try OffsetRecord.parseValue(Array(value.readableBytesView)) }
                if isTransactional {
                    if let value { pending[producerId, default: [:]][parsed.group, default: [:]][parsed.partition] = value }
                } else if let value {
                    committed[parsed.group, default: [:]][parsed.partition] = value
                } else {
                    committed[parsed.group]?.removeValue(forKey: parsed.partition)
                }
            } catch {
                logger.warning("skipping an unreadable record of \(InternalTopics.consumerOffsets): \(error)")
            }
        }, control: { (producerId, type) throws(SluiceError) in
            if type == .commit, let groups = pending[producerId] {
                for (group, partitions) in groups { committed[group, default: [:]].merge(partitions) { $1 } }
            }
            pending.removeValue(forKey: producerId)
        })
        // A group whose offsets were all deleted is gone, unless its membership was stored.
        committed = committed.filter { !$0.value.isEmpty }
        self.offsets = committed
        self.pendingTransactionalOffsets = pending
        for group in committed.keys { self.groups[group] = ConsumerGroup(groupId: group, initialRebalanceDelayMs: initialRebalanceDelayMs) }
        let now = currentTimeMillis()
        for case let (id, value?) in memberships {
            do {
                let stored = try GroupMetadataRecord.parseValue(value)
                self.groups[id] = ConsumerGroup(groupId: id, restoring: stored, initialRebalanceDelayMs: initialRebalanceDelayMs, now: now)
            } catch {
                logger.warning("the stored membership of group \(id) is unreadable; its members will rejoin: \(error)")
            }
        }
    }

    /// Keeps a group's new state, answers the requests its actions complete, and stores its
    /// membership if it reached a state worth storing.
    private func update(_ groupId: String, to group: ConsumerGroup, performing actions: [ConsumerGroup.Action]) {
        var group = group
        let snapshot = group.takeUnstored()
        self.groups[groupId] = group
        self.perform(actions)
        if let snapshot { self.store(snapshot, of: groupId) }
    }

    /// Writes a group's membership. Not awaited: answers do not wait for it (the log's group commit
    /// syncs it moments later), and a crash before that costs only what a broker without it costs,
    /// a rebalance. A record that cannot be written is replaced by a tombstone, so that a restart does
    /// not bring back an older membership.
    private func store(_ snapshot: StoredGroup, of groupId: String) {
        let key = GroupMetadataRecord.key(group: groupId)
        do {
            try self.appendMembership(key: key, value: GroupMetadataRecord.value(snapshot))
        } catch {
            self.logger.warning("cannot store the membership of group \(groupId); its members will rejoin after a restart: \(error)")
            try? self.appendMembership(key: key, value: nil)
        }
    }

    private func appendMembership(key: [UInt8], value: [UInt8]?) throws {
        var builder = RecordBatchBuilder()
        builder.append(ProducerRecord(key: key, value: value, timestamp: currentTimeMillis()))
        _ = try self.offsetsPartition.append(try builder.build())
    }

    /// Runs the expiry ticker until cancelled.
    func runTicker() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.tickInterval)
            let now = currentTimeMillis()
            for id in Array(self.groups.keys) {
                guard var group = self.groups[id] else { continue }
                let actions = group.expire(now: now)
                self.update(id, to: group, performing: actions)
            }
        }
    }

    private func perform(_ actions: [ConsumerGroup.Action]) {
        for action in actions {
            switch action {
            case .join(let waiter, let response):
                self.joinWaiters.removeValue(forKey: waiter)?.resume(returning: response)
            case .sync(let waiter, let response):
                self.syncWaiters.removeValue(forKey: waiter)?.resume(returning: response)
            }
        }
    }

    private func group(_ id: String) -> ConsumerGroup {
        self.groups[id] ?? ConsumerGroup(groupId: id, initialRebalanceDelayMs: self.initialRebalanceDelayMs)
    }

    // MARK: Membership

    func join(groupId: String, request: ConsumerGroup.JoinRequest) async -> ConsumerGroup.JoinResponse {
        guard !groupId.isEmpty else { return .init(error: .invalidGroupId) }
        guard Self.sessionTimeoutMsRange.contains(request.sessionTimeoutMs) else {
            return .init(error: .invalidSessionTimeout, memberId: request.memberId)
        }
        self.nextWaiter += 1
        var joining = request
        joining.waiter = self.nextWaiter
        return await withCheckedContinuation { continuation in
            self.joinWaiters[joining.waiter] = continuation
            var group = self.group(groupId)
            if group.state == .dead { group = ConsumerGroup(groupId: groupId, initialRebalanceDelayMs: self.initialRebalanceDelayMs) }
            let actions = group.join(joining, now: currentTimeMillis())
            self.update(groupId, to: group, performing: actions)
        }
    }

    func sync(groupId: String, memberId: String, generationId: Int32, protocolType: String?, protocolName: String?,
              assignments: [String: [UInt8]]) async -> ConsumerGroup.SyncResponse {
        guard var group = self.groups[groupId] else { return .init(error: .unknownMemberId) }
        self.nextWaiter += 1
        let waiter = self.nextWaiter
        return await withCheckedContinuation { continuation in
            self.syncWaiters[waiter] = continuation
            let actions = group.sync(waiter: waiter, memberId: memberId, generationId: generationId, protocolType: protocolType,
                                     protocolName: protocolName, assignments: assignments, now: currentTimeMillis())
            self.update(groupId, to: group, performing: actions)
        }
    }

    func heartbeat(groupId: String, memberId: String, generationId: Int32) -> KafkaGroupError? {
        guard var group = self.groups[groupId] else { return .unknownMemberId }
        let error = group.heartbeat(memberId: memberId, generationId: generationId, now: currentTimeMillis())
        self.groups[groupId] = group
        return error
    }

    func leave(groupId: String, members: [(memberId: String, groupInstanceId: String?)]) -> [KafkaGroupError?] {
        guard var group = self.groups[groupId] else { return members.map { _ in .unknownMemberId } }
        let (errors, actions) = group.leave(members: members, now: currentTimeMillis())
        self.update(groupId, to: group, performing: actions)
        return errors
    }

    // MARK: Offsets

    /// Validates and durably stores offsets; returns the error for all partitions, if any.
    func commit(groupId: String, memberId: String, generationId: Int32, groupInstanceId: String?,
                offsets: [TopicPartition: CommittedOffset]) async -> KafkaGroupError? {
        guard !groupId.isEmpty else { return .invalidGroupId }
        let group = self.group(groupId)
        if let error = group.validateCommit(memberId: memberId, generationId: generationId, groupInstanceId: groupInstanceId) {
            return error
        }
        if self.groups[groupId] == nil { self.groups[groupId] = group }
        do {
            try await self.writeOffsets(groupId: groupId, offsets: offsets, producerId: -1, producerEpoch: -1)
        } catch {
            return .coordinatorNotAvailable
        }
        self.offsets[groupId, default: [:]].merge(offsets) { $1 }
        return nil
    }

    /// A transactional commit: written now, visible when the transaction commits.
    func transactionalCommit(groupId: String, producerId: Int64, producerEpoch: Int16, memberId: String, generationId: Int32,
                             groupInstanceId: String?, offsets: [TopicPartition: CommittedOffset]) async -> KafkaGroupError? {
        if generationId >= 0 || !memberId.isEmpty {
            if let error = self.group(groupId).validateCommit(memberId: memberId, generationId: generationId, groupInstanceId: groupInstanceId) {
                return error
            }
        }
        do {
            try await self.writeOffsets(groupId: groupId, offsets: offsets, producerId: producerId, producerEpoch: producerEpoch)
        } catch {
            return .coordinatorNotAvailable
        }
        if self.groups[groupId] == nil { self.groups[groupId] = self.group(groupId) }
        self.pendingTransactionalOffsets[producerId, default: [:]][groupId, default: [:]].merge(offsets) { $1 }
        return nil
    }

    /// Ends a producer's transactional commits with its marker in `__consumer_offsets`.
    func completeTransaction(producerId: Int64, producerEpoch: Int16, commit: Bool) async throws {
        let marker = RecordBatchBuilder.controlBatch(commit ? .commit : .abort, producerId: producerId, producerEpoch: producerEpoch,
                                                     timestamp: currentTimeMillis())
        _ = try await self.offsetsPartition.appendDurably(marker)
        if commit, let groups = self.pendingTransactionalOffsets[producerId] {
            for (group, partitions) in groups { self.offsets[group, default: [:]].merge(partitions) { $1 } }
        }
        self.pendingTransactionalOffsets.removeValue(forKey: producerId)
    }

    private func writeOffsets(groupId: String, offsets: [TopicPartition: CommittedOffset], producerId: Int64, producerEpoch: Int16) async throws {
        guard !offsets.isEmpty else { return }
        var builder = RecordBatchBuilder()
        if producerId >= 0 {
            builder.producerId = producerId
            builder.producerEpoch = producerEpoch
            builder.isTransactional = true
        }
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) {
            builder.append(ProducerRecord(key: OffsetRecord.key(group: groupId, partition: partition), value: OffsetRecord.value(offset),
                                          timestamp: offset.commitTimestampMs))
        }
        _ = try await self.offsetsPartition.appendDurably(try builder.build())
    }

    /// Committed offsets of a group; `partitions` nil means all. Under `requireStable`, partitions with
    /// a pending transactional commit report `unstable`.
    func fetch(groupId: String, partitions: [TopicPartition]?, requireStable: Bool) -> (offsets: [TopicPartition: CommittedOffset], unstable: Set<TopicPartition>) {
        let committed = self.offsets[groupId] ?? [:]
        var unstable: Set<TopicPartition> = []
        if requireStable {
            for groups in self.pendingTransactionalOffsets.values { unstable.formUnion(groups[groupId]?.keys ?? [:].keys) }
        }
        guard let partitions else { return (committed, unstable) }
        return (committed.filter { partitions.contains($0.key) }, unstable.filter { partitions.contains($0) })
    }

    /// Deletes committed offsets of partitions (OffsetDelete); refused while the group is active.
    func deleteOffsets(groupId: String, partitions: [TopicPartition]) async -> KafkaGroupError? {
        guard let group = self.groups[groupId] else { return .groupIdNotFound }
        guard group.isEmpty else { return .nonEmptyGroup }
        do {
            let builder = Self.offsetTombstones(groupId, partitions)
            if builder.recordCount > 0 { _ = try await self.offsetsPartition.appendDurably(try builder.build()) }
        } catch {
            return .coordinatorNotAvailable
        }
        for partition in partitions { self.offsets[groupId]?.removeValue(forKey: partition) }
        return nil
    }

    /// Tombstones for a group's committed offsets of `partitions`, in one batch to build.
    private static func offsetTombstones(_ groupId: String, _ partitions: [TopicPartition]) -> RecordBatchBuilder {
        var builder = RecordBatchBuilder()
        for partition in partitions {
            builder.append(ProducerRecord(key: OffsetRecord.key(group: groupId, partition: partition), value: nil, timestamp: currentTimeMillis()))
        }
        return builder
    }

    // MARK: Administration

    struct GroupListing: Sendable {
        var groupId: String
        var protocolType: String
        var state: String
    }

    func listGroups(states: Set<String>) -> [GroupListing] {
        self.groups.values.filter { $0.state != .dead }.map {
            GroupListing(groupId: $0.groupId, protocolType: $0.protocolType ?? "", state: $0.state.rawValue)
        }.filter { states.isEmpty || states.contains($0.state) }.sorted { $0.groupId < $1.groupId }
    }

    struct GroupDescription: Sendable {
        var groupId: String
        var state: String
        var protocolType: String
        var protocolName: String
        var members: [(memberId: String, groupInstanceId: String?, clientId: String, clientHost: String, metadata: [UInt8], assignment: [UInt8])]
    }

    func describe(groupId: String) -> GroupDescription? {
        guard let group = self.groups[groupId] else { return nil }
        let members = group.members.values.sorted { $0.memberId < $1.memberId }.map { member in
            (member.memberId, member.groupInstanceId, member.clientId, member.clientHost,
             member.protocols.first { $0.name == group.protocolName }?.metadata ?? [], member.assignment)
        }
        return GroupDescription(groupId: groupId, state: group.state.rawValue, protocolType: group.protocolType ?? "",
                                protocolName: group.protocolName ?? "", members: members)
    }

    /// Deletes empty groups and their offsets. The group is dead while its tombstones are written: a
    /// commit meanwhile is refused (the client retries), and a join starts a new group, which stays.
    func delete(groupId: String) async -> KafkaGroupError? {
        guard var group = self.groups[groupId] else { return .groupIdNotFound }
        guard group.isEmpty, group.state != .dead else { return group.state == .dead ? .groupIdNotFound : .nonEmptyGroup }
        let original = group
        group.markDead()
        self.groups[groupId] = group
        let partitions = Array((self.offsets[groupId] ?? [:]).keys)
        do {
            var builder = Self.offsetTombstones(groupId, partitions)
            builder.append(ProducerRecord(key: GroupMetadataRecord.key(group: groupId), value: nil, timestamp: currentTimeMillis()))
            _ = try await self.offsetsPartition.appendDurably(try builder.build())
        } catch {
            if self.groups[groupId]?.state == .dead { self.groups[groupId] = original }
            return .coordinatorNotAvailable
        }
        for partition in partitions { self.offsets[groupId]?.removeValue(forKey: partition) }
        if self.offsets[groupId]?.isEmpty == true { self.offsets.removeValue(forKey: groupId) }
        if self.groups[groupId]?.state == .dead { self.groups.removeValue(forKey: groupId) }
        return nil
    }
}

/// The key and value of an offset commit in `__consumer_offsets`.
enum OffsetRecord {
    static let keyVersion: UInt8 = 1
    static let valueVersion: UInt8 = 1

    static func key(group: String, partition: TopicPartition) -> [UInt8] {
        var bytes: [UInt8] = [keyVersion]
        bytes.appendString(group)
        bytes.appendString(partition.topic)
        bytes.appendInteger(partition.partition)
        return bytes
    }

    static func parseKey(_ bytes: [UInt8]) throws(SluiceError) -> (group: String, partition: TopicPartition)? {
        var reader = ByteReader(bytes)
        guard try reader.integer(as: UInt8.self) == keyVersion else { return nil }
        let group = try reader.string()
        let topic = try reader.string()
        return (group, TopicPartition(topic, try reader.integer(as: Int32.self)))
    }

    static func value(_ offset: CommittedOffset) -> [UInt8] {
        var bytes: [UInt8] = [valueVersion]
        bytes.appendInteger(offset.offset)
        bytes.appendInteger(offset.leaderEpoch)
        bytes.appendInteger(offset.commitTimestampMs)
        bytes.appendOptionalString(offset.metadata)
        return bytes
    }

    static func parseValue(_ bytes: [UInt8]) throws(SluiceError) -> CommittedOffset {
        var reader = ByteReader(bytes)
        guard try reader.integer(as: UInt8.self) == valueVersion else {
            throw SluiceError(.corruptData, "offset commit record has an unknown version")
        }
        let offset = try reader.integer(as: Int64.self)
        let epoch = try reader.integer(as: Int32.self)
        let timestamp = try reader.integer(as: Int64.self)
        return CommittedOffset(offset: offset, leaderEpoch: epoch, metadata: try reader.optionalString(), commitTimestampMs: timestamp)
    }
}
