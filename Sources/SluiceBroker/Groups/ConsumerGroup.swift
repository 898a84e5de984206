import SluiceCore

/// The classic (pre-KIP-848) group membership protocol of one group, as a pure state machine:
/// JoinGroup, SyncGroup, Heartbeat and LeaveGroup go in with the current time, actions come out.
/// Responses to requests that must wait (a join during a rebalance, a follower's sync before the
/// leader's) are returned as actions once the group can answer them. No I/O and no clock of its own:
/// the coordinator calls `expire(now:)` regularly.
struct ConsumerGroup: Sendable {
    enum State: String, Sendable {
        case empty = "Empty"
        case preparingRebalance = "PreparingRebalance"
        case completingRebalance = "CompletingRebalance"
        case stable = "Stable"
        case dead = "Dead"
    }

    struct ProtocolChoice: Sendable, Equatable {
        var name: String
        var metadata: [UInt8]
    }

    struct Member: Sendable, Equatable {
        var memberId: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var sessionTimeoutMs: Int32
        var rebalanceTimeoutMs: Int32
        var protocols: [ProtocolChoice]
        var assignment: [UInt8] = []
        /// The join request waiting for the rebalance to complete.
        var pendingJoin: UInt64?
        /// The sync request waiting for the leader's assignment.
        var pendingSync: UInt64?
        var lastHeartbeatMs: Int64
    }

    struct JoinRequest: Sendable {
        var waiter: UInt64
        var memberId: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var sessionTimeoutMs: Int32
        var rebalanceTimeoutMs: Int32
        var protocolType: String
        var protocols: [ProtocolChoice]
        /// JoinGroup v4+: a new member must first learn its id (KIP-394).
        var requiresKnownMemberId: Bool
        var reason: String?
    }

    struct JoinResponse: Sendable, Equatable {
        var error: KafkaGroupError?
        var generationId: Int32 = -1
        var protocolType: String?
        var protocolName: String?
        var leader: String = ""
        var memberId: String = ""
        /// Filled for the leader only: every member's metadata for the chosen protocol.
        var members: [(memberId: String, groupInstanceId: String?, metadata: [UInt8])] = []

        static func == (lhs: JoinResponse, rhs: JoinResponse) -> Bool {
            lhs.error == rhs.error && lhs.generationId == rhs.generationId && lhs.protocolName == rhs.protocolName
                && lhs.leader == rhs.leader && lhs.memberId == rhs.memberId && lhs.members.map(\.memberId) == rhs.members.map(\.memberId)
        }
    }

    struct SyncResponse: Sendable, Equatable {
        var error: KafkaGroupError?
        var protocolType: String?
        var protocolName: String?
        var assignment: [UInt8] = []
    }

    enum Action: Sendable, Equatable {
        case join(waiter: UInt64, JoinResponse)
        case sync(waiter: UInt64, SyncResponse)
    }

    let groupId: String
    private(set) var state: State = .empty
    private(set) var generationId: Int32 = 0
    private(set) var protocolType: String?
    private(set) var protocolName: String?
    private(set) var leaderId: String?
    private(set) var members: [String: Member] = [:]
    /// Members' join order, for choosing a leader deterministically.
    private var joinOrder: [String] = []
    /// Member ids handed out by MEMBER_ID_REQUIRED and not yet used, with their deadline.
    private var pendingMemberIds: [String: Int64] = [:]
    /// When the current rebalance ends at the latest.
    private var rebalanceDeadlineMs: Int64?
    /// The delay before a first rebalance of an empty group completes, so that members starting
    /// together join one generation (Kafka's group.initial.rebalance.delay.ms).
    let initialRebalanceDelayMs: Int64
    private var memberCounter: UInt64 = 0
    /// The group as it was when it last reached a state worth storing (stable with a new assignment, or
    /// empty), until the coordinator takes it to write it. Taken at the transition, so that what is
    /// stored is never a rebalance in progress.
    private(set) var unstored: StoredGroup?

