import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

/// The Kafka broker over the embedded log: decodes each request, runs it against the log and the
/// coordinators, and encodes the response. One node is the whole cluster: it leads every partition
/// and coordinates every group and transaction.
public final class Broker: RequestProcessor, @unchecked Sendable {
    let log: Log
    let config: BrokerConfig
    let groups: GroupCoordinator
    let transactions: TransactionCoordinator
    let clusterId: String
    let logger: Logger
    /// Produce appends, one serial lane per partition.
    let appendLanes: AppendLanes

    /// The APIs this broker answers, with the versions it advertises: the ranges of the Kafka release
    /// whose specs generated the codecs, which clients use to infer the broker's version.
    static let supportedApis: [ApiKey] = [
        .produce, .fetch, .listOffsets, .metadata, .offsetCommit, .offsetFetch, .findCoordinator, .joinGroup, .heartbeat,
        .leaveGroup, .syncGroup, .describeGroups, .listGroups, .apiVersions, .createTopics, .deleteTopics, .deleteRecords,
        .initProducerId, .offsetForLeaderEpoch, .addPartitionsToTxn, .addOffsetsToTxn, .endTxn, .txnOffsetCommit,
        .describeConfigs, .alterConfigs, .createPartitions, .deleteGroups, .incrementalAlterConfigs, .offsetDelete,
        .describeCluster, .describeProducers, .describeTransactions, .listTransactions,
    ]

    public init(log: Log, config: BrokerConfig, clusterId: String, logger: Logger) async throws {
        self.log = log
        self.config = config
        self.clusterId = clusterId
        self.logger = logger
        // Only group commit keeps syncs off the appending thread: under the other policies an
        // append may sync (and a roll seal) before it returns, which no event loop should wait for.
        if case .groupCommit = log.options.durability {
            self.appendLanes = AppendLanes(runsOnCallers: true)
        } else {
            self.appendLanes = AppendLanes(runsOnCallers: false)
        }
        self.groups = try GroupCoordinator(log: log, initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs, logger: logger)
        self.transactions = try TransactionCoordinator(log: log, groups: self.groups, appendLanes: self.appendLanes,
                                                       transactionTimeoutMsMax: config.transactionTimeoutMsMax)
        await self.transactions.completePendingTransactions()
    }

