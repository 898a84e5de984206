import ArgumentParser
import NIOCore
import SluiceCore
import SluiceLog

/// A child process for crash tests: appends batches of uniquely named records under the chosen
/// durability policy, and prints `ack <partition> <base> <last> <first-value>` once each batch is
/// acknowledged. The test SIGKILLs it at random moments and checks the data afterwards.
struct CrashAppenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_crash-appender", abstract: "Crash-test child (internal).", shouldDisplay: false)

    @OptionGroup var data: DataOptions
    @Option var topic: String = "crash"
    @Option var partitions: Int32 = 2
    @Option(help: "A number that makes this run's record values unique.") var run: Int
    @Option var concurrency: Int = 4
    @Option var recordsPerBatch: Int = 20
    @Option var segmentBytes: Int64 = 64 * 1024
    @Option(help: "Stop after this many batches (default: until killed).") var batches: Int = Int.max

    func run() async throws {
        try await reportingErrors {
            let log = try self.data.openLog()
            if !log.topicNames.contains(self.topic) {
                var config = TopicConfig(partitionCount: self.partitions)
                config.segmentBytes = self.segmentBytes
                config.indexIntervalBytes = 512
                try log.createTopic(self.topic, config: config)
            }
            let partitions = try log.partitions(of: self.topic)
            printFlushed("ready \(partitions.map { "\($0.logEndOffset)" }.joined(separator: " "))")
            let total = self.batches
            let perWorker = (total == Int.max) ? Int.max : total / self.concurrency
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<self.concurrency {
                    group.addTask {
                        var batchIndex = 0
                        while batchIndex < perWorker {
                            let partition = partitions[(worker + batchIndex) % partitions.count]
                            var builder = RecordBatchBuilder()
                            let first = "r\(self.run)-w\(worker)-b\(batchIndex)"
                            for record in 0..<self.recordsPerBatch {
                                builder.append(ProducerRecord(key: Array("w\(worker)".utf8), value: Array("\(first)-\(record)".utf8),
                                                              timestamp: currentTimeMillis()))
                            }
                            let result = try await partition.appendDurably(try builder.build())
                            printFlushed("ack \(partition.topicPartition.partition) \(result.baseOffset) \(result.lastOffset) \(first)")
                            batchIndex += 1
                        }
                    }
                }
                try await group.waitForAll()
            }
            try log.close()
            printFlushed("done")
        }
    }
}