    init(groupId: String, initialRebalanceDelayMs: Int64) {
        self.groupId = groupId
        self.initialRebalanceDelayMs = initialRebalanceDelayMs
    }

    /// The group as a restarted broker finds it: the last stored generation, stable if it has members.
    /// Every member's session starts now, so members that are gone expire as usual.
    init(groupId: String, restoring stored: StoredGroup, initialRebalanceDelayMs: Int64, now: Int64) {
        self.init(groupId: groupId, initialRebalanceDelayMs: initialRebalanceDelayMs)
        self.generationId = stored.generationId
        self.protocolType = stored.protocolType
        for var member in stored.members {
            member.lastHeartbeatMs = now
            self.members[member.memberId] = member
            self.joinOrder.append(member.memberId)
        }
        if !self.members.isEmpty {
            self.state = .stable
            self.protocolName = stored.protocolName
            self.leaderId = stored.leaderId.flatMap { self.members[$0] == nil ? nil : $0 }
        }
    }

    /// What the coordinator stores of the group: for each member, as Kafka, only the chosen protocol's
    /// metadata (a member rejoining after a restart with several protocols starts a rebalance).
    var stored: StoredGroup {
        StoredGroup(
            protocolType: self.protocolType, generationId: self.generationId, protocolName: self.protocolName, leaderId: self.leaderId,
            members: self.joinOrder.compactMap { id in
                self.members[id].map { member in
                    var stored = member
                    stored.protocols = member.protocols.filter { $0.name == self.protocolName }
                    stored.pendingJoin = nil
                    stored.pendingSync = nil
                    stored.lastHeartbeatMs = 0
                    return stored
                }
            })
    }

    /// The state to store, if the group reached one since the last call.
    mutating func takeUnstored() -> StoredGroup? {
        defer { self.unstored = nil }
        return self.unstored
    }

    var isEmpty: Bool { self.members.isEmpty }

    // MARK: Join

    mutating func join(_ request: JoinRequest, now: Int64) -> [Action] {
        func fail(_ error: KafkaGroupError, memberId: String = request.memberId) -> [Action] {
            [.join(waiter: request.waiter, JoinResponse(error: error, memberId: memberId))]
        }
        if self.state == .dead { return fail(.coordinatorNotAvailable) }
        if let type = self.protocolType, !self.members.isEmpty, type != request.protocolType { return fail(.inconsistentGroupProtocol) }
        if request.protocols.isEmpty { return fail(.inconsistentGroupProtocol) }
        if !self.members.isEmpty && !self.supportsAny(request.protocols) { return fail(.inconsistentGroupProtocol) }

        var memberId = request.memberId
        if memberId.isEmpty {
            // A static member (group.instance.id) rejoining takes over its previous member id's place.
            if let instance = request.groupInstanceId, let existing = self.members.values.first(where: { $0.groupInstanceId == instance }) {
                memberId = existing.memberId
            } else {
                self.memberCounter += 1
                memberId = "\(request.clientId)-\(self.groupId.hashValue & 0xFFFF)-\(now)-\(self.memberCounter)"
                if request.requiresKnownMemberId && request.groupInstanceId == nil {
                    self.pendingMemberIds[memberId] = now + Int64(request.sessionTimeoutMs)
                    return fail(.memberIdRequired, memberId: memberId)
                }
            }
        } else if self.members[memberId] == nil && self.pendingMemberIds.removeValue(forKey: memberId) == nil {
            return fail(.unknownMemberId)
        }

        var actions: [Action] = []
        if var member = self.members[memberId] {
            // A known member rejoining: a previous pending join is answered as superseded.
            if let previous = member.pendingJoin {
                actions.append(.join(waiter: previous, JoinResponse(error: .rebalanceInProgress, memberId: memberId)))
            }
            let changed = member.protocols != request.protocols
            member.protocols = request.protocols
            member.sessionTimeoutMs = request.sessionTimeoutMs
            member.rebalanceTimeoutMs = request.rebalanceTimeoutMs
            member.pendingJoin = request.waiter
            member.lastHeartbeatMs = now
            self.members[memberId] = member
            if self.state == .stable && !changed && self.leaderId != memberId {
                // Nothing changed for a follower: answer with the current generation at once.
                self.members[memberId]?.pendingJoin = nil
                return actions + [.join(waiter: request.waiter, self.joinResponse(for: memberId))]
            }
            if self.state != .preparingRebalance { actions += self.prepareRebalance(now: now) }
        } else {
            // The first member of an empty group sets its protocol type, whatever the group held before (Kafka's rule).
            if self.members.isEmpty { self.protocolType = request.protocolType }
            self.members[memberId] = Member(
                memberId: memberId, groupInstanceId: request.groupInstanceId, clientId: request.clientId, clientHost: request.clientHost,
                sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: request.rebalanceTimeoutMs, protocols: request.protocols,
                pendingJoin: request.waiter, lastHeartbeatMs: now)
            self.joinOrder.append(memberId)
            if self.state != .preparingRebalance { actions += self.prepareRebalance(now: now) }
        }
        return actions + self.completeRebalanceIfReady(now: now)
    }

