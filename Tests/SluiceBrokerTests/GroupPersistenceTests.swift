import Logging
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog
import Testing
import _SluiceTestSupport
@testable import SluiceBroker

/// Group membership survives a broker restart: members of the last stable generation go on
/// heartbeating and committing without rejoining, as with Kafka's group metadata records.
@Suite struct GroupPersistenceTests {
    /// A broker over the log in `directory`, with no initial rebalance delay.
    func withBroker(in directory: TemporaryDirectory, _ body: (Exchange) async throws -> Void) async throws {
        var options = LogOptions()
        options.runsMaintenance = false
        let log = try Log(directory: directory.path, options: options)
        defer { try? log.close() }
        if !log.topicNames.contains("t") { try log.createTopic("t", config: TopicConfig(partitionCount: 2)) }
        var config = BrokerConfig()
        config.groupInitialRebalanceDelayMs = 0
        let broker = try await Broker(log: log, config: config, clusterId: "test", logger: Logger(label: "test"))
        try await body(Exchange(broker: broker))
    }

    func join(_ exchange: Exchange, member: String) async throws -> JoinGroupResponse {
        var request = JoinGroupRequest()
        request.groupId = "g"
        request.sessionTimeoutMs = 30_000
        request.rebalanceTimeoutMs = 30_000
        request.memberId = member
        request.protocolType = "consumer"
        request.protocols = [.init(name: "range", metadata: [0, 1, 2])]
        return try await exchange.send(request, version: 5, as: JoinGroupResponse.self)
    }

    func heartbeat(_ exchange: Exchange, member: String, generation: Int32) async throws -> Int16 {
        try await exchange.send(HeartbeatRequest(groupId: "g", generationId: generation, memberId: member), version: 3,
                                as: HeartbeatResponse.self).errorCode
    }

    @Test func membersOfTheLastStableGenerationCarryOnAfterARestart() async throws {
        let directory = TemporaryDirectory(prefix: "group-persistence")
        defer { directory.remove() }
        var memberId = ""
        var generation: Int32 = -1
        try await withBroker(in: directory) { exchange in
            let first = try await self.join(exchange, member: "")
            #expect(first.errorCode == KafkaErrorCode.memberIdRequired.rawValue)
            let joined = try await self.join(exchange, member: first.memberId)
            #expect(joined.errorCode == 0 && joined.leader == joined.memberId)
            memberId = joined.memberId
            generation = joined.generationId
            var sync = SyncGroupRequest()
            sync.groupId = "g"
            sync.generationId = generation
            sync.memberId = memberId
            sync.assignments = [.init(memberId: memberId, assignment: [9, 9])]
            let synced = try await exchange.send(sync, version: 3, as: SyncGroupResponse.self)
            #expect(synced.errorCode == 0 && synced.assignment == [9, 9])
        }

        // A new broker over the same log: the member is known, with its generation and assignment.
        try await withBroker(in: directory) { exchange in
            #expect(try await self.heartbeat(exchange, member: memberId, generation: generation) == 0)
            #expect(try await self.heartbeat(exchange, member: "stranger", generation: generation) == KafkaErrorCode.unknownMemberId.rawValue)
            var describe = DescribeGroupsRequest()
            describe.groups = ["g"]
            let described = try await exchange.send(describe, version: 3, as: DescribeGroupsResponse.self)
            #expect(described.groups.first?.groupState == "Stable")
            #expect(described.groups.first?.members.map(\.memberId) == [memberId])
            #expect(described.groups.first?.members.first?.memberAssignment == [9, 9])

            var commit = OffsetCommitRequest()
            commit.groupId = "g"
            commit.generationIdOrMemberEpoch = generation
            commit.memberId = memberId
            commit.topics = [.init(name: "t", partitions: [.init(partitionIndex: 0, committedOffset: 42)])]
            let committed = try await exchange.send(commit, version: 7, as: OffsetCommitResponse.self)
            #expect(committed.topics.first?.partitions.first?.errorCode == 0)

            // The member leaves: the group is stored empty, with its generation.
            var leave = LeaveGroupRequest()
            leave.groupId = "g"
            leave.members = [.init(memberId: memberId)]
            #expect(try await exchange.send(leave, version: 3, as: LeaveGroupResponse.self).errorCode == 0)
        }

        try await withBroker(in: directory) { exchange in
            #expect(try await self.heartbeat(exchange, member: memberId, generation: generation) == KafkaErrorCode.unknownMemberId.rawValue)
            var describe = DescribeGroupsRequest()
            describe.groups = ["g"]
            let described = try await exchange.send(describe, version: 3, as: DescribeGroupsResponse.self)
            #expect(described.groups.first?.groupState == "Empty")
            // A new member starts the generation after the stored one, as the same broker would have.
            let first = try await self.join(exchange, member: "")
            let joined = try await self.join(exchange, member: first.memberId)
            #expect(joined.generationId > generation)

            // Deleting the group removes its stored membership too.
            var leave = LeaveGroupRequest()
            leave.groupId = "g"
            leave.members = [.init(memberId: joined.memberId)]
            _ = try await exchange.send(leave, version: 3, as: LeaveGroupResponse.self)
            var delete = DeleteGroupsRequest()
            delete.groupsNames = ["g"]
            let deleted = try await exchange.send(delete, version: 2, as: DeleteGroupsResponse.self)
            #expect(deleted.results.first?.errorCode == 0)
        }

        try await withBroker(in: directory) { exchange in
            let listed = try await exchange.send(ListGroupsRequest(), version: 3, as: ListGroupsResponse.self)
            #expect(listed.groups.isEmpty)
        }
    }

    /// Records a broker cannot read in __consumer_offsets (a foreign key of version 2, a corrupt value)
    /// are skipped with a warning: the broker starts, and the groups it can read come back.
    @Test func unreadableRecordsInTheOffsetsTopicDoNotStopTheBroker() async throws {
        let directory = TemporaryDirectory(prefix: "group-persistence-corrupt")
        defer { directory.remove() }
        var memberId = ""
        try await withBroker(in: directory) { exchange in
            let first = try await self.join(exchange, member: "")
            let joined = try await self.join(exchange, member: first.memberId)
            memberId = joined.memberId
            var sync = SyncGroupRequest()
            sync.groupId = "g"
            sync.generationId = joined.generationId
            sync.memberId = memberId
            sync.assignments = [.init(memberId: memberId, assignment: [1])]
            _ = try await exchange.send(sync, version: 3, as: SyncGroupResponse.self)
        }
        do {
            let log = try Log(directory: directory.path, options: LogOptions())
            defer { try? log.close() }
            let partition = try log.partition(TopicPartition("__consumer_offsets", 0))
            var builder = RecordBatchBuilder()
            builder.append(ProducerRecord(key: [2], value: [1, 2, 3], timestamp: 0))  // a truncated group name
            builder.append(ProducerRecord(key: GroupMetadataRecord.key(group: "other"), value: [9, 9], timestamp: 0))  // unknown version
            builder.append(ProducerRecord(key: OffsetRecord.key(group: "g", partition: TopicPartition("t", 1)), value: [1], timestamp: 0))
            _ = try partition.append(try builder.build())
            try partition.flush()
        }
        try await withBroker(in: directory) { exchange in
            #expect(try await self.heartbeat(exchange, member: memberId, generation: 1) == 0, "the readable group is back")
            let listed = try await exchange.send(ListGroupsRequest(), version: 3, as: ListGroupsResponse.self)
            #expect(listed.groups.map(\.groupId) == ["g"])
        }
    }
}
