/// A Kafka protocol error code (the int16 `ErrorCode` fields of responses), with Kafka's name for it and whether
/// a client may retry the request that produced it.
///
/// A struct rather than an enum so that codes this table does not know (from newer brokers) still round-trip.
/// `noError` is Kafka's NONE (0); the Swift name avoids `Optional.none`.
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int16

    public init(rawValue: Int16) {
        self.rawValue = rawValue
    }

    /// Kafka's name for the code ("NOT_COORDINATOR"), or "UNKNOWN_ERROR_CODE(n)" for a code this table does not
    /// know.
    public var name: String {
        guard let entry = Self.entry(self.rawValue) else { return "UNKNOWN_ERROR_CODE(\(self.rawValue))" }
        return entry.name
    }

    /// Whether Kafka classes the error as retriable: the same request may succeed later unchanged (a leader moved,
    /// a coordinator is loading). Unknown codes are not retriable.
    public var isRetriable: Bool {
        Self.entry(self.rawValue)?.isRetriable ?? false
    }

    /// Whether this is a code Kafka defines (up to Kafka 3.9's VOTER_NOT_FOUND, 127).
    public var isKnown: Bool { Self.entry(self.rawValue) != nil }

    public var description: String { "\(self.name) (\(self.rawValue))" }

    private static func entry(_ rawValue: Int16) -> (name: String, isRetriable: Bool)? {
        let index = Int(rawValue) + 1
        guard index >= 0 && index < Self.table.count else { return nil }
        return Self.table[index]
    }

    // The table is indexed by code + 1 (UNKNOWN_SERVER_ERROR is -1); codes are contiguous up to 127.
    private static let table: [(name: String, isRetriable: Bool)] = [
        ("UNKNOWN_SERVER_ERROR", false),
        ("NONE", false),
        ("OFFSET_OUT_OF_RANGE", false),
        ("CORRUPT_MESSAGE", true),
        ("UNKNOWN_TOPIC_OR_PARTITION", true),
        ("INVALID_FETCH_SIZE", false),
        ("LEADER_NOT_AVAILABLE", true),
        ("NOT_LEADER_OR_FOLLOWER", true),
        ("REQUEST_TIMED_OUT", true),
        ("BROKER_NOT_AVAILABLE", false),
        ("REPLICA_NOT_AVAILABLE", true),
        ("MESSAGE_TOO_LARGE", false),
        ("STALE_CONTROLLER_EPOCH", false),
        ("OFFSET_METADATA_TOO_LARGE", false),
        ("NETWORK_EXCEPTION", true),
        ("COORDINATOR_LOAD_IN_PROGRESS", true),
        ("COORDINATOR_NOT_AVAILABLE", true),
        ("NOT_COORDINATOR", true),
        ("INVALID_TOPIC_EXCEPTION", false),
        ("RECORD_LIST_TOO_LARGE", false),
        ("NOT_ENOUGH_REPLICAS", true),
        ("NOT_ENOUGH_REPLICAS_AFTER_APPEND", true),
        ("INVALID_REQUIRED_ACKS", false),
        ("ILLEGAL_GENERATION", false),
        ("INCONSISTENT_GROUP_PROTOCOL", false),
        ("INVALID_GROUP_ID", false),
        ("UNKNOWN_MEMBER_ID", false),
        ("INVALID_SESSION_TIMEOUT", false),
        ("REBALANCE_IN_PROGRESS", false),
        ("INVALID_COMMIT_OFFSET_SIZE", false),
        ("TOPIC_AUTHORIZATION_FAILED", false),
        ("GROUP_AUTHORIZATION_FAILED", false),
        ("CLUSTER_AUTHORIZATION_FAILED", false),
        ("INVALID_TIMESTAMP", false),
        ("UNSUPPORTED_SASL_MECHANISM", false),
        ("ILLEGAL_SASL_STATE", false),
        ("UNSUPPORTED_VERSION", false),
        ("TOPIC_ALREADY_EXISTS", false),
        ("INVALID_PARTITIONS", false),
        ("INVALID_REPLICATION_FACTOR", false),
        ("INVALID_REPLICA_ASSIGNMENT", false),
        ("INVALID_CONFIG", false),
        ("NOT_CONTROLLER", true),
        ("INVALID_REQUEST", false),
        ("UNSUPPORTED_FOR_MESSAGE_FORMAT", false),
        ("POLICY_VIOLATION", false),
        ("OUT_OF_ORDER_SEQUENCE_NUMBER", false),
        ("DUPLICATE_SEQUENCE_NUMBER", false),
        ("INVALID_PRODUCER_EPOCH", false),
        ("INVALID_TXN_STATE", false),
        ("INVALID_PRODUCER_ID_MAPPING", false),
        ("INVALID_TRANSACTION_TIMEOUT", false),
        ("CONCURRENT_TRANSACTIONS", true),
        ("TRANSACTION_COORDINATOR_FENCED", false),
        ("TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false),
        ("SECURITY_DISABLED", false),
        ("OPERATION_NOT_ATTEMPTED", false),
        ("KAFKA_STORAGE_ERROR", true),
        ("LOG_DIR_NOT_FOUND", false),
        ("SASL_AUTHENTICATION_FAILED", false),
        ("UNKNOWN_PRODUCER_ID", false),
        ("REASSIGNMENT_IN_PROGRESS", false),
        ("DELEGATION_TOKEN_AUTH_DISABLED", false),
        ("DELEGATION_TOKEN_NOT_FOUND", false),
        ("DELEGATION_TOKEN_OWNER_MISMATCH", false),
        ("DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false),
        ("DELEGATION_TOKEN_AUTHORIZATION_FAILED", false),
        ("DELEGATION_TOKEN_EXPIRED", false),
        ("INVALID_PRINCIPAL_TYPE", false),
        ("NON_EMPTY_GROUP", false),
        ("GROUP_ID_NOT_FOUND", false),
        ("FETCH_SESSION_ID_NOT_FOUND", true),
        ("INVALID_FETCH_SESSION_EPOCH", true),
        ("LISTENER_NOT_FOUND", true),
        ("TOPIC_DELETION_DISABLED", false),
        ("FENCED_LEADER_EPOCH", true),
        ("UNKNOWN_LEADER_EPOCH", true),
        ("UNSUPPORTED_COMPRESSION_TYPE", false),
        ("STALE_BROKER_EPOCH", false),
        ("OFFSET_NOT_AVAILABLE", true),
        ("MEMBER_ID_REQUIRED", false),
        ("PREFERRED_LEADER_NOT_AVAILABLE", true),
        ("GROUP_MAX_SIZE_REACHED", false),
        ("FENCED_INSTANCE_ID", false),
        ("ELIGIBLE_LEADERS_NOT_AVAILABLE", true),
        ("ELECTION_NOT_NEEDED", true),
        ("NO_REASSIGNMENT_IN_PROGRESS", false),
        ("GROUP_SUBSCRIBED_TO_TOPIC", false),
        ("INVALID_RECORD", false),
        ("UNSTABLE_OFFSET_COMMIT", true),
        ("THROTTLING_QUOTA_EXCEEDED", true),
        ("PRODUCER_FENCED", false),
        ("RESOURCE_NOT_FOUND", false),
        ("DUPLICATE_RESOURCE", false),
        ("UNACCEPTABLE_CREDENTIAL", false),
        ("INCONSISTENT_VOTER_SET", false),
        ("INVALID_UPDATE_VERSION", false),
        ("FEATURE_UPDATE_FAILED", false),
        ("PRINCIPAL_DESERIALIZATION_FAILURE", false),
        ("SNAPSHOT_NOT_FOUND", false),
        ("POSITION_OUT_OF_RANGE", false),
        ("UNKNOWN_TOPIC_ID", true),
        ("DUPLICATE_BROKER_REGISTRATION", false),
        ("BROKER_ID_NOT_REGISTERED", false),
        ("INCONSISTENT_TOPIC_ID", true),
        ("INCONSISTENT_CLUSTER_ID", false),
        ("TRANSACTIONAL_ID_NOT_FOUND", false),
        ("FETCH_SESSION_TOPIC_ID_ERROR", true),
        ("INELIGIBLE_REPLICA", false),
        ("NEW_LEADER_ELECTED", false),
        ("OFFSET_MOVED_TO_TIERED_STORAGE", false),
        ("FENCED_MEMBER_EPOCH", false),
        ("UNRELEASED_INSTANCE_ID", false),
        ("UNSUPPORTED_ASSIGNOR", false),
        ("STALE_MEMBER_EPOCH", false),
        ("MISMATCHED_ENDPOINT_TYPE", false),
        ("UNSUPPORTED_ENDPOINT_TYPE", false),
        ("UNKNOWN_CONTROLLER_ID", false),
        ("UNKNOWN_SUBSCRIPTION_ID", false),
        ("TELEMETRY_TOO_LARGE", false),
        ("INVALID_REGISTRATION", false),
        ("TRANSACTION_ABORTABLE", false),
        ("INVALID_RECORD_STATE", false),
        ("SHARE_SESSION_NOT_FOUND", true),
        ("INVALID_SHARE_SESSION_EPOCH", true),
        ("FENCED_STATE_EPOCH", false),
        ("INVALID_VOTER_KEY", false),
        ("DUPLICATE_VOTER", false),
        ("VOTER_NOT_FOUND", false),
    ]
}

extension KafkaErrorCode {
    /// UNKNOWN_SERVER_ERROR (-1): The broker failed in a way no other code describes.
    public static let unknownServerError = KafkaErrorCode(rawValue: -1)
    /// NONE (0): Success.
    public static let noError = KafkaErrorCode(rawValue: 0)
    /// OFFSET_OUT_OF_RANGE (1): The offset asked for is below the log start or above the log end.
    public static let offsetOutOfRange = KafkaErrorCode(rawValue: 1)
    /// CORRUPT_MESSAGE (2): A record batch failed its CRC, has a bad size, or breaks a rule of its topic (a null key on
    /// a compacted topic). Retriable.
    public static let corruptMessage = KafkaErrorCode(rawValue: 2)
    /// UNKNOWN_TOPIC_OR_PARTITION (3): This broker does not host the topic or partition (yet). Retriable.
    public static let unknownTopicOrPartition = KafkaErrorCode(rawValue: 3)
    /// INVALID_FETCH_SIZE (4): A fetch asked for an unusable number of bytes.
    public static let invalidFetchSize = KafkaErrorCode(rawValue: 4)
    /// LEADER_NOT_AVAILABLE (5): The partition has no leader right now, as during an election. Retriable.
    public static let leaderNotAvailable = KafkaErrorCode(rawValue: 5)
    /// NOT_LEADER_OR_FOLLOWER (6): This broker is not the partition's leader (or not a replica of it). Retriable.
    public static let notLeaderOrFollower = KafkaErrorCode(rawValue: 6)
    /// REQUEST_TIMED_OUT (7): The request did not complete in time. Retriable.
    public static let requestTimedOut = KafkaErrorCode(rawValue: 7)
    /// BROKER_NOT_AVAILABLE (8): The broker named is not available.
    public static let brokerNotAvailable = KafkaErrorCode(rawValue: 8)
    /// REPLICA_NOT_AVAILABLE (9): A replica of the partition is not available. Retriable.
    public static let replicaNotAvailable = KafkaErrorCode(rawValue: 9)
    /// MESSAGE_TOO_LARGE (10): A record batch is larger than the topic or broker accepts.
    public static let messageTooLarge = KafkaErrorCode(rawValue: 10)
    /// STALE_CONTROLLER_EPOCH (11): The request came from a controller that is no longer the controller.
    public static let staleControllerEpoch = KafkaErrorCode(rawValue: 11)
    /// OFFSET_METADATA_TOO_LARGE (12): The metadata string of an offset commit is over the broker's limit.
    public static let offsetMetadataTooLarge = KafkaErrorCode(rawValue: 12)
    /// NETWORK_EXCEPTION (13): The connection closed before the response arrived. Retriable.
    public static let networkException = KafkaErrorCode(rawValue: 13)
    /// COORDINATOR_LOAD_IN_PROGRESS (14): The coordinator is still loading its state and cannot answer yet. Retriable.
    public static let coordinatorLoadInProgress = KafkaErrorCode(rawValue: 14)
    /// COORDINATOR_NOT_AVAILABLE (15): The coordinator is not available (its internal topic may not exist yet).
    /// Retriable.
    public static let coordinatorNotAvailable = KafkaErrorCode(rawValue: 15)
    /// NOT_COORDINATOR (16): This broker is not the coordinator of the group or transactional id. Retriable.
    public static let notCoordinator = KafkaErrorCode(rawValue: 16)
    /// INVALID_TOPIC_EXCEPTION (17): The topic name is invalid, or the operation is not allowed on an internal topic.
    public static let invalidTopicException = KafkaErrorCode(rawValue: 17)
    /// RECORD_LIST_TOO_LARGE (18): A produce request's records for one partition exceed the segment size.
    public static let recordListTooLarge = KafkaErrorCode(rawValue: 18)
    /// NOT_ENOUGH_REPLICAS (19): Fewer in-sync replicas than min.insync.replicas; nothing was written. Retriable.
    public static let notEnoughReplicas = KafkaErrorCode(rawValue: 19)
    /// NOT_ENOUGH_REPLICAS_AFTER_APPEND (20): The records were written, but fewer in-sync replicas than required
    /// acknowledged them. Retriable.
    public static let notEnoughReplicasAfterAppend = KafkaErrorCode(rawValue: 20)
    /// INVALID_REQUIRED_ACKS (21): The produce request's acks value is not -1, 0 or 1.
    public static let invalidRequiredAcks = KafkaErrorCode(rawValue: 21)
    /// ILLEGAL_GENERATION (22): The member's group generation is not the current one.
    public static let illegalGeneration = KafkaErrorCode(rawValue: 22)
    /// INCONSISTENT_GROUP_PROTOCOL (23): The member's protocol type or protocols do not match the group's.
    public static let inconsistentGroupProtocol = KafkaErrorCode(rawValue: 23)
    /// INVALID_GROUP_ID (24): The group id is empty or otherwise invalid.
    public static let invalidGroupId = KafkaErrorCode(rawValue: 24)
    /// UNKNOWN_MEMBER_ID (25): The group does not know this member id.
    public static let unknownMemberId = KafkaErrorCode(rawValue: 25)
    /// INVALID_SESSION_TIMEOUT (26): The session timeout is outside the broker's allowed range.
    public static let invalidSessionTimeout = KafkaErrorCode(rawValue: 26)
    /// REBALANCE_IN_PROGRESS (27): The group is rebalancing; the member must rejoin.
    public static let rebalanceInProgress = KafkaErrorCode(rawValue: 27)
    /// INVALID_COMMIT_OFFSET_SIZE (28): The offset commit's metadata is too large to store.
    public static let invalidCommitOffsetSize = KafkaErrorCode(rawValue: 28)
    /// TOPIC_AUTHORIZATION_FAILED (29): The principal may not access the topic.
    public static let topicAuthorizationFailed = KafkaErrorCode(rawValue: 29)
    /// GROUP_AUTHORIZATION_FAILED (30): The principal may not access the group.
    public static let groupAuthorizationFailed = KafkaErrorCode(rawValue: 30)
    /// CLUSTER_AUTHORIZATION_FAILED (31): The principal may not perform this cluster operation.
    public static let clusterAuthorizationFailed = KafkaErrorCode(rawValue: 31)
    /// INVALID_TIMESTAMP (32): A record's timestamp is outside the range the topic accepts.
    public static let invalidTimestamp = KafkaErrorCode(rawValue: 32)
    /// UNSUPPORTED_SASL_MECHANISM (33): The broker does not offer the SASL mechanism asked for.
    public static let unsupportedSaslMechanism = KafkaErrorCode(rawValue: 33)
    /// ILLEGAL_SASL_STATE (34): The request is not valid at this point of the SASL exchange.
    public static let illegalSaslState = KafkaErrorCode(rawValue: 34)
    /// UNSUPPORTED_VERSION (35): The broker does not support this API version.
    public static let unsupportedVersion = KafkaErrorCode(rawValue: 35)
    /// TOPIC_ALREADY_EXISTS (36): A topic of that name exists.
    public static let topicAlreadyExists = KafkaErrorCode(rawValue: 36)
    /// INVALID_PARTITIONS (37): The partition count is invalid.
    public static let invalidPartitions = KafkaErrorCode(rawValue: 37)
    /// INVALID_REPLICATION_FACTOR (38): The replication factor is invalid (for example larger than the broker count).
    public static let invalidReplicationFactor = KafkaErrorCode(rawValue: 38)
    /// INVALID_REPLICA_ASSIGNMENT (39): The manual replica assignment is invalid.
    public static let invalidReplicaAssignment = KafkaErrorCode(rawValue: 39)
    /// INVALID_CONFIG (40): A configuration value is invalid.
    public static let invalidConfig = KafkaErrorCode(rawValue: 40)
    /// NOT_CONTROLLER (41): This broker is not the controller. Retriable.
    public static let notController = KafkaErrorCode(rawValue: 41)
    /// INVALID_REQUEST (42): The request is malformed or inconsistent in a way no other code describes; the response's
    /// message says how.
    public static let invalidRequest = KafkaErrorCode(rawValue: 42)
    /// UNSUPPORTED_FOR_MESSAGE_FORMAT (43): The topic's message format version does not support the request.
    public static let unsupportedForMessageFormat = KafkaErrorCode(rawValue: 43)
    /// POLICY_VIOLATION (44): A broker policy (such as a topic creation policy) rejected the request.
    public static let policyViolation = KafkaErrorCode(rawValue: 44)
    /// OUT_OF_ORDER_SEQUENCE_NUMBER (45): An idempotent producer's sequence number skips ahead of the one the broker
    /// expects.
    public static let outOfOrderSequenceNumber = KafkaErrorCode(rawValue: 45)
    /// DUPLICATE_SEQUENCE_NUMBER (46): An idempotent producer sent a batch the broker already has.
    public static let duplicateSequenceNumber = KafkaErrorCode(rawValue: 46)
    /// INVALID_PRODUCER_EPOCH (47): The producer's epoch is stale (a newer producer with the same id exists) or
    /// otherwise wrong.
    public static let invalidProducerEpoch = KafkaErrorCode(rawValue: 47)
    /// INVALID_TXN_STATE (48): The transaction's state does not allow the operation.
    public static let invalidTxnState = KafkaErrorCode(rawValue: 48)
    /// INVALID_PRODUCER_ID_MAPPING (49): The producer id does not belong to the transactional id given.
    public static let invalidProducerIdMapping = KafkaErrorCode(rawValue: 49)
    /// INVALID_TRANSACTION_TIMEOUT (50): The transaction timeout exceeds the broker's transaction.max.timeout.ms.
    public static let invalidTransactionTimeout = KafkaErrorCode(rawValue: 50)
    /// CONCURRENT_TRANSACTIONS (51): The previous transaction of this producer is still completing. Retriable.
    public static let concurrentTransactions = KafkaErrorCode(rawValue: 51)
    /// TRANSACTION_COORDINATOR_FENCED (52): The transaction coordinator that sent this is no longer the coordinator.
    public static let transactionCoordinatorFenced = KafkaErrorCode(rawValue: 52)
    /// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53): The principal may not use the transactional id.
    public static let transactionalIdAuthorizationFailed = KafkaErrorCode(rawValue: 53)
    /// SECURITY_DISABLED (54): The operation needs security features that are disabled.
    public static let securityDisabled = KafkaErrorCode(rawValue: 54)
    /// OPERATION_NOT_ATTEMPTED (55): The broker skipped this part of a batch request because another part failed.
    public static let operationNotAttempted = KafkaErrorCode(rawValue: 55)
    /// KAFKA_STORAGE_ERROR (56): The broker's disk or log directory failed for this partition. Retriable.
    public static let kafkaStorageError = KafkaErrorCode(rawValue: 56)
    /// LOG_DIR_NOT_FOUND (57): The log directory named does not exist.
    public static let logDirNotFound = KafkaErrorCode(rawValue: 57)
    /// SASL_AUTHENTICATION_FAILED (58): SASL authentication failed (bad credentials).
    public static let saslAuthenticationFailed = KafkaErrorCode(rawValue: 58)
    /// UNKNOWN_PRODUCER_ID (59): The broker has no state for the producer id (it may have expired).
    public static let unknownProducerId = KafkaErrorCode(rawValue: 59)
    /// REASSIGNMENT_IN_PROGRESS (60): A partition reassignment is already running.
    public static let reassignmentInProgress = KafkaErrorCode(rawValue: 60)
    /// DELEGATION_TOKEN_AUTH_DISABLED (61): Delegation tokens are disabled.
    public static let delegationTokenAuthDisabled = KafkaErrorCode(rawValue: 61)
    /// DELEGATION_TOKEN_NOT_FOUND (62): No such delegation token.
    public static let delegationTokenNotFound = KafkaErrorCode(rawValue: 62)
    /// DELEGATION_TOKEN_OWNER_MISMATCH (63): The principal does not own the delegation token.
    public static let delegationTokenOwnerMismatch = KafkaErrorCode(rawValue: 63)
    /// DELEGATION_TOKEN_REQUEST_NOT_ALLOWED (64): Delegation token requests are not allowed on this connection.
    public static let delegationTokenRequestNotAllowed = KafkaErrorCode(rawValue: 64)
    /// DELEGATION_TOKEN_AUTHORIZATION_FAILED (65): The principal may not use delegation tokens.
    public static let delegationTokenAuthorizationFailed = KafkaErrorCode(rawValue: 65)
    /// DELEGATION_TOKEN_EXPIRED (66): The delegation token has expired.
    public static let delegationTokenExpired = KafkaErrorCode(rawValue: 66)
    /// INVALID_PRINCIPAL_TYPE (67): The principal type is not supported.
    public static let invalidPrincipalType = KafkaErrorCode(rawValue: 67)
    /// NON_EMPTY_GROUP (68): The group still has members, so it cannot be deleted.
    public static let nonEmptyGroup = KafkaErrorCode(rawValue: 68)
    /// GROUP_ID_NOT_FOUND (69): No group has that id.
    public static let groupIdNotFound = KafkaErrorCode(rawValue: 69)
    /// FETCH_SESSION_ID_NOT_FOUND (70): The broker has no fetch session with that id. Retriable.
    public static let fetchSessionIdNotFound = KafkaErrorCode(rawValue: 70)
    /// INVALID_FETCH_SESSION_EPOCH (71): The fetch session epoch is not the next one. Retriable.
    public static let invalidFetchSessionEpoch = KafkaErrorCode(rawValue: 71)
    /// LISTENER_NOT_FOUND (72): The leader has no endpoint on the listener the request came through. Retriable.
    public static let listenerNotFound = KafkaErrorCode(rawValue: 72)
    /// TOPIC_DELETION_DISABLED (73): Topic deletion is disabled on this cluster.
    public static let topicDeletionDisabled = KafkaErrorCode(rawValue: 73)
    /// FENCED_LEADER_EPOCH (74): The leader epoch in the request is older than the broker's. Retriable.
    public static let fencedLeaderEpoch = KafkaErrorCode(rawValue: 74)
    /// UNKNOWN_LEADER_EPOCH (75): The leader epoch in the request is newer than the broker's. Retriable.
    public static let unknownLeaderEpoch = KafkaErrorCode(rawValue: 75)
    /// UNSUPPORTED_COMPRESSION_TYPE (76): The request's version cannot carry the compression codec used (zstd before
    /// its versions).
    public static let unsupportedCompressionType = KafkaErrorCode(rawValue: 76)
    /// STALE_BROKER_EPOCH (77): The broker epoch in the request is stale.
    public static let staleBrokerEpoch = KafkaErrorCode(rawValue: 77)
    /// OFFSET_NOT_AVAILABLE (78): The leader cannot give the offset yet (its high watermark lags). Retriable.
    public static let offsetNotAvailable = KafkaErrorCode(rawValue: 78)
    /// MEMBER_ID_REQUIRED (79): A join needs a member id: the response carries one to rejoin with.
    public static let memberIdRequired = KafkaErrorCode(rawValue: 79)
    /// PREFERRED_LEADER_NOT_AVAILABLE (80): The preferred leader is not available. Retriable.
    public static let preferredLeaderNotAvailable = KafkaErrorCode(rawValue: 80)
    /// GROUP_MAX_SIZE_REACHED (81): The group has reached its maximum size.
    public static let groupMaxSizeReached = KafkaErrorCode(rawValue: 81)
    /// FENCED_INSTANCE_ID (82): Another member with the same group.instance.id replaced this one.
    public static let fencedInstanceId = KafkaErrorCode(rawValue: 82)
    /// ELIGIBLE_LEADERS_NOT_AVAILABLE (83): No replica eligible for the election is available. Retriable.
    public static let eligibleLeadersNotAvailable = KafkaErrorCode(rawValue: 83)
    /// ELECTION_NOT_NEEDED (84): The partition already has the leader the election would choose. Retriable.
    public static let electionNotNeeded = KafkaErrorCode(rawValue: 84)
    /// NO_REASSIGNMENT_IN_PROGRESS (85): No partition reassignment is running.
    public static let noReassignmentInProgress = KafkaErrorCode(rawValue: 85)
    /// GROUP_SUBSCRIBED_TO_TOPIC (86): The group still consumes the topic whose offsets were to be deleted.
    public static let groupSubscribedToTopic = KafkaErrorCode(rawValue: 86)
    /// INVALID_RECORD (87): A record failed the broker's validation; the response says which and why.
    public static let invalidRecord = KafkaErrorCode(rawValue: 87)
    /// UNSTABLE_OFFSET_COMMIT (88): The partition has a pending transactional offset commit; retry when it completes.
    /// Retriable.
    public static let unstableOffsetCommit = KafkaErrorCode(rawValue: 88)
    /// THROTTLING_QUOTA_EXCEEDED (89): The request exceeded a mutation rate quota. Retriable.
    public static let throttlingQuotaExceeded = KafkaErrorCode(rawValue: 89)
    /// PRODUCER_FENCED (90): A newer producer with the same transactional id fenced this one.
    public static let producerFenced = KafkaErrorCode(rawValue: 90)
    /// RESOURCE_NOT_FOUND (91): The resource named does not exist.
    public static let resourceNotFound = KafkaErrorCode(rawValue: 91)
    /// DUPLICATE_RESOURCE (92): The request names the same resource twice.
    public static let duplicateResource = KafkaErrorCode(rawValue: 92)
    /// UNACCEPTABLE_CREDENTIAL (93): The credential does not meet the broker's requirements.
    public static let unacceptableCredential = KafkaErrorCode(rawValue: 93)
    /// INCONSISTENT_VOTER_SET (94): The request's voter set does not match the quorum's.
    public static let inconsistentVoterSet = KafkaErrorCode(rawValue: 94)
    /// INVALID_UPDATE_VERSION (95): The feature update version is invalid.
    public static let invalidUpdateVersion = KafkaErrorCode(rawValue: 95)
    /// FEATURE_UPDATE_FAILED (96): The feature update could not be applied.
    public static let featureUpdateFailed = KafkaErrorCode(rawValue: 96)
    /// PRINCIPAL_DESERIALIZATION_FAILURE (97): The forwarded request's principal could not be decoded.
    public static let principalDeserializationFailure = KafkaErrorCode(rawValue: 97)
    /// SNAPSHOT_NOT_FOUND (98): The requested snapshot does not exist.
    public static let snapshotNotFound = KafkaErrorCode(rawValue: 98)
    /// POSITION_OUT_OF_RANGE (99): The position asked for is outside the snapshot.
    public static let positionOutOfRange = KafkaErrorCode(rawValue: 99)
    /// UNKNOWN_TOPIC_ID (100): This broker does not know the topic id. Retriable.
    public static let unknownTopicId = KafkaErrorCode(rawValue: 100)
    /// DUPLICATE_BROKER_REGISTRATION (101): A broker with this id is already registered.
    public static let duplicateBrokerRegistration = KafkaErrorCode(rawValue: 101)
    /// BROKER_ID_NOT_REGISTERED (102): No broker with this id is registered.
    public static let brokerIdNotRegistered = KafkaErrorCode(rawValue: 102)
    /// INCONSISTENT_TOPIC_ID (103): The topic id does not match the topic name's id. Retriable.
    public static let inconsistentTopicId = KafkaErrorCode(rawValue: 103)
    /// INCONSISTENT_CLUSTER_ID (104): The cluster id does not match this cluster's.
    public static let inconsistentClusterId = KafkaErrorCode(rawValue: 104)
    /// TRANSACTIONAL_ID_NOT_FOUND (105): No transaction has that transactional id.
    public static let transactionalIdNotFound = KafkaErrorCode(rawValue: 105)
    /// FETCH_SESSION_TOPIC_ID_ERROR (106): The fetch session's topic ids disagree with the request's. Retriable.
    public static let fetchSessionTopicIdError = KafkaErrorCode(rawValue: 106)
    /// INELIGIBLE_REPLICA (107): The replica cannot join the in-sync replicas.
    public static let ineligibleReplica = KafkaErrorCode(rawValue: 107)
    /// NEW_LEADER_ELECTED (108): A new leader was elected while the request was pending.
    public static let newLeaderElected = KafkaErrorCode(rawValue: 108)
    /// OFFSET_MOVED_TO_TIERED_STORAGE (109): The offset is only in tiered (remote) storage.
    public static let offsetMovedToTieredStorage = KafkaErrorCode(rawValue: 109)
    /// FENCED_MEMBER_EPOCH (110): The member's epoch is fenced (new consumer group protocol); it must rejoin.
    public static let fencedMemberEpoch = KafkaErrorCode(rawValue: 110)
    /// UNRELEASED_INSTANCE_ID (111): The static member's instance id is still held by another member.
    public static let unreleasedInstanceId = KafkaErrorCode(rawValue: 111)
    /// UNSUPPORTED_ASSIGNOR (112): The group does not support the assignor asked for.
    public static let unsupportedAssignor = KafkaErrorCode(rawValue: 112)
    /// STALE_MEMBER_EPOCH (113): The member's epoch is stale (new consumer group protocol).
    public static let staleMemberEpoch = KafkaErrorCode(rawValue: 113)
    /// MISMATCHED_ENDPOINT_TYPE (114): The request went to the wrong kind of endpoint (broker or controller).
    public static let mismatchedEndpointType = KafkaErrorCode(rawValue: 114)
    /// UNSUPPORTED_ENDPOINT_TYPE (115): This endpoint does not serve the request.
    public static let unsupportedEndpointType = KafkaErrorCode(rawValue: 115)
    /// UNKNOWN_CONTROLLER_ID (116): No controller has that id.
    public static let unknownControllerId = KafkaErrorCode(rawValue: 116)
    /// UNKNOWN_SUBSCRIPTION_ID (117): The client telemetry subscription id is unknown.
    public static let unknownSubscriptionId = KafkaErrorCode(rawValue: 117)
    /// TELEMETRY_TOO_LARGE (118): The pushed client telemetry is over the size limit.
    public static let telemetryTooLarge = KafkaErrorCode(rawValue: 118)
    /// INVALID_REGISTRATION (119): The controller rejected the registration.
    public static let invalidRegistration = KafkaErrorCode(rawValue: 119)
    /// TRANSACTION_ABORTABLE (120): The transaction failed in a way the producer recovers from by aborting it
    /// (KIP-890).
    public static let transactionAbortable = KafkaErrorCode(rawValue: 120)
    /// INVALID_RECORD_STATE (121): The share-group record's state does not allow the acknowledgement.
    public static let invalidRecordState = KafkaErrorCode(rawValue: 121)
    /// SHARE_SESSION_NOT_FOUND (122): The broker has no share session with that id. Retriable.
    public static let shareSessionNotFound = KafkaErrorCode(rawValue: 122)
    /// INVALID_SHARE_SESSION_EPOCH (123): The share session epoch is not the next one. Retriable.
    public static let invalidShareSessionEpoch = KafkaErrorCode(rawValue: 123)
    /// FENCED_STATE_EPOCH (124): The share-group state epoch is fenced.
    public static let fencedStateEpoch = KafkaErrorCode(rawValue: 124)
    /// INVALID_VOTER_KEY (125): The voter key does not match the quorum's.
    public static let invalidVoterKey = KafkaErrorCode(rawValue: 125)
    /// DUPLICATE_VOTER (126): The voter is already in the quorum.
    public static let duplicateVoter = KafkaErrorCode(rawValue: 126)
    /// VOTER_NOT_FOUND (127): The voter is not in the quorum.
    public static let voterNotFound = KafkaErrorCode(rawValue: 127)
}