    private func supportsAny(_ protocols: [ProtocolChoice]) -> Bool {
        let names = Set(protocols.map(\.name))
        return self.members.values.allSatisfy { member in member.protocols.contains { names.contains($0.name) } }
    }

    /// Enters PreparingRebalance: pending syncs are told to rejoin.
    private mutating func prepareRebalance(now: Int64) -> [Action] {
        var actions: [Action] = []
        for (id, member) in self.members {
            if let waiter = member.pendingSync {
                actions.append(.sync(waiter: waiter, SyncResponse(error: .rebalanceInProgress)))
                self.members[id]?.pendingSync = nil
            }
        }
        let wasEmpty = self.state == .empty
        self.state = .preparingRebalance
        let timeout = Int64(self.members.values.map(\.rebalanceTimeoutMs).max() ?? 0)
        self.rebalanceDeadlineMs = now + (wasEmpty ? min(self.initialRebalanceDelayMs, timeout) : timeout)
        return actions
    }

    /// Completes the join phase once every member has rejoined (or, for a new group, once the
    /// initial delay passed), or when forced at the rebalance deadline.
    private mutating func completeRebalanceIfReady(now: Int64, force: Bool = false) -> [Action] {
        guard self.state == .preparingRebalance else { return [] }
        let allJoined = self.members.values.allSatisfy { $0.pendingJoin != nil }
        let delayPassed = (self.rebalanceDeadlineMs ?? now) <= now
        let isFirstGeneration = self.generationId == 0 || self.leaderId == nil
        guard force || (allJoined && (!isFirstGeneration || delayPassed || self.initialRebalanceDelayMs == 0)) else { return [] }
        // Members that did not rejoin in time leave the group.
        for (id, member) in self.members where member.pendingJoin == nil {
            self.removeMember(id)
            _ = member
        }
        if self.members.isEmpty {
            self.state = .empty
            self.generationId += 1
            self.protocolName = nil
            self.leaderId = nil
            self.unstored = self.stored
            return []
        }
        self.generationId += 1
        self.protocolName = self.selectProtocol()
        if self.leaderId == nil || self.members[self.leaderId!] == nil {
            self.leaderId = self.joinOrder.first { self.members[$0] != nil }
        }
        self.state = .completingRebalance
        self.rebalanceDeadlineMs = nil
        var actions: [Action] = []
        for id in self.joinOrder {
            guard let waiter = self.members[id]?.pendingJoin else { continue }
            self.members[id]?.pendingJoin = nil
            self.members[id]?.lastHeartbeatMs = now
            actions.append(.join(waiter: waiter, self.joinResponse(for: id)))
        }
        return actions
    }

    private func joinResponse(for memberId: String) -> JoinResponse {
        var response = JoinResponse(
            error: nil, generationId: self.generationId, protocolType: self.protocolType, protocolName: self.protocolName,
            leader: self.leaderId ?? "", memberId: memberId)
        if memberId == self.leaderId, let name = self.protocolName {
            response.members = self.joinOrder.compactMap { id in
                guard let member = self.members[id], let chosen = member.protocols.first(where: { $0.name == name }) else { return nil }
                return (id, member.groupInstanceId, chosen.metadata)
            }
        }
        return response
    }

