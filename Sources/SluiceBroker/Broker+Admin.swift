import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

extension Broker {
    /// Kafka's config resource types.
    enum ResourceType: Int8 {
        case topic = 2
        case broker = 4
    }

    func createTopics(_ request: CreateTopicsRequest, version: Int16) -> CreateTopicsResponse {
        var response = CreateTopicsResponse()
        for topic in request.topics {
            var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name)
            result.errorMessage = nil
            do {
                do {
                    try Log.validateTopicName(topic.name)
                } catch {
                    throw BrokerError(.invalidTopicException, error.message)
                }
                guard topic.replicationFactor == -1 || topic.replicationFactor == 1 else {
                    throw BrokerError(.invalidReplicationFactor, "replication factor \(topic.replicationFactor) is larger than the 1 node of this cluster")
                }
                if !topic.assignments.isEmpty {
                    guard topic.assignments.allSatisfy({ $0.brokerIds == [self.config.nodeId] }) else {
                        throw BrokerError(.invalidReplicaAssignment, "replicas can only be assigned to node \(self.config.nodeId)")
                    }
                }
                var config = TopicConfig(partitionCount: topic.numPartitions == -1 ? self.config.defaultPartitionCount
                                                                                    : (topic.assignments.isEmpty ? topic.numPartitions : Int32(topic.assignments.count)))
                guard config.partitionCount >= 1 else { throw BrokerError(.invalidPartitions, "a topic needs at least one partition") }
                for entry in topic.configs {
                    guard let value = entry.value else { continue }
                    do {
                        try config.apply(entry.name, value)
                    } catch {
                        throw BrokerError(.invalidConfig, error.message)
                    }
                }
                if !request.validateOnly {
                    try self.log.createTopic(topic.name, config: config)
                    config = try self.log.topicConfig(topic.name)
                } else {
                    try Log.validateTopicName(topic.name)
                    if self.log.topicNames.contains(topic.name) { throw SluiceError(.topicExists, "topic '\(topic.name)' already exists") }
                }
                result.topicId = KafkaUUID(hex: config.topicId) ?? .zero
                result.numPartitions = config.partitionCount
                result.replicationFactor = 1
                result.configs = self.configEntries(config).map { .init(name: $0.name, value: $0.value, readOnly: false, configSource: $0.isDefault ? 5 : 1, isSensitive: false) }
            } catch {
                let (code, message) = Self.describe(error)
                result.errorCode = code.rawValue
                result.errorMessage = message
                if version >= 5 { result.configs = nil }
            }
            response.topics.append(result)
        }
        return response
    }

    func deleteTopics(_ request: DeleteTopicsRequest, version: Int16) -> DeleteTopicsResponse {
        var response = DeleteTopicsResponse()
        let targets: [(name: String?, id: KafkaUUID)] = version >= 6
            ? request.topics.map { ($0.name ?? self.topicName(for: $0.topicId), $0.topicId) }
            : request.topicNames.map { ($0, .zero) }
        for target in targets {
            var result = DeleteTopicsResponse.DeletableTopicResult(name: target.name, topicId: target.id)
            do {
                guard let name = target.name else { throw BrokerError(.unknownTopicId, "no topic has id \(target.id)") }
                guard !name.hasPrefix("__") else { throw BrokerError(.invalidRequest, "internal topic \(name) cannot be deleted") }
                result.topicId = self.topicId(of: name)
                try self.log.deleteTopic(name)
                self.appendLanes.removeLanes(of: name)
            } catch {
                let (code, message) = Self.describe(error)
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            response.responses.append(result)
        }
        return response
    }

    func createPartitions(_ request: CreatePartitionsRequest) -> CreatePartitionsResponse {
        var response = CreatePartitionsResponse()
        for topic in request.topics {
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult(name: topic.name)
            do {
                let current = try self.log.topicConfig(topic.name)
                guard topic.count > current.partitionCount else {
                    throw BrokerError(.invalidPartitions, "topic '\(topic.name)' has \(current.partitionCount) partitions; the new count must be larger")
                }
                if !request.validateOnly { try self.log.addPartitions(topic.name, totalCount: topic.count) }
            } catch {
                let (code, message) = Self.describe(error)
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            response.results.append(result)
        }
        return response
    }

    // MARK: Configs

    struct ConfigEntry {
        var name: String
        var value: String
        var isDefault: Bool
        var readOnly: Bool = false
    }

    func configEntries(_ config: TopicConfig) -> [ConfigEntry] {
        let defaults = Dictionary(uniqueKeysWithValues: TopicConfig(partitionCount: config.partitionCount).kafkaEntries.map { ($0.key, $0.value) })
        return config.kafkaEntries.map { ConfigEntry(name: $0.key, value: $0.value, isDefault: defaults[$0.key] == $0.value) }
    }

    var brokerConfigEntries: [ConfigEntry] {
        let advertised = self.config.advertised
        return [
            ConfigEntry(name: "broker.id", value: String(self.config.nodeId), isDefault: false, readOnly: true),
            ConfigEntry(name: "advertised.listeners", value: "PLAINTEXT://\(advertised.host):\(advertised.port)", isDefault: false, readOnly: true),
            ConfigEntry(name: "auto.create.topics.enable", value: String(self.config.autoCreateTopics), isDefault: false, readOnly: true),
            ConfigEntry(name: "num.partitions", value: String(self.config.defaultPartitionCount), isDefault: false, readOnly: true),
            ConfigEntry(name: "group.initial.rebalance.delay.ms", value: String(self.config.groupInitialRebalanceDelayMs), isDefault: false, readOnly: true),
            ConfigEntry(name: "transaction.max.timeout.ms", value: String(self.config.transactionTimeoutMsMax), isDefault: false, readOnly: true),
            ConfigEntry(name: "socket.request.max.bytes", value: String(self.config.frameBytesMax), isDefault: false, readOnly: true),
            ConfigEntry(name: "default.replication.factor", value: "1", isDefault: true, readOnly: true),
            ConfigEntry(name: "min.insync.replicas", value: "1", isDefault: true, readOnly: true),
        ]
    }

    func describeConfigs(_ request: DescribeConfigsRequest, version: Int16) -> DescribeConfigsResponse {
        var response = DescribeConfigsResponse()
        for resource in request.resources {
            var result = DescribeConfigsResponse.DescribeConfigsResult(resourceType: resource.resourceType, resourceName: resource.resourceName)
            result.errorMessage = nil
            do {
                let entries: [ConfigEntry]
                switch ResourceType(rawValue: resource.resourceType) {
                case .topic:
                    entries = self.configEntries(try self.log.topicConfig(resource.resourceName))
                case .broker:
                    guard resource.resourceName.isEmpty || resource.resourceName == String(self.config.nodeId) else {
                        throw BrokerError(.invalidRequest, "no broker \(resource.resourceName)")
                    }
                    entries = self.brokerConfigEntries
                case nil:
                    throw BrokerError(.invalidRequest, "config resource type \(resource.resourceType) is not supported")
                }
                let wanted = resource.configurationKeys.map(Set.init)
                result.configs = entries.filter { wanted?.contains($0.name) ?? true }.map { entry in
                    var config = DescribeConfigsResponse.DescribeConfigsResourceResult(name: entry.name, value: entry.value)
                    config.readOnly = entry.readOnly
                    // Kafka's ConfigSource: 1 dynamic topic config, 4 static broker config, 5 default.
                    let source: Int8 = entry.isDefault ? 5 : (resource.resourceType == ResourceType.topic.rawValue ? 1 : 4)
                    if version == 0 {
                        config.isDefault = entry.isDefault
                    } else {
                        config.configSource = source
                        if request.includeSynonyms {
                            config.synonyms = [.init(name: entry.name, value: entry.value, source: source)]
                        }
                    }
                    if version >= 3 {
                        config.configType = Self.configType(entry.name)
                        config.documentation = nil
                    }
                    return config
                }
            } catch {
                let (code, message) = Self.describe(error)
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            response.results.append(result)
        }
        return response
    }

    /// Kafka's ConfigType of a config (2 boolean, 4 int, 5 long, 1 string, 7 list).
    static func configType(_ name: String) -> Int8 {
        switch name {
        case "cleanup.policy": 7
        case "message.timestamp.type": 1
        case "index.interval.bytes", "max.message.bytes": 3
        case "auto.create.topics.enable": 1
        default: 5
        }
    }

    func alterConfigs(_ request: AlterConfigsRequest) -> AlterConfigsResponse {
        var response = AlterConfigsResponse()
        for resource in request.resources {
            var result = AlterConfigsResponse.AlterConfigsResourceResponse(resourceType: resource.resourceType, resourceName: resource.resourceName)
            result.errorMessage = nil
            do {
                guard resource.resourceType == ResourceType.topic.rawValue else {
                    throw BrokerError(.invalidRequest, "only topic configs can be altered")
                }
                // AlterConfigs replaces the whole set: unset keys return to their defaults.
                try self.changeTopicConfig(resource.resourceName, validateOnly: request.validateOnly) { (config) throws(SluiceError) in
                    let partitions = config.partitionCount
                    let topicId = config.topicId
                    config = TopicConfig(partitionCount: partitions)
                    config.topicId = topicId
                    for entry in resource.configs {
                        guard let value = entry.value else { continue }
                        try config.apply(entry.name, value)
                    }
                }
            } catch {
                let (code, message) = Self.describe(error)
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            response.responses.append(result)
        }
        return response
    }

    func incrementalAlterConfigs(_ request: IncrementalAlterConfigsRequest) -> IncrementalAlterConfigsResponse {
        var response = IncrementalAlterConfigsResponse()
        for resource in request.resources {
            var result = IncrementalAlterConfigsResponse.AlterConfigsResourceResponse(resourceType: resource.resourceType, resourceName: resource.resourceName)
            result.errorMessage = nil
            do {
                guard resource.resourceType == ResourceType.topic.rawValue else {
                    throw BrokerError(.invalidRequest, "only topic configs can be altered")
                }
                try self.changeTopicConfig(resource.resourceName, validateOnly: request.validateOnly) { (config) throws(SluiceError) in
                    let defaults = TopicConfig(partitionCount: config.partitionCount)
                    for entry in resource.configs {
                        switch entry.configOperation {
                        case 0:  // SET
                            guard let value = entry.value else { throw SluiceError(.invalidConfiguration, "SET \(entry.name) needs a value") }
                            try config.apply(entry.name, value)
                        case 1:  // DELETE: back to the default
                            if let value = defaults.kafkaEntries.first(where: { $0.key == entry.name })?.value { try config.apply(entry.name, value) }
                        default:
                            throw SluiceError(.invalidConfiguration, "config operation \(entry.configOperation) on \(entry.name) is not supported")
                        }
                    }
                }
            } catch {
                let (code, message) = Self.describe(error)
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            response.responses.append(result)
        }
        return response
    }

    private func changeTopicConfig(_ name: String, validateOnly: Bool, _ change: (inout TopicConfig) throws(SluiceError) -> Void) throws(SluiceError) {
        if validateOnly {
            var config = try self.log.topicConfig(name)
            try change(&config)
            try config.validate()
        } else {
            try self.log.alterTopicConfig(name, change)
        }
    }

    /// The code and message a response carries for an error.
    static func describe(_ error: any Error) -> (KafkaErrorCode, String?) {
        if let error = error as? BrokerError { return (error.code, error.message) }
        return (Self.errorCode(for: error), (error as? SluiceError)?.message)
    }
}

/// An error that maps straight to a Kafka error code.
struct BrokerError: Error {
    var code: KafkaErrorCode
    var message: String
    init(_ code: KafkaErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
}
