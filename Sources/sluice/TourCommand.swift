import ArgumentParser
import NIOCore
import SluiceCore
import SluiceLog

/// The main job on the embedded default, for now a short tour of the log: create a topic, produce
/// keyed records with headers, consume them back, look at the partitions, verify the files.
struct TourCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tour", abstract: "A short tour of the embedded log: create a topic, produce, consume.")

    @OptionGroup var data: DataOptions
    @Option(help: "Records to produce.") var records: Int = 12

    func run() async throws {
        try await reportingErrors {
            let log = try self.data.openLog()
            let topic = "tour"
            printFlushed("Sluice tour: data directory \(self.data.dataDir)\n")
            if !log.topicNames.contains(topic) {
                var config = TopicConfig(partitionCount: 3)
                config.retentionMs = 24 * 3600 * 1000
                try log.createTopic(topic, config: config)
                printFlushed("1. created topic '\(topic)' with 3 partitions (retention 1 day, group commit)")
            } else {
                printFlushed("1. topic '\(topic)' exists already; appending to it")
            }
            let partitions = try log.partitions(of: topic)
            let users = ["ada", "grace", "linus", "barbara", "ken"]
            var builders: [Int32: RecordBatchBuilder] = [:]
            for index in 0..<self.records {
                let user = users[index % users.count]
                let key = Array(user.utf8)
                let value = Array("{\"user\":\"\(user)\",\"event\":\"click\",\"n\":\(index)}".utf8)
                let partition = Murmur2.partition(forKey: key, partitionCount: Int32(partitions.count))
                builders[partition, default: RecordBatchBuilder(compression: .lz4IfAvailable)].append(
                    ProducerRecord(key: key, value: value, headers: [("source", Array("tour".utf8))], timestamp: currentTimeMillis()))
            }
            printFlushed("2. produced \(self.records) records keyed by user (Kafka's murmur2 partitioner):")
            for (partitionIndex, builder) in builders.sorted(by: { $0.key < $1.key }) {
                let result = try await partitions[Int(partitionIndex)].appendDurably(try builder.build())
                printFlushed("   \(topic)-\(partitionIndex): offsets \(result.baseOffset)-\(result.lastOffset) acknowledged (durable)")
            }
            printFlushed("3. consumed from the beginning:")
            for partition in partitions {
                var offset = partition.startOffset
                while true {
                    let (records, next) = try partition.readRecords(from: offset, maxBytes: 1 << 20, isolation: .readCommitted)
                    if next == offset { break }
                    for record in records.suffix(5) { printFlushed("   " + textLine(record, partition: partition.topicPartition.partition)) }
                    offset = next
                }
            }
            printFlushed("4. partitions:")
            for partition in partitions {
                printFlushed("   \(partition.topicPartition): offsets \(partition.startOffset)-\(partition.logEndOffset - 1), \(partition.segmentCount) segment, \(partition.byteCount) bytes")
            }
            try log.close()
            let report = try LogInspector.verify(directory: self.data.dataDir, topic: topic)
            printFlushed("5. log verify: \(report.isClean ? "every batch and index checks out" : "problems found")")
            printFlushed("\nNext: sluice topic list, sluice produce --topic \(topic) --key-separator :, sluice consume --topic \(topic) --format json")
        }
    }
}

extension CompressionCodec {
    /// lz4 where liblz4 loads, otherwise no compression.
    static var lz4IfAvailable: CompressionCodec {
        (try? CompressionCodec.lz4.compress([0])) != nil ? .lz4 : .none
    }
}
