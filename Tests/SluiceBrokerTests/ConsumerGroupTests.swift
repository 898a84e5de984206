import SluiceCore
import Testing
@testable import SluiceBroker

@Suite struct ConsumerGroupTests {
    func request(_ waiter: UInt64, member: String = "", client: String = "c", protocols: [String] = ["range"], session: Int32 = 10_000,
                 rebalance: Int32 = 30_000, requiresKnownMemberId: Bool = false) -> ConsumerGroup.JoinRequest {
        ConsumerGroup.JoinRequest(
            waiter: waiter, memberId: member, groupInstanceId: nil, clientId: client, clientHost: "/127.0.0.1", sessionTimeoutMs: session,
            rebalanceTimeoutMs: rebalance, protocolType: "consumer", protocols: protocols.map { .init(name: $0, metadata: Array($0.utf8)) },
            requiresKnownMemberId: requiresKnownMemberId, reason: nil)
    }

    func joined(_ actions: [ConsumerGroup.Action]) -> [UInt64: ConsumerGroup.JoinResponse] {
        var result: [UInt64: ConsumerGroup.JoinResponse] = [:]
        for case .join(let waiter, let response) in actions { result[waiter] = response }
        return result
    }

    func synced(_ actions: [ConsumerGroup.Action]) -> [UInt64: ConsumerGroup.SyncResponse] {
        var result: [UInt64: ConsumerGroup.SyncResponse] = [:]
        for case .sync(let waiter, let response) in actions { result[waiter] = response }
        return result
    }