    /// The protocol every member supports that most members prefer (Kafka's vote).
    private func selectProtocol() -> String? {
        let members = self.members.values
        guard let first = members.first else { return nil }
        let candidates = first.protocols.map(\.name).filter { name in members.allSatisfy { $0.protocols.contains { $0.name == name } } }
        var votes: [String: Int] = [:]
        for member in members {
            if let preferred = member.protocols.first(where: { candidates.contains($0.name) }) { votes[preferred.name, default: 0] += 1 }
        }
        return candidates.max { (votes[$0] ?? 0, candidates.firstIndex(of: $1)!) < (votes[$1] ?? 0, candidates.firstIndex(of: $0)!) }
    }

    // MARK: Sync

    mutating func sync(waiter: UInt64, memberId: String, generationId: Int32, protocolType: String?, protocolName: String?,
                       assignments: [String: [UInt8]], now: Int64) -> [Action] {
        func reply(_ error: KafkaGroupError) -> [Action] { [.sync(waiter: waiter, SyncResponse(error: error))] }
        guard self.state != .dead else { return reply(.coordinatorNotAvailable) }
        guard self.members[memberId] != nil else { return reply(.unknownMemberId) }
        guard generationId == self.generationId else { return reply(.illegalGeneration) }
        if let protocolType, protocolType != self.protocolType { return reply(.inconsistentGroupProtocol) }
        if let protocolName, protocolName != self.protocolName { return reply(.inconsistentGroupProtocol) }
        self.members[memberId]?.lastHeartbeatMs = now
        switch self.state {
        case .empty, .dead:
            return reply(.unknownMemberId)
        case .preparingRebalance:
            return reply(.rebalanceInProgress)
        case .stable:
            return [.sync(waiter: waiter, self.syncResponse(for: memberId))]
        case .completingRebalance:
            self.members[memberId]?.pendingSync = waiter
            guard memberId == self.leaderId else { return [] }
            for id in self.members.keys { self.members[id]?.assignment = assignments[id] ?? [] }
            self.state = .stable
            self.unstored = self.stored
            var actions: [Action] = []
            for (id, member) in self.members {
                guard let pending = member.pendingSync else { continue }
                self.members[id]?.pendingSync = nil
                actions.append(.sync(waiter: pending, self.syncResponse(for: id)))
            }
            return actions
        }
    }

    private func syncResponse(for memberId: String) -> SyncResponse {
        SyncResponse(error: nil, protocolType: self.protocolType, protocolName: self.protocolName, assignment: self.members[memberId]?.assignment ?? [])
    }

    // MARK: Heartbeat and leave

    mutating func heartbeat(memberId: String, generationId: Int32, now: Int64) -> KafkaGroupError? {
        guard self.state != .dead else { return .coordinatorNotAvailable }
        guard self.members[memberId] != nil else { return .unknownMemberId }
        guard generationId == self.generationId else { return .illegalGeneration }
        self.members[memberId]?.lastHeartbeatMs = now
        switch self.state {
        case .preparingRebalance: return .rebalanceInProgress
        case .empty: return .unknownMemberId
        default: return nil
        }
    }

    /// Removes members by id or by group instance id; returns each one's error and the actions.
    mutating func leave(members leaving: [(memberId: String, groupInstanceId: String?)], now: Int64) -> (errors: [KafkaGroupError?], actions: [Action]) {
        var errors: [KafkaGroupError?] = []
        var removedAny = false
        var actions: [Action] = []
        for leaver in leaving {
            var id = leaver.memberId
            if let instance = leaver.groupInstanceId {
                guard let member = self.members.values.first(where: { $0.groupInstanceId == instance }) else {
                    errors.append(.unknownMemberId)
                    continue
                }
                if !id.isEmpty && id != member.memberId {
                    errors.append(.fencedInstanceId)
                    continue
                }
                id = member.memberId
            }
            guard let member = self.members[id] else {
                errors.append(.unknownMemberId)
                continue
            }
            if let waiter = member.pendingJoin { actions.append(.join(waiter: waiter, JoinResponse(error: .unknownMemberId, memberId: id))) }
            if let waiter = member.pendingSync { actions.append(.sync(waiter: waiter, SyncResponse(error: .unknownMemberId))) }
            self.removeMember(id)
            errors.append(nil)
            removedAny = true
        }
        if removedAny { actions += self.membershipChanged(now: now) }
        return (errors, actions)
    }

