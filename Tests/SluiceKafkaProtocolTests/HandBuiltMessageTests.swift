import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import Testing

/// Realistic messages of the APIs a broker with groups, transactions and idempotence serves, written at every
/// version: versions that carry all their data round-trip it, versions that would lose a field that is not
/// ignorable refuse to write, and ignorable fields are dropped.
@Suite("Hand-built messages of the important APIs across versions")
struct HandBuiltMessageTests {
    static func batch(recordCount: Int, producerId: Int64 = -1) throws -> ByteBuffer {
        var builder = RecordBatchBuilder(compression: .none)
        builder.producerId = producerId
        builder.producerEpoch = producerId < 0 ? -1 : 0
        builder.baseSequence = producerId < 0 ? -1 : 0
        for index in 0..<recordCount {
            builder.append(
                ProducerRecord(
                    key: Array("key-\(index)".utf8),
                    value: Array("value \(index)".utf8),
                    headers: [],
                    timestamp: 1_700_000_000_000 + Int64(index)
                ),
                offsetDelta: Int32(index)
            )
        }
        return try builder.build().buffer
    }

    static let topicId = KafkaUUID(
        mostSignificantBits: 0x0123_4567_89AB_CDEF, leastSignificantBits: 0x0FED_CBA9_8765_4321)