    @Test func firstMemberLearnsItsIdThenLeadsGenerationOne() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 0)
        let first = joined(group.join(request(1, requiresKnownMemberId: true), now: 0))[1]!
        #expect(first.error == .memberIdRequired)
        let memberId = first.memberId
        #expect(!memberId.isEmpty)
        let response = joined(group.join(request(2, member: memberId, requiresKnownMemberId: true), now: 1))[2]!
        #expect(response.error == nil)
        #expect(response.generationId == 1 && response.leader == memberId && response.members.count == 1)
        #expect(response.protocolName == "range")
        #expect(group.state == .completingRebalance)
        let sync = synced(group.sync(waiter: 3, memberId: memberId, generationId: 1, protocolType: "consumer", protocolName: "range",
                                     assignments: [memberId: [1, 2, 3]], now: 2))[3]!
        #expect(sync.error == nil && sync.assignment == [1, 2, 3])
        #expect(group.state == .stable)
        #expect(group.heartbeat(memberId: memberId, generationId: 1, now: 3) == nil)
        #expect(group.heartbeat(memberId: memberId, generationId: 0, now: 3) == .illegalGeneration)
        #expect(group.heartbeat(memberId: "stranger", generationId: 1, now: 3) == .unknownMemberId)
    }

    @Test func aSecondMemberTriggersARebalanceThatWaitsForTheFirst() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 0)
        let a = joined(group.join(request(1), now: 0))[1]!
        _ = group.sync(waiter: 2, memberId: a.memberId, generationId: 1, protocolType: nil, protocolName: nil, assignments: [a.memberId: [1]], now: 0)
        #expect(group.state == .stable)
        // B joins: the group prepares a rebalance; B waits until A rejoins.
        #expect(joined(group.join(request(3, client: "b"), now: 10)).isEmpty)
        #expect(group.state == .preparingRebalance)
        #expect(group.heartbeat(memberId: a.memberId, generationId: 1, now: 11) == .rebalanceInProgress)
        let both = joined(group.join(request(4, member: a.memberId), now: 12))
        #expect(both.count == 2)
        #expect(both[4]!.generationId == 2 && both[3]!.generationId == 2)
        #expect(both[4]!.leader == a.memberId)
        #expect(both[4]!.members.count == 2 && both[3]!.members.isEmpty, "only the leader gets the member list")
        let b = both[3]!.memberId
        // The follower's sync waits for the leader's assignment.
        #expect(synced(group.sync(waiter: 5, memberId: b, generationId: 2, protocolType: nil, protocolName: nil, assignments: [:], now: 13)).isEmpty)
        let done = synced(group.sync(waiter: 6, memberId: a.memberId, generationId: 2, protocolType: nil, protocolName: nil,
                                     assignments: [a.memberId: [0xA], b: [0xB]], now: 14))
        #expect(done[5]?.assignment == [0xB] && done[6]?.assignment == [0xA])
    }

    @Test func membersThatDoNotRejoinAreDroppedAtTheRebalanceTimeout() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 0)
        let a = joined(group.join(request(1, rebalance: 5_000), now: 0))[1]!
        _ = group.sync(waiter: 2, memberId: a.memberId, generationId: 1, protocolType: nil, protocolName: nil, assignments: [:], now: 0)
        _ = group.join(request(3, client: "b", rebalance: 5_000), now: 100)
        // A never rejoins (but keeps heartbeating: the session does not expire).
        _ = group.heartbeat(memberId: a.memberId, generationId: 1, now: 2_000)
        #expect(joined(group.expire(now: 4_000)).isEmpty)
        let forced = joined(group.expire(now: 5_200))
        #expect(forced[3]?.generationId == 2)
        #expect(group.members.count == 1 && group.members[a.memberId] == nil)
    }

    @Test func sessionExpiryRemovesAMemberAndRebalances() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 0)
        let a = joined(group.join(request(1, session: 1_000), now: 0))[1]!
        _ = group.sync(waiter: 2, memberId: a.memberId, generationId: 1, protocolType: nil, protocolName: nil, assignments: [:], now: 0)
        _ = group.expire(now: 500)
        #expect(group.members.count == 1)
        _ = group.expire(now: 1_500)
        #expect(group.members.isEmpty && group.state == .empty)
    }

    @Test func leaveRebalancesTheRest() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 0)
        let a = joined(group.join(request(1), now: 0))[1]!
        _ = group.join(request(2, client: "b"), now: 0)
        let both = joined(group.join(request(3, member: a.memberId), now: 1))
        let b = both[2]!.memberId
        _ = group.sync(waiter: 4, memberId: a.memberId, generationId: both[3]!.generationId, protocolType: nil, protocolName: nil, assignments: [:], now: 2)
        let (errors, _) = group.leave(members: [(b, nil)], now: 3)
        #expect(errors == [nil])
        #expect(group.state == .preparingRebalance)
        let rejoined = joined(group.join(request(5, member: a.memberId), now: 4))
        #expect(rejoined[5]?.members.count == 1)
        #expect(group.leave(members: [("nobody", nil)], now: 5).errors == [.unknownMemberId])
    }

    @Test func protocolsMustOverlapAndTheMostPreferredCommonOneWins() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 0)
        _ = group.join(request(1, protocols: ["cooperative-sticky", "range"]), now: 0)
        #expect(joined(group.join(request(2, client: "x", protocols: ["roundrobin"]), now: 0))[2]?.error == .inconsistentGroupProtocol)
        var mixed = ConsumerGroup(groupId: "m", initialRebalanceDelayMs: 0)
        let a = joined(mixed.join(request(1, protocols: ["range", "roundrobin"]), now: 0))[1]!
        _ = mixed.join(request(2, client: "b", protocols: ["roundrobin", "range"]), now: 0)
        _ = mixed.join(request(3, client: "c", protocols: ["roundrobin"]), now: 0)
        let responses = joined(mixed.join(request(4, member: a.memberId, protocols: ["range", "roundrobin"]), now: 1))
        #expect(responses[4]?.protocolName == "roundrobin")
    }

    @Test func initialRebalanceDelayGathersMembersStartingTogether() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 3_000)
        #expect(joined(group.join(request(1), now: 0)).isEmpty)
        #expect(joined(group.join(request(2, client: "b"), now: 1_000)).isEmpty)
        let responses = joined(group.expire(now: 3_100))
        #expect(responses.count == 2)
        #expect(Set(responses.values.map(\.generationId)) == [1])
    }

    @Test func offsetCommitValidation() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 0)
        #expect(group.validateCommit(memberId: "", generationId: -1, groupInstanceId: nil) == nil, "simple commits while empty")
        let a = joined(group.join(request(1), now: 0))[1]!
        #expect(group.validateCommit(memberId: "", generationId: -1, groupInstanceId: nil) == .unknownMemberId)
        #expect(group.validateCommit(memberId: a.memberId, generationId: 1, groupInstanceId: nil) == nil)
        #expect(group.validateCommit(memberId: a.memberId, generationId: 7, groupInstanceId: nil) == .illegalGeneration)
    }

    @Test func aStoredStableGroupComesBackWithItsMembersGenerationAndAssignments() throws {
        var group = ConsumerGroup(groupId: "g", initialRebalanceDelayMs: 0)
        let a = joined(group.join(request(1), now: 0))[1]!
        #expect(group.unstored == nil, "nothing to store before the first assignment")
        _ = group.sync(waiter: 2, memberId: a.memberId, generationId: 1, protocolType: nil, protocolName: nil, assignments: [a.memberId: [1]], now: 0)
        #expect(group.takeUnstored()?.generationId == 1)
        #expect(group.unstored == nil)
        _ = group.join(request(3, client: "b"), now: 10)
        let both = joined(group.join(request(4, member: a.memberId), now: 11))
        let b = both[3]!.memberId
        #expect(group.state == .completingRebalance && group.unstored == nil, "nothing new to store before the assignment")
        _ = group.sync(waiter: 5, memberId: b, generationId: 2, protocolType: "consumer", protocolName: "range", assignments: [:], now: 12)
        #expect(group.unstored == nil, "a follower's sync changes nothing")
        _ = group.sync(waiter: 6, memberId: a.memberId, generationId: 2, protocolType: "consumer", protocolName: "range",
                       assignments: [a.memberId: [7], b: [8, 9]], now: 13)
        #expect(group.state == .stable && group.unstored == group.stored)
        #expect(group.stored.members.allSatisfy { $0.protocols.map(\.name) == ["range"] }, "only the chosen protocol is stored")

        // Through the record's bytes, as a restarted broker reads them.
        let bytes = GroupMetadataRecord.value(group.stored)
        let stored = try GroupMetadataRecord.parseValue(bytes)
        #expect(stored == group.stored)
        #expect(try GroupMetadataRecord.parseKey(GroupMetadataRecord.key(group: "g")) == "g")
        #expect(try GroupMetadataRecord.parseKey(OffsetRecord.key(group: "g", partition: .init("t", 0))) == nil)
        #expect(throws: SluiceError.self) { try GroupMetadataRecord.parseValue(Array(bytes.dropLast())) }

        var restored = ConsumerGroup(groupId: "g", restoring: stored, initialRebalanceDelayMs: 0, now: 1_000)
        #expect(restored.state == .stable && restored.generationId == 2 && restored.leaderId == a.memberId)
        #expect(restored.heartbeat(memberId: b, generationId: 2, now: 1_001) == nil)
        #expect(restored.validateCommit(memberId: a.memberId, generationId: 2, groupInstanceId: nil) == nil)
        let assignment = synced(restored.sync(waiter: 7, memberId: b, generationId: 2, protocolType: nil, protocolName: nil, assignments: [:], now: 1_002))
        #expect(assignment[7]?.assignment == [8, 9])
        // A follower rejoining with the same protocols gets the stored generation at once.
        let rejoin = joined(restored.join(request(8, member: b, client: "b"), now: 1_003))
        #expect(rejoin[8]?.generationId == 2 && rejoin[8]?.error == nil)
        // A member that is gone expires after its session, as before the restart.
        _ = restored.heartbeat(memberId: b, generationId: 2, now: 10_000)
        _ = restored.expire(now: 11_001 + 10_000)
        #expect(restored.members.isEmpty && restored.state == .empty && restored.unstored?.members.isEmpty == true)
        let empty = try GroupMetadataRecord.parseValue(GroupMetadataRecord.value(restored.stored))
        #expect(empty.members.isEmpty && empty.generationId == restored.generationId)
        let reborn = ConsumerGroup(groupId: "g", restoring: empty, initialRebalanceDelayMs: 0, now: 0)
        #expect(reborn.state == .empty && reborn.generationId == restored.generationId)
    }

    @Test func theFirstMemberOfAnEmptyGroupSetsItsProtocolType() throws {
        let stored = StoredGroup(protocolType: "connect", generationId: 4, protocolName: nil, leaderId: nil, members: [])
        var group = ConsumerGroup(groupId: "g", restoring: stored, initialRebalanceDelayMs: 0, now: 0)
        let joined = joined(group.join(request(1), now: 1))[1]!
        #expect(joined.error == nil && joined.protocolType == "consumer" && joined.generationId == 5)
    }
}