    private mutating func removeMember(_ id: String) {
        self.members.removeValue(forKey: id)
        self.joinOrder.removeAll { $0 == id }
        if self.leaderId == id { self.leaderId = nil }
    }

    /// After members left or expired: rebalance the rest, or become empty.
    private mutating func membershipChanged(now: Int64) -> [Action] {
        if self.members.isEmpty {
            var actions: [Action] = []
            if self.state == .preparingRebalance { actions += self.completeRebalanceIfReady(now: now, force: true) }
            self.state = .empty
            self.leaderId = nil
            self.protocolName = nil
            self.rebalanceDeadlineMs = nil
            self.unstored = self.stored
            return actions
        }
        switch self.state {
        case .stable, .completingRebalance:
            return self.prepareRebalance(now: now) + self.completeRebalanceIfReady(now: now)
        case .preparingRebalance:
            return self.completeRebalanceIfReady(now: now)
        case .empty, .dead:
            return []
        }
    }

    // MARK: Time

    /// Expires members whose session timed out and completes rebalances whose deadline passed.
    mutating func expire(now: Int64) -> [Action] {
        var actions: [Action] = []
        self.pendingMemberIds = self.pendingMemberIds.filter { $0.value > now }
        var expired: [String] = []
        for (id, member) in self.members where member.pendingJoin == nil && now - member.lastHeartbeatMs > Int64(member.sessionTimeoutMs) {
            // A member waiting in a join is kept alive by the join; others must heartbeat.
            expired.append(id)
        }
        if !expired.isEmpty {
            for id in expired {
                if let waiter = self.members[id]?.pendingSync { actions.append(.sync(waiter: waiter, SyncResponse(error: .unknownMemberId))) }
                self.removeMember(id)
            }
            actions += self.membershipChanged(now: now)
        }
        if self.state == .preparingRebalance, let deadline = self.rebalanceDeadlineMs, now >= deadline {
            actions += self.completeRebalanceIfReady(now: now, force: true)
        }
        return actions
    }

    /// Marks the group deleted (DeleteGroups on an empty group).
    mutating func markDead() {
        self.state = .dead
    }

    /// Whether an offset commit from this member and generation may be accepted.
    func validateCommit(memberId: String, generationId: Int32, groupInstanceId: String?) -> KafkaGroupError? {
        // A group being deleted: the client finds the coordinator again and commits to the new group.
        if self.state == .dead { return .coordinatorNotAvailable }
        if generationId < 0 && memberId.isEmpty {
            // Simple (unmanaged) commits are allowed while nobody is a member.
            return self.members.isEmpty ? nil : .unknownMemberId
        }
        guard let member = self.members[memberId] else { return .unknownMemberId }
        if let instance = groupInstanceId, member.groupInstanceId != instance { return .fencedInstanceId }
        guard generationId == self.generationId else { return .illegalGeneration }
        if self.state == .preparingRebalance { return .rebalanceInProgress }
        return nil
    }
}

/// The group errors of the classic protocol; the broker maps them to Kafka error codes.
enum KafkaGroupError: Sendable, Equatable {
    case coordinatorNotAvailable
    case unknownMemberId
    case illegalGeneration
    case inconsistentGroupProtocol
    case rebalanceInProgress
    case memberIdRequired
    case fencedInstanceId
    case groupIdNotFound
    case nonEmptyGroup
    case invalidSessionTimeout
    case invalidGroupId
}