    /// Runs the coordinators' timers until cancelled.
    func runTimers() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.groups.runTicker() }
            group.addTask { await self.transactions.runTicker() }
        }
    }

    // MARK: Dispatch

    func start(frame bytes: ByteBuffer, connection: ConnectionContext) -> PendingResponse {
        let frame: KafkaRequestFrame
        do {
            frame = try KafkaRequestFrame(parsing: bytes)
        } catch {
            return .close(reason: "malformed request header: \(error)")
        }
        guard let api = frame.knownApiKey, Self.supportedApis.contains(api) else {
            return .close(reason: "unsupported API key \(frame.apiKey) (correlation id \(frame.correlationId), client \(frame.clientId ?? "-"))")
        }
        guard api.validVersions.contains(frame.apiVersion) else {
            if api == .apiVersions { return .ready(self.apiVersionsFallback(frame)) }
            return .close(reason: "unsupported version \(frame.apiVersion) of \(api.name) (client \(frame.clientId ?? "-"))")
        }
        do {
            switch api {
            case .apiVersions:
                return .ready(try self.respond(self.apiVersions(), to: frame))
            case .produce:
                // Appends are enqueued now, in the connection's order; they and durability are awaited later.
                return try self.produce(try frame.decodeBodyLeniently(as: ProduceRequest.self), frame: frame)
            default:
                let request = frame
                return .later(Task { await self.handle(api, request, connection: connection) })
            }
        } catch let error as KafkaProtocolError {
            return .close(reason: "malformed \(api.name) v\(frame.apiVersion) request: \(error)")
        } catch {
            return .close(reason: "\(api.name) failed: \(error)")
        }
    }

    private func handle(_ api: ApiKey, _ frame: KafkaRequestFrame, connection: ConnectionContext) async -> PendingResponse {
        do {
            return .ready(try await self.handleBody(api, frame, connection: connection))
        } catch {
            return .close(reason: "cannot handle \(api.name) v\(frame.apiVersion) (client \(frame.clientId ?? "-")): \(error)")
        }
    }

    private func handleBody(_ api: ApiKey, _ frame: KafkaRequestFrame, connection: ConnectionContext) async throws -> ByteBuffer {
        do {
            switch api {
            case .metadata: return try self.respond(self.metadata(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .fetch: return try self.respond(await self.fetch(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .listOffsets: return try self.respond(self.listOffsets(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .offsetForLeaderEpoch: return try self.respond(self.offsetForLeaderEpoch(try frame.decodeBodyLeniently()), to: frame)
            case .createTopics: return try self.respond(self.createTopics(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .deleteTopics: return try self.respond(self.deleteTopics(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .createPartitions: return try self.respond(self.createPartitions(try frame.decodeBodyLeniently()), to: frame)
            case .deleteRecords: return try self.respond(self.deleteRecords(try frame.decodeBodyLeniently()), to: frame)
            case .describeConfigs: return try self.respond(self.describeConfigs(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .alterConfigs: return try self.respond(self.alterConfigs(try frame.decodeBodyLeniently()), to: frame)
            case .incrementalAlterConfigs: return try self.respond(self.incrementalAlterConfigs(try frame.decodeBodyLeniently()), to: frame)
            case .describeCluster: return try self.respond(self.describeCluster(), to: frame)
            case .findCoordinator: return try self.respond(self.findCoordinator(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .joinGroup: return try self.respond(await self.joinGroup(try frame.decodeBodyLeniently(), frame: frame, connection: connection), to: frame)
            case .syncGroup: return try self.respond(await self.syncGroup(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .heartbeat: return try self.respond(await self.heartbeat(try frame.decodeBodyLeniently()), to: frame)
            case .leaveGroup: return try self.respond(await self.leaveGroup(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .offsetCommit: return try self.respond(await self.offsetCommit(try frame.decodeBodyLeniently()), to: frame)
            case .offsetFetch: return try self.respond(await self.offsetFetch(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .offsetDelete: return try self.respond(await self.offsetDelete(try frame.decodeBodyLeniently()), to: frame)
            case .listGroups: return try self.respond(await self.listGroups(try frame.decodeBodyLeniently()), to: frame)
            case .describeGroups: return try self.respond(await self.describeGroups(try frame.decodeBodyLeniently()), to: frame)
            case .deleteGroups: return try self.respond(await self.deleteGroups(try frame.decodeBodyLeniently()), to: frame)
            case .initProducerId: return try self.respond(await self.initProducerId(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .addPartitionsToTxn: return try self.respond(await self.addPartitionsToTxn(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .addOffsetsToTxn: return try self.respond(await self.addOffsetsToTxn(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .endTxn: return try self.respond(await self.endTxn(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .txnOffsetCommit: return try self.respond(await self.txnOffsetCommit(try frame.decodeBodyLeniently(), version: frame.apiVersion), to: frame)
            case .describeProducers: return try self.respond(self.describeProducers(try frame.decodeBodyLeniently()), to: frame)
            case .describeTransactions: return try self.respond(await self.describeTransactions(try frame.decodeBodyLeniently()), to: frame)
            case .listTransactions: return try self.respond(await self.listTransactions(try frame.decodeBodyLeniently()), to: frame)
            default:
                throw SluiceError(.invalidRequest, "no handler for \(api.name)")
            }
        }
    }

    /// The response frame for `frame`.
    func respond<Message: KafkaMessage>(_ response: Message, to frame: KafkaRequestFrame) throws(KafkaProtocolError) -> ByteBuffer {
        try self.respond(response, version: frame.apiVersion, correlationId: frame.correlationId)
    }

    /// The response frame for a request of `version` numbered `correlationId`: for an answer decided
    /// later, which need not keep the request's frame (and the buffer it slices) until then.
    func respond<Message: KafkaMessage>(_ response: Message, version: Int16, correlationId: Int32) throws(KafkaProtocolError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        try KafkaResponseFrame.write(response, version: version, correlationId: correlationId, into: &buffer)
        return buffer
    }

    // MARK: ApiVersions

    func apiVersions() -> ApiVersionsResponse {
        var response = ApiVersionsResponse()
        response.apiKeys = Self.supportedApis.map { api in
            ApiVersionsResponse.ApiVersion(apiKey: api.rawValue, minVersion: api.validVersions.lowerBound, maxVersion: api.validVersions.upperBound)
        }.sorted { $0.apiKey < $1.apiKey }
        return response
    }

    /// KIP-511: an ApiVersions request of a version this broker does not know is answered in version 0
    /// with UNSUPPORTED_VERSION and the supported ranges, so the client can retry with one of them.
    private func apiVersionsFallback(_ frame: KafkaRequestFrame) -> ByteBuffer {
        var response = self.apiVersions()
        response.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
        var buffer = ByteBufferAllocator().buffer(capacity: 512)
        // Version 0 with response header v0 always encodes.
        try! KafkaResponseFrame.write(response, version: 0, correlationId: frame.correlationId, into: &buffer)
        return buffer
    }

    // MARK: Metadata

    var advertisedBroker: (host: String, port: Int32) {
        let advertised = self.config.advertised
        return (advertised.host, Int32(advertised.port))
    }

    func metadata(_ request: MetadataRequest, version: Int16) throws -> MetadataResponse {
        var response = MetadataResponse()
        let broker = self.advertisedBroker
        response.brokers = [.init(nodeId: self.config.nodeId, host: broker.host, port: broker.port, rack: nil)]
        response.clusterId = self.clusterId
        response.controllerId = self.config.nodeId
        var names: [String]
        if let topics = request.topics, !(version == 0 && topics.isEmpty) {
            names = []
            for topic in topics {
                if let name = topic.name, !name.isEmpty {
                    names.append(name)
                } else if topic.topicId != .zero, let name = self.topicName(for: topic.topicId) {
                    names.append(name)
                } else {
                    var unknown = MetadataResponse.MetadataResponseTopic()
                    unknown.errorCode = KafkaErrorCode.unknownTopicId.rawValue
                    unknown.name = nil
                    unknown.topicId = topic.topicId
                    response.topics.append(unknown)
                }
            }
        } else {
            names = self.log.topicNames
        }
        let autoCreate = self.config.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation) && request.topics != nil
        for name in names {
            response.topics.append(self.topicMetadata(name, autoCreate: autoCreate))
        }
        return response
    }

    func topicMetadata(_ name: String, autoCreate: Bool) -> MetadataResponse.MetadataResponseTopic {
        var topic = MetadataResponse.MetadataResponseTopic()
        topic.name = name
        topic.isInternal = name.hasPrefix("__")
        do {
            var config: TopicConfig
            do {
                config = try self.log.topicConfig(name)
            } catch where error.code == .unknownTopic && autoCreate {
                config = try self.autoCreate(name)
            }
            topic.topicId = KafkaUUID(hex: config.topicId) ?? .zero
            topic.partitions = (0..<config.partitionCount).map { index in
                MetadataResponse.MetadataResponsePartition(
                    errorCode: 0, partitionIndex: index, leaderId: self.config.nodeId, leaderEpoch: 0,
                    replicaNodes: [self.config.nodeId], isrNodes: [self.config.nodeId], offlineReplicas: [])
            }
        } catch {
            topic.errorCode = Self.errorCode(for: error).rawValue
        }
        return topic
    }

    /// Creates a topic on first use (auto.create.topics.enable); a concurrent creation is fine.
    func autoCreate(_ name: String) throws(SluiceError) -> TopicConfig {
        do {
            try self.log.createTopic(name, config: TopicConfig(partitionCount: self.config.defaultPartitionCount))
            self.logger.info("auto-created topic \(name) with \(self.config.defaultPartitionCount) partition(s)")
        } catch where error.code == .topicExists {}
        return try self.log.topicConfig(name)
    }

    func topicName(for id: KafkaUUID) -> String? {
        self.log.topicNames.first { name in (try? self.log.topicConfig(name)).flatMap { KafkaUUID(hex: $0.topicId) } == id }
    }

    func topicId(of name: String) -> KafkaUUID {
        (try? self.log.topicConfig(name)).flatMap { KafkaUUID(hex: $0.topicId) } ?? .zero
    }

    func describeCluster() -> DescribeClusterResponse {
        var response = DescribeClusterResponse()
        let broker = self.advertisedBroker
        response.clusterId = self.clusterId
        response.controllerId = self.config.nodeId
        response.brokers = [.init(brokerId: self.config.nodeId, host: broker.host, port: broker.port, rack: nil)]
        return response
    }

    func findCoordinator(_ request: FindCoordinatorRequest, version: Int16) -> FindCoordinatorResponse {
        var response = FindCoordinatorResponse()
        let broker = self.advertisedBroker
        if version >= 4 {
            response.coordinators = request.coordinatorKeys.map { key in
                .init(key: key, nodeId: self.config.nodeId, host: broker.host, port: broker.port, errorCode: 0, errorMessage: nil)
            }
        } else {
            response.nodeId = self.config.nodeId
            response.host = broker.host
            response.port = broker.port
            response.errorMessage = nil
        }
        return response
    }

    // MARK: Errors

    /// The Kafka error code for an error of the log or the broker.
    static func errorCode(for error: any Error) -> KafkaErrorCode {
        guard let error = error as? SluiceError else { return .unknownServerError }
        switch error.code {
        case .unknownTopic, .unknownPartition: return .unknownTopicOrPartition
        case .checksumMismatch, .corruptData: return .corruptMessage
        case .limitExceeded: return .messageTooLarge
        case .offsetOutOfRange: return .offsetOutOfRange
        case .outOfOrderSequence: return .outOfOrderSequenceNumber
        case .producerFenced: return .invalidProducerEpoch
        case .unknownProducerId: return .unknownProducerId
        case .invalidTransactionState: return .invalidTxnState
        case .topicExists: return .topicAlreadyExists
        case .invalidConfiguration: return .invalidConfig
        case .invalidRequest: return .invalidRecord
        case .codecUnavailable: return .unsupportedCompressionType
        case .diskFull, .ioFailure: return .kafkaStorageError
        case .closed: return .notLeaderOrFollower
        default: return .unknownServerError
        }
    }
}

extension KafkaUUID {
    /// A UUID from 32 hex digits (how topic configs store topic ids).
    init?(hex: String?) {
        guard let hex, hex.utf8.count == 32 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes: bytes)
    }
}
