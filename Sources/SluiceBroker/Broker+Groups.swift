import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

extension KafkaGroupError {
    var kafkaCode: KafkaErrorCode {
        switch self {
        case .coordinatorNotAvailable: .coordinatorNotAvailable
        case .unknownMemberId: .unknownMemberId
        case .illegalGeneration: .illegalGeneration
        case .inconsistentGroupProtocol: .inconsistentGroupProtocol
        case .rebalanceInProgress: .rebalanceInProgress
        case .memberIdRequired: .memberIdRequired
        case .fencedInstanceId: .fencedInstanceId
        case .groupIdNotFound: .groupIdNotFound
        case .nonEmptyGroup: .nonEmptyGroup
        case .invalidSessionTimeout: .invalidSessionTimeout
        case .invalidGroupId: .invalidGroupId
        }
    }
}

extension Optional where Wrapped == KafkaGroupError {
    var code: Int16 { self?.kafkaCode.rawValue ?? 0 }
}

extension Broker {
    func joinGroup(_ request: JoinGroupRequest, frame: KafkaRequestFrame, connection: ConnectionContext) async -> JoinGroupResponse {
        let joinRequest = ConsumerGroup.JoinRequest(
            waiter: 0, memberId: request.memberId, groupInstanceId: request.groupInstanceId, clientId: frame.clientId ?? "",
            clientHost: "/" + connection.remoteAddress, sessionTimeoutMs: request.sessionTimeoutMs,
            rebalanceTimeoutMs: request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
            protocolType: request.protocolType,
            protocols: request.protocols.map { .init(name: $0.name, metadata: $0.metadata) },
            requiresKnownMemberId: frame.apiVersion >= 4, reason: request.reason)
        let result = await self.groups.join(groupId: request.groupId, request: joinRequest)
        var response = JoinGroupResponse()
        response.errorCode = result.error.code
        response.generationId = result.generationId
        if frame.apiVersion >= 7 {
            response.protocolType = result.protocolType
            response.protocolName = result.protocolName
        } else {
            response.protocolName = result.protocolName ?? ""
        }
        response.leader = result.leader
        response.memberId = result.memberId
        response.members = result.members.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata) }
        return response
    }

    func syncGroup(_ request: SyncGroupRequest, version: Int16) async -> SyncGroupResponse {
        var assignments: [String: [UInt8]] = [:]
        for assignment in request.assignments { assignments[assignment.memberId] = assignment.assignment }
        let result = await self.groups.sync(groupId: request.groupId, memberId: request.memberId, generationId: request.generationId,
                                            protocolType: request.protocolType, protocolName: request.protocolName, assignments: assignments)
        var response = SyncGroupResponse()
        response.errorCode = result.error.code
        if version >= 5 {
            response.protocolType = result.protocolType
            response.protocolName = result.protocolName
        }
        response.assignment = result.assignment
        return response
    }

    func heartbeat(_ request: HeartbeatRequest) async -> HeartbeatResponse {
        var response = HeartbeatResponse()
        response.errorCode = await self.groups.heartbeat(groupId: request.groupId, memberId: request.memberId, generationId: request.generationId).code
        return response
    }

    func leaveGroup(_ request: LeaveGroupRequest, version: Int16) async -> LeaveGroupResponse {
        var response = LeaveGroupResponse()
        if version < 3 {
            response.errorCode = (await self.groups.leave(groupId: request.groupId, members: [(request.memberId, nil)])).first!.code
            return response
        }
        let members = request.members.map { (memberId: $0.memberId, groupInstanceId: $0.groupInstanceId) }
        let errors = await self.groups.leave(groupId: request.groupId, members: members)
        response.members = zip(request.members, errors).map { member, error in
            .init(memberId: member.memberId, groupInstanceId: member.groupInstanceId, errorCode: error.code)
        }
        return response
    }

    func offsetCommit(_ request: OffsetCommitRequest) async -> OffsetCommitResponse {
        var offsets: [TopicPartition: CommittedOffset] = [:]
        var unknown: Set<TopicPartition> = []
        let now = currentTimeMillis()
        for topic in request.topics {
            for partition in topic.partitions {
                let key = TopicPartition(topic.name, partition.partitionIndex)
                guard (try? self.log.partition(key)) != nil else {
                    unknown.insert(key)
                    continue
                }
                offsets[key] = CommittedOffset(offset: partition.committedOffset, leaderEpoch: partition.committedLeaderEpoch,
                                               metadata: partition.committedMetadata,
                                               commitTimestampMs: partition.commitTimestamp >= 0 ? partition.commitTimestamp : now)
            }
        }
        let error = await self.groups.commit(groupId: request.groupId, memberId: request.memberId, generationId: request.generationIdOrMemberEpoch,
                                             groupInstanceId: request.groupInstanceId, offsets: offsets)
        var response = OffsetCommitResponse()
        response.topics = request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { partition in
                let key = TopicPartition(topic.name, partition.partitionIndex)
                let code = unknown.contains(key) ? KafkaErrorCode.unknownTopicOrPartition.rawValue : error.code
                return .init(partitionIndex: partition.partitionIndex, errorCode: code)
            })
        }
        return response
    }

    func offsetFetch(_ request: OffsetFetchRequest, version: Int16) async -> OffsetFetchResponse {
        var response = OffsetFetchResponse()
        if version >= 8 {
            for group in request.groups {
                let partitions = group.topics.map { topics in topics.flatMap { topic in topic.partitionIndexes.map { TopicPartition(topic.name, $0) } } }
                let (offsets, unstable) = await self.groups.fetch(groupId: group.groupId, partitions: partitions, requireStable: request.requireStable)
                var result = OffsetFetchResponse.OffsetFetchResponseGroup(groupId: group.groupId)
                let wanted = partitions ?? offsets.keys.sorted()
                for (topic, entries) in Dictionary(grouping: wanted, by: \.topic).sorted(by: { $0.key < $1.key }) {
                    result.topics.append(.init(name: topic, partitions: entries.sorted().map { partition in
                        let committed = offsets[partition]
                        return .init(partitionIndex: partition.partition, committedOffset: committed?.offset ?? -1,
                                     committedLeaderEpoch: committed?.leaderEpoch ?? -1, metadata: committed?.metadata ?? "",
                                     errorCode: unstable.contains(partition) ? KafkaErrorCode.unstableOffsetCommit.rawValue : 0)
                    }))
                }
                response.groups.append(result)
            }
            return response
        }
        let partitions = request.topics.map { topics in topics.flatMap { topic in topic.partitionIndexes.map { TopicPartition(topic.name, $0) } } }
        let (offsets, unstable) = await self.groups.fetch(groupId: request.groupId, partitions: partitions, requireStable: request.requireStable)
        let wanted = partitions ?? offsets.keys.sorted()
        for (topic, entries) in Dictionary(grouping: wanted, by: \.topic).sorted(by: { $0.key < $1.key }) {
            response.topics.append(.init(name: topic, partitions: entries.sorted().map { partition in
                let committed = offsets[partition]
                return .init(partitionIndex: partition.partition, committedOffset: committed?.offset ?? -1,
                             committedLeaderEpoch: committed?.leaderEpoch ?? -1, metadata: committed?.metadata ?? "",
                             errorCode: unstable.contains(partition) ? KafkaErrorCode.unstableOffsetCommit.rawValue : 0)
            }))
        }
        return response
    }

    func offsetDelete(_ request: OffsetDeleteRequest) async -> OffsetDeleteResponse {
        let partitions = request.topics.flatMap { topic in topic.partitions.map { TopicPartition(topic.name, $0.partitionIndex) } }
        let error = await self.groups.deleteOffsets(groupId: request.groupId, partitions: partitions)
        var response = OffsetDeleteResponse()
        if let error, error == .groupIdNotFound || error == .nonEmptyGroup {
            response.errorCode = error.kafkaCode.rawValue
            return response
        }
        response.topics = request.topics.map { topic in
            .init(name: topic.name, partitions: topic.partitions.map { .init(partitionIndex: $0.partitionIndex, errorCode: error.code) })
        }
        return response
    }

    func listGroups(_ request: ListGroupsRequest) async -> ListGroupsResponse {
        var response = ListGroupsResponse()
        let types = Set(request.typesFilter.map { $0.lowercased() })
        let listed = await self.groups.listGroups(states: Set(request.statesFilter))
        guard types.isEmpty || types.contains("classic") else { return response }
        response.groups = listed.map { group in
            ListGroupsResponse.ListedGroup(groupId: group.groupId, protocolType: group.protocolType, groupState: group.state, groupType: "classic")
        }
        return response
    }

    func describeGroups(_ request: DescribeGroupsRequest) async -> DescribeGroupsResponse {
        var response = DescribeGroupsResponse()
        for id in request.groups {
            guard let group = await self.groups.describe(groupId: id) else {
                response.groups.append(.init(errorCode: 0, groupId: id, groupState: "Dead", protocolType: "", protocolData: ""))
                continue
            }
            response.groups.append(.init(
                errorCode: 0, groupId: id, groupState: group.state, protocolType: group.protocolType, protocolData: group.protocolName,
                members: group.members.map {
                    .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, clientId: $0.clientId, clientHost: $0.clientHost,
                          memberMetadata: $0.metadata, memberAssignment: $0.assignment)
                }))
        }
        return response
    }

    func deleteGroups(_ request: DeleteGroupsRequest) async -> DeleteGroupsResponse {
        var response = DeleteGroupsResponse()
        for id in request.groupsNames {
            let error = await self.groups.delete(groupId: id)
            response.results.append(.init(groupId: id, errorCode: error.code))
        }
        return response
    }
}
