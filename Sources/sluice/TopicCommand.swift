import ArgumentParser
import SluiceCore
import SluiceLog

struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic", abstract: "Create, list, describe and delete topics.",
        subcommands: [Create.self, List.self, Describe.self, Delete.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a topic.")
        @OptionGroup var data: DataOptions
        @Argument(help: "The topic name: letters, digits, '.', '_' and '-'.") var name: String
        @Option(help: "Number of partitions.") var partitions: Int32 = 1
        @Option(parsing: .unconditional, help: "Delete segments older than this (milliseconds, -1 for never).") var retentionMs: Int64?
        @Option(parsing: .unconditional, help: "Delete old segments while the partition is larger (bytes, -1 for no limit).") var retentionBytes: Int64?
        @Option(help: "delete, compact or compact,delete.") var cleanupPolicy: String?
        @Option(help: "Roll a segment at this size (bytes).") var segmentBytes: Int64?
        @Option(name: .customLong("config"), help: "Any topic config as key=value (Kafka's names); repeatable.")
        var configs: [String] = []

        func run() async throws {
            try await reportingErrors {
                var config = TopicConfig(partitionCount: self.partitions)
                var entries = self.configs
                if let value = self.retentionMs { entries.append("retention.ms=\(value)") }
                if let value = self.retentionBytes { entries.append("retention.bytes=\(value)") }
                if let value = self.cleanupPolicy { entries.append("cleanup.policy=\(value)") }
                if let value = self.segmentBytes { entries.append("segment.bytes=\(value)") }
                for entry in entries {
                    guard let equals = entry.firstIndex(of: "=") else {
                        throw SluiceError(.invalidConfiguration, "config '\(entry)' is not key=value")
                    }
                    try config.apply(String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
                }
                try config.validate()
                let log = try self.data.openLog()
                defer { try? log.close() }
                try log.createTopic(self.name, config: config)
                printFlushed("created topic \(self.name) with \(self.partitions) partition\(self.partitions == 1 ? "" : "s")")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List topics.")
        @OptionGroup var data: DataOptions

        func run() async throws {
            try await reportingErrors {
                let log = try self.data.openLog()
                defer { try? log.close() }
                for name in log.topicNames { printFlushed(name) }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a topic's configuration and partitions.")
        @OptionGroup var data: DataOptions
        @Argument var name: String

        func run() async throws {
            try await reportingErrors {
                let log = try self.data.openLog()
                defer { try? log.close() }
                let config = try log.topicConfig(self.name)
                printFlushed("topic \(self.name): \(config.partitionCount) partition\(config.partitionCount == 1 ? "" : "s")")
                for (key, value) in config.kafkaEntries { printFlushed("  \(key)=\(value)") }
                for partition in try log.partitions(of: self.name) {
                    printFlushed("  partition \(partition.topicPartition.partition): start \(partition.startOffset), end \(partition.logEndOffset), high watermark \(partition.highWatermark), last stable \(partition.lastStableOffset), \(partition.segmentCount) segment\(partition.segmentCount == 1 ? "" : "s"), \(partition.byteCount) bytes")
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a topic and its data.")
        @OptionGroup var data: DataOptions
        @Argument var name: String

        func run() async throws {
            try await reportingErrors {
                let log = try self.data.openLog()
                defer { try? log.close() }
                try log.deleteTopic(self.name)
                printFlushed("deleted topic \(self.name)")
            }
        }
    }
}
