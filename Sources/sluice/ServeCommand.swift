import ArgumentParser
import Logging
import Foundation
import SluiceBroker
import SluiceConnect
import SluiceCore
import SluiceLog

/// `sluice serve`: the embedded log over the Kafka protocol.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the embedded log to Kafka clients (librdkafka, kafka-python, aiokafka, Java...).")

    @OptionGroup var data: DataOptions
    @Option(help: "The Kafka listener, HOST:PORT.") var kafkaListen: String = "127.0.0.1:9092"
    @Option(help: "What Metadata tells clients to connect to, HOST:PORT (default: the listener).") var advertisedListener: String?
    @Option(help: "Create unknown topics on first use (true|false).") var autoCreateTopics: Bool = true
    @Option(help: "Partitions of auto-created topics.") var defaultPartitions: Int32 = 1
    @Option(help: "Delay before the first rebalance of a new group (milliseconds).") var groupInitialRebalanceDelayMs: Int64 = 3000
    @Option(help: "The longest transaction timeout a producer may ask for (milliseconds).") var transactionTimeoutMaxMs: Int32 = 900_000
    @Option(help: "The largest request accepted (bytes).") var requestBytesMax: Int = 100 * 1024 * 1024
    @Option(help: "Close a connection that moves no bytes for this long while the broker owes it nothing (milliseconds; 0: never).")
    var connectionsMaxIdleMs: Int64 = 600_000
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"
    @Option(help: "A JSON file of connectors to run beside the broker (see docs/cdc-postgres.md).") var connectConfig: String?

    func validate() throws {
        guard Self.parseAddress(self.kafkaListen) != nil else { throw ValidationError("--kafka-listen must be HOST:PORT, not '\(self.kafkaListen)'") }
        if let advertised = self.advertisedListener, Self.parseAddress(advertised) == nil {
            throw ValidationError("--advertised-listener must be HOST:PORT, not '\(advertised)'")
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else { throw ValidationError("--log-level '\(self.logLevel)' is not a level") }
        guard self.defaultPartitions >= 1 else { throw ValidationError("--default-partitions must be at least 1") }
        guard self.connectionsMaxIdleMs >= 0 else { throw ValidationError("--connections-max-idle-ms cannot be negative") }
    }

    static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        let host = String(text[..<colon])
        return host.isEmpty ? nil : (host, port)
    }

    func run() async throws {
        MemoryTuning.applyForServer()
        try await reportingErrors {
            var logger = Logger(label: "sluice.broker")
            logger.logLevel = Logger.Level(rawValue: self.logLevel)!
            var config = BrokerConfig()
            let listen = Self.parseAddress(self.kafkaListen)!
            config.listenHost = listen.host
            config.listenPort = listen.port
            if let advertised = self.advertisedListener.flatMap(Self.parseAddress) {
                config.advertisedHost = advertised.host
                config.advertisedPort = advertised.port
            }
            config.autoCreateTopics = self.autoCreateTopics
            config.defaultPartitionCount = self.defaultPartitions
            config.groupInitialRebalanceDelayMs = self.groupInitialRebalanceDelayMs
            config.transactionTimeoutMsMax = self.transactionTimeoutMaxMs
            config.frameBytesMax = self.requestBytesMax
            config.connectionsMaxIdleMs = self.connectionsMaxIdleMs == 0 ? nil : self.connectionsMaxIdleMs
            config.log = self.data.logOptions
            let advertisedPortSet = self.advertisedListener != nil
            let connectors = try self.connectConfig.map { try ConnectConfigFile.load($0) }?.postgresConfigurations() ?? []
            let services: [@Sendable (Log) async throws -> Void] = connectors.map { configuration in
                { log in
                    try await PostgresCDCConnector(configuration: configuration, log: log, onProgress: { progress in
                        if case .streaming(let slot) = progress { printFlushed("cdc streaming from slot \(slot)") }
                    }).run()
                }
            }
            try await BrokerService.run(dataDirectory: self.data.dataDir, config: config, logger: logger, services: services) { address in
                printFlushed("listening on \(address)")
                _ = advertisedPortSet
            }
        }
    }
}

/// The connectors `sluice serve --connect-config FILE` runs:
/// `{"postgres": [{"connection": "...", "publication": "...", "slot": "...", "tables": ["public.a"],
///   "snapshotMode": "initial", "topicPrefix": "pg"}]}`.
struct ConnectConfigFile: Decodable {
    struct Postgres: Decodable {
        var connection: String
        var publication: String?
        var slot: String?
        var tables: [String]
        var snapshotMode: String?
        var topicPrefix: String?
    }

    var postgres: [Postgres]?

    static func load(_ path: String) throws -> ConnectConfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CDCError(.invalidConfiguration, "cannot read the connector configuration \(path)")
        }
        do {
            return try JSONDecoder().decode(ConnectConfigFile.self, from: data)
        } catch {
            throw CDCError(.invalidConfiguration, "\(path) is not a valid connector configuration: \(error)")
        }
    }

    func postgresConfigurations() throws -> [PostgresCDCConfiguration] {
        try (self.postgres ?? []).map { entry in
            let modeName = entry.snapshotMode ?? "initial"
            guard let mode = PostgresCDCConfiguration.SnapshotMode(rawValue: modeName) else {
                throw CDCError(.invalidConfiguration, "snapshotMode must be initial, never or initial_only, not '\(modeName)'")
            }
            let configuration = PostgresCDCConfiguration(
                connection: try PgConnectionConfig(parsing: entry.connection), publication: entry.publication ?? "sluice",
                slot: entry.slot ?? "sluice", tables: entry.tables, snapshotMode: mode, topicPrefix: entry.topicPrefix ?? "pg")
            try configuration.validate()
            return configuration
        }
    }
}
