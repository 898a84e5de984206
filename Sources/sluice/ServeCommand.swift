import ArgumentParser
import Logging
import SluiceBroker
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
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"

    func validate() throws {
        guard Self.parseAddress(self.kafkaListen) != nil else { throw ValidationError("--kafka-listen must be HOST:PORT, not '\(self.kafkaListen)'") }
        if let advertised = self.advertisedListener, Self.parseAddress(advertised) == nil {
            throw ValidationError("--advertised-listener must be HOST:PORT, not '\(advertised)'")
        }
        guard Logger.Level(rawValue: self.logLevel) != nil else { throw ValidationError("--log-level '\(self.logLevel)' is not a level") }
        guard self.defaultPartitions >= 1 else { throw ValidationError("--default-partitions must be at least 1") }
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
            config.log = self.data.logOptions
            let advertisedPortSet = self.advertisedListener != nil
            try await BrokerService.run(dataDirectory: self.data.dataDir, config: config, logger: logger) { address in
                printFlushed("listening on \(address)")
                _ = advertisedPortSet
            }
        }
    }
}