    /// Writes `value` at every version and checks each outcome against what the schema says should happen.
    /// Returns the versions that wrote.
    @discardableResult
    static func checkAcrossVersions<Message: KafkaCodable>(_ value: Message) throws -> [Int16] {
        let schema = Message.kafkaSchema
        let tree = SchemaMirror.tree(of: value, schema: schema)
        var written: [Int16] = []
        for version in Message.validVersions {
            let flexible = Message.isFlexible(version: version)
            let expectation = SchemaProjection.project(tree, schema: schema, version: version, flexible: flexible)
            switch expectation {
            case .success(let projected):
                let encoded = try value.encoded(version: version)
                let decoded = try Message(decoding: encoded, version: version)
                if let difference = SchemaMirror.tree(of: decoded, schema: schema).difference(from: projected) {
                    Issue.record("\(schema.name) v\(version): \(difference)")
                }
                // The encoding is canonical: decoding and encoding again gives the same bytes.
                #expect(try decoded.encoded(version: version) == encoded)
                written.append(version)
            case .failure(let refusal):
                #expect(throws: KafkaProtocolError.self, "\(schema.name) v\(version): \(refusal.reason)") {
                    _ = try value.encoded(version: version)
                }
            }
        }
        return written
    }

    @Test func produceRequest() throws {
        let request = ProduceRequest(
            transactionalId: "payments-txn",
            acks: -1,
            timeoutMs: 30_000,
            topicData: [
                .init(
                    name: "orders",
                    partitionData: [
                        .init(index: 0, records: try Self.batch(recordCount: 3, producerId: 42)),
                        .init(index: 7, records: try Self.batch(recordCount: 1, producerId: 42)),
                    ]
                ),
                .init(name: "audit", partitionData: [.init(index: 1, records: nil)]),
            ]
        )
        // The transactional id exists from version 3; older versions must refuse rather than drop it.
        #expect(try Self.checkAcrossVersions(request) == Array(3...11))
        var idempotent = request
        idempotent.transactionalId = nil
        #expect(try Self.checkAcrossVersions(idempotent) == Array(0...11))
    }

    @Test func fetchRequestAndResponse() throws {
        let request = FetchRequest(
            clusterId: "cluster-1",
            maxWaitMs: 500,
            minBytes: 1,
            maxBytes: 52_428_800,
            isolationLevel: 1,
            sessionId: 12,
            sessionEpoch: 3,
            topics: [
                .init(
                    topic: "orders",
                    partitions: [
                        .init(
                            partition: 0,
                            currentLeaderEpoch: 4,
                            fetchOffset: 1_000,
                            logStartOffset: -1,
                            partitionMaxBytes: 1_048_576
                        )
                    ]
                )
            ],
            rackId: "rack-a"
        )
        // Forgotten topics are not ignorable but empty here; topic names end at v12 (ignorable): all versions write.
        let written = try Self.checkAcrossVersions(request)
        #expect(written == Array(0...17))
        // Isolation level is ignorable: v3 drops it.
        let v3 = try FetchRequest(decoding: try request.encoded(version: 3), version: 3)
        #expect(v3.isolationLevel == 0)
        #expect(v3.maxBytes == 52_428_800)

        var incremental = request
        incremental.forgottenTopicsData = [.init(topic: "old", topicId: Self.topicId, partitions: [1, 2])]
        #expect(try Self.checkAcrossVersions(incremental) == Array(7...17))

        let response = FetchResponse(
            throttleTimeMs: 0,
            errorCode: 0,
            sessionId: 12,
            responses: [
                .init(
                    topic: "orders",
                    topicId: .zero,
                    partitions: [
                        .init(
                            partitionIndex: 0,
                            highWatermark: 1_003,
                            lastStableOffset: 1_003,
                            logStartOffset: 0,
                            currentLeader: .init(leaderId: 1, leaderEpoch: 4),
                            abortedTransactions: [],
                            preferredReadReplica: -1,
                            records: try Self.batch(recordCount: 3)
                        ),
                        .init(
                            partitionIndex: 1,
                            errorCode: KafkaErrorCode.notLeaderOrFollower.rawValue,
                            highWatermark: -1,
                            lastStableOffset: -1,
                            logStartOffset: -1,
                            abortedTransactions: nil,
                            records: nil
                        ),
                    ]
                )
            ]
        )
        // CurrentLeader (tagged, v12+) and SessionId (v7+) are not ignorable: older versions refuse rather than
        // lose them. AbortedTransactions is ignorable, so a null one vanishes below v4.
        #expect(try Self.checkAcrossVersions(response) == Array(12...17))
        var plain = response
        plain.responses[0].partitions[0].currentLeader = .init()
        #expect(try Self.checkAcrossVersions(plain) == Array(7...17))
        plain.sessionId = 0
        #expect(try Self.checkAcrossVersions(plain) == Array(0...17))
        // The tagged CurrentLeader appears from v12 on.
        let v12 = try FetchResponse(decoding: try response.encoded(version: 12), version: 12)
        #expect(v12.responses[0].partitions[0].currentLeader == .init(leaderId: 1, leaderEpoch: 4))
    }

    @Test func metadataRequestNullTopicsMeansAll() throws {
        // v0 has no null: "all topics" is the empty array there, and a null must not be written.
        #expect(throws: KafkaProtocolError.self) { _ = try MetadataRequest(topics: nil).encoded(version: 0) }
        var buffer = try MetadataRequest(topics: nil, allowAutoTopicCreation: true).encoded(version: 1)
        #expect(Array(buffer.readableBytesView) == [0xFF, 0xFF, 0xFF, 0xFF])
        buffer = try MetadataRequest(topics: nil, allowAutoTopicCreation: false).encoded(version: 12)
        #expect(Array(buffer.readableBytesView) == [0x00, 0x00, 0x00, 0x00])
        buffer = try MetadataRequest(topics: [], allowAutoTopicCreation: false).encoded(version: 12)
        #expect(Array(buffer.readableBytesView) == [0x01, 0x00, 0x00, 0x00])
        #expect(try MetadataRequest(decoding: ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x00]), version: 12).topics == nil)
    }

    @Test func metadataResponse() throws {
        let response = MetadataResponse(
            throttleTimeMs: 0,
            brokers: [.init(nodeId: 1, host: "localhost", port: 9092, rack: nil)],
            clusterId: "sluice",
            controllerId: 1,
            topics: [
                .init(
                    errorCode: 0,
                    name: "orders",
                    topicId: Self.topicId,
                    isInternal: false,
                    partitions: [
                        .init(
                            errorCode: 0,
                            partitionIndex: 0,
                            leaderId: 1,
                            leaderEpoch: 0,
                            replicaNodes: [1],
                            isrNodes: [1],
                            offlineReplicas: []
                        )
                    ],
                    topicAuthorizedOperations: -2_147_483_648
                )
            ],
            clusterAuthorizedOperations: -2_147_483_648
        )
        try Self.checkAcrossVersions(response)
    }

    @Test func apiVersions() throws {
        // v3 request: two compact strings and an empty tagged-field section.
        let request = ApiVersionsRequest(clientSoftwareName: "sluice", clientSoftwareVersion: "1.0")
        let requestBytes = try request.encoded(version: 3)
        #expect(Array(requestBytes.readableBytesView) == [7] + Array("sluice".utf8) + [4] + Array("1.0".utf8) + [0])
        // Both fields are ignorable: versions 0-2 drop them.
        #expect(try request.encoded(version: 2).readableBytes == 0)

        let response = ApiVersionsResponse(
            errorCode: 0,
            apiKeys: ApiKey.allCases.map {
                .init(
                    apiKey: $0.rawValue, minVersion: $0.validVersions.lowerBound,
                    maxVersion: $0.validVersions.upperBound)
            },
            throttleTimeMs: 0,
            supportedFeatures: [.init(name: "metadata.version", minVersion: 1, maxVersion: 21)],
            finalizedFeaturesEpoch: 7,
            finalizedFeatures: [.init(name: "metadata.version", maxVersionLevel: 21, minVersionLevel: 21)],
            zkMigrationReady: true
        )
        try Self.checkAcrossVersions(response)
        // The features are tagged fields 0-3, written in tag order after the throttle time.
        let bytes = Array(try response.encoded(version: 3).readableBytesView)
        let taggedStart = 2 + 1 + ApiKey.allCases.count * 7 + 4
        #expect(bytes[taggedStart] == 4)  // four tagged fields
        #expect(bytes[taggedStart + 1] == 0)  // the first is tag 0, SupportedFeatures
        #expect(bytes.suffix(3) == [3, 1, 1])  // the last is tag 3, ZkMigrationReady: 1 byte, true
        let v2 = try ApiVersionsResponse(decoding: try response.encoded(version: 2), version: 2)
        #expect(v2.supportedFeatures.isEmpty && v2.finalizedFeaturesEpoch == -1 && !v2.zkMigrationReady)
    }

    @Test func joinGroupAndSyncGroup() throws {
        let subscription = ConsumerProtocolSubscription(
            topics: ["orders", "payments"],
            userData: nil,
            ownedPartitions: [.init(topic: "orders", partitions: [0, 1])],
            generationId: 3,
            rackId: "rack-a"
        )
        let metadata = try subscription.versionPrefixedBytes(version: 3)
        let join = JoinGroupRequest(
            groupId: "billing",
            sessionTimeoutMs: 45_000,
            rebalanceTimeoutMs: 300_000,
            memberId: "consumer-1-4c1b",
            groupInstanceId: "instance-1",
            protocolType: "consumer",
            protocols: [.init(name: "cooperative-sticky", metadata: metadata)],
            reason: "new member"
        )
        // A static member id (group.instance.id) exists from v5: older versions must refuse it.
        #expect(try Self.checkAcrossVersions(join) == Array(5...9))
        var dynamic = join
        dynamic.groupInstanceId = nil
        #expect(try Self.checkAcrossVersions(dynamic) == Array(0...9))

        let joined = JoinGroupResponse(
            throttleTimeMs: 0,
            errorCode: 0,
            generationId: 4,
            protocolType: "consumer",
            protocolName: "cooperative-sticky",
            leader: "consumer-1-4c1b",
            skipAssignment: false,
            memberId: "consumer-1-4c1b",
            members: [.init(memberId: "consumer-1-4c1b", groupInstanceId: nil, metadata: metadata)]
        )
        try Self.checkAcrossVersions(joined)

        let assignment = ConsumerProtocolAssignment(
            assignedPartitions: [.init(topic: "orders", partitions: [0, 1, 2])],
            userData: nil
        )
        let sync = SyncGroupRequest(
            groupId: "billing",
            generationId: 4,
            memberId: "consumer-1-4c1b",
            groupInstanceId: nil,
            protocolType: "consumer",
            protocolName: "cooperative-sticky",
            assignments: [
                .init(memberId: "consumer-1-4c1b", assignment: try assignment.versionPrefixedBytes(version: 3))
            ]
        )
        try Self.checkAcrossVersions(sync)
        let (decoded, version) = try ConsumerProtocolAssignment.decodeVersionPrefixed(sync.assignments[0].assignment)
        #expect(decoded == assignment && version == 3)
    }

    @Test func offsetCommitAndFetch() throws {
        let commit = OffsetCommitRequest(
            groupId: "billing",
            generationIdOrMemberEpoch: 4,
            memberId: "consumer-1-4c1b",
            groupInstanceId: nil,
            retentionTimeMs: -1,
            topics: [
                .init(
                    name: "orders",
                    partitions: [
                        .init(partitionIndex: 0, committedOffset: 1_003, committedLeaderEpoch: 4, committedMetadata: "")
                    ]
                )
            ]
        )
        try Self.checkAcrossVersions(commit)

        // Versions 8+ have no top-level Topics: it must stay at its default, the empty array (null is not the
        // default, as in Kafka).
        let fetch = OffsetFetchRequest(
            groupId: "",
            topics: [],
            groups: [
                .init(
                    groupId: "billing",
                    memberId: nil,
                    memberEpoch: -1,
                    topics: [.init(name: "orders", partitionIndexes: [0, 1])]
                )
            ],
            requireStable: true
        )
        // Batched groups exist from v8 only, and are not ignorable.
        #expect(try Self.checkAcrossVersions(fetch) == Array(8...9))
        var nullTopics = fetch
        nullTopics.topics = nil
        #expect(try Self.checkAcrossVersions(nullTopics).isEmpty)
        let single = OffsetFetchRequest(
            groupId: "billing",
            topics: [.init(name: "orders", partitionIndexes: [0, 1])],
            requireStable: false
        )
        #expect(try Self.checkAcrossVersions(single) == Array(0...7))

        let fetched = OffsetFetchResponse(
            throttleTimeMs: 0,
            groups: [
                .init(
                    groupId: "billing",
                    topics: [
                        .init(
                            name: "orders",
                            partitions: [
                                .init(
                                    partitionIndex: 0,
                                    committedOffset: 1_003,
                                    committedLeaderEpoch: 4,
                                    metadata: nil,
                                    errorCode: 0
                                )
                            ]
                        )
                    ],
                    errorCode: 0
                )
            ]
        )
        #expect(try Self.checkAcrossVersions(fetched) == Array(8...9))
    }

    @Test func listOffsets() throws {
        let request = ListOffsetsRequest(
            replicaId: -1,
            isolationLevel: 1,
            topics: [
                .init(name: "orders", partitions: [.init(partitionIndex: 0, currentLeaderEpoch: 4, timestamp: -2)])
            ],
            timeoutMs: 1_000
        )
        // Isolation level (v2+) is not ignorable: READ_COMMITTED must not silently become READ_UNCOMMITTED.
        let written = try Self.checkAcrossVersions(request)
        #expect(written == Array(2...10))
    }

    @Test func transactions() throws {
        let initProducer = InitProducerIdRequest(
            transactionalId: "payments-txn",
            transactionTimeoutMs: 60_000,
            producerId: 42,
            producerEpoch: 3
        )
        // Re-initialising an existing producer id and epoch (KIP-360) needs v3.
        #expect(try Self.checkAcrossVersions(initProducer) == Array(3...5))
        #expect(
            try Self.checkAcrossVersions(InitProducerIdRequest(transactionalId: nil, transactionTimeoutMs: 60_000))
                == Array(0...5)
        )

        let clientAdd = AddPartitionsToTxnRequest(
            v3AndBelowTransactionalId: "payments-txn",
            v3AndBelowProducerId: 42,
            v3AndBelowProducerEpoch: 3,
            v3AndBelowTopics: [.init(name: "orders", partitions: [0, 1])]
        )
        #expect(try Self.checkAcrossVersions(clientAdd) == Array(0...3))
        let brokerAdd = AddPartitionsToTxnRequest(
            transactions: [
                .init(
                    transactionalId: "payments-txn",
                    producerId: 42,
                    producerEpoch: 3,
                    verifyOnly: true,
                    topics: [.init(name: "orders", partitions: [0])]
                )
            ]
        )
        #expect(try Self.checkAcrossVersions(brokerAdd) == Array(4...5))

        let end = EndTxnRequest(transactionalId: "payments-txn", producerId: 42, producerEpoch: 3, committed: true)
        #expect(try Self.checkAcrossVersions(end) == Array(0...5))

        let commit = TxnOffsetCommitRequest(
            transactionalId: "payments-txn",
            groupId: "billing",
            producerId: 42,
            producerEpoch: 3,
            generationId: 4,
            memberId: "consumer-1-4c1b",
            groupInstanceId: nil,
            topics: [
                .init(
                    name: "orders",
                    partitions: [
                        .init(
                            partitionIndex: 0, committedOffset: 1_003, committedLeaderEpoch: 4, committedMetadata: nil)
                    ]
                )
            ]
        )
        // The consumer group metadata (generation, member) arrives in v3 and is not ignorable.
        #expect(try Self.checkAcrossVersions(commit) == Array(3...4))
    }

    @Test func headersAsKafkaWritesThem() throws {
        // Header v2 keeps ClientId an int16-prefixed string, then adds a tagged-field section.
        let header = RequestHeader(requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: "abc")
        #expect(
            Array(try header.encoded(version: 2).readableBytesView)
                == [0, 18, 0, 3, 0, 0, 0, 7, 0, 3, 0x61, 0x62, 0x63, 0]
        )
        #expect(
            Array(try header.encoded(version: 1).readableBytesView) == [
                0, 18, 0, 3, 0, 0, 0, 7, 0, 3, 0x61, 0x62, 0x63,
            ]
        )
        let anonymous = RequestHeader(requestApiKey: 3, requestApiVersion: 12, correlationId: 1, clientId: nil)
        #expect(
            Array(try anonymous.encoded(version: 2).readableBytesView) == [0, 3, 0, 12, 0, 0, 0, 1, 0xFF, 0xFF, 0]
        )
        #expect(Array(try ResponseHeader(correlationId: 7).encoded(version: 1).readableBytesView) == [0, 0, 0, 7, 0])
        #expect(Array(try ResponseHeader(correlationId: 7).encoded(version: 0).readableBytesView) == [0, 0, 0, 7])
    }

    @Test func unsupportedVersionsAreRefused() throws {
        #expect(throws: KafkaProtocolError.self) { _ = try ProduceRequest().encoded(version: 12) }
        #expect(throws: KafkaProtocolError.self) { _ = try ProduceRequest(decoding: ByteBuffer(), version: -1) }
        do {
            _ = try FetchRequest().encoded(version: 18)
            Issue.record("version 18 written")
        } catch {
            #expect(error.code == .unsupportedVersion)
        }
    }
}
