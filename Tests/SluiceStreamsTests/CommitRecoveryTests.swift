import Foundation
import NIOCore
import SluiceCore
import SluiceLog
import SluiceStreams
import Testing
import _SluiceTestSupport

/// What a restart finds after a crash in the middle of commits.
@Suite struct CommitRecoveryTests {
    /// Thread 0 died after appending its commit record and before deciding it; thread 1 committed
    /// after that. The undecided record holds the offsets topic's last stable offset below thread 1's
    /// commit: a restart must settle it first, or it would miss thread 1's commit and process its
    /// input again.
    @Test func anUndecidedCommitDoesNotHideTheOtherThreadsCommits() throws {
        let directory = TemporaryDirectory(prefix: "sluice-commit-recovery")
        defer { directory.remove() }
        let log = try Log(directory: directory.path + "/data", options: LogOptions(durability: .osManaged))
        defer { try? log.close() }
        let client = EmbeddedLogClient(log: log)
        try log.createTopic("in", config: TopicConfig.keepingAll(partitionCount: 2))
        try log.createTopic("out", config: TopicConfig.keepingAll(partitionCount: 1))
        for partition in Int32(0)..<2 {
            let records = (0..<10).map { ProducerRecord(key: Array("k\($0)".utf8), value: Array("p\(partition)-\($0)".utf8), timestamp: 1_000) }
            _ = try log.partition(TopicPartition("in", partition)).append(try RecordBatchBuilder.batch(records))
        }
        let offsetsTopic = "resume-offsets"
        try client.ensureTopic(offsetsTopic, partitionCount: 1, compacted: true)

        // Thread 0's commit record, appended in its transaction and never decided.
        let threadZero = try client.makeProducer(id: "resume-thread-0", transactional: true, writes: ["out"], offsetsTopic: offsetsTopic)
        try threadZero.send(ProducerRecord(key: Array("resume-thread-0".utf8), value: Array("{}".utf8), timestamp: 1_000),
                            to: TopicPartition(offsetsTopic, 0))
        try threadZero.flushBuffered()
        // Thread 1 then committed: task 0_1 has read all of partition 1.
        let threadOne = try client.makeProducer(id: "resume-thread-1", transactional: true, writes: ["out"], offsetsTopic: offsetsTopic)
        try threadOne.commit(CommitRecord(producerId: "resume-thread-1", sequence: 1, tasks: [
            TaskCommit(task: "0_1", inputs: [InputPosition(topic: "in", partition: 1, offset: 10, maxTimestamp: 1_000)]),
        ]))
        #expect(try client.committedRecords(offsetsTopic: offsetsTopic).isEmpty, "the undecided record hides the later commit")

        let builder = StreamsBuilder()
        builder.stream("in", key: .string, value: .string).to("out", key: .string, value: .string)
        var settings = StreamsSettings(applicationId: "resume", stateDirectory: directory.path + "/state")
        settings.threadCount = 2
        settings.stopAtEnd = true
        try StreamsApplication(topology: try builder.build(), client: client, settings: settings).run()

        let values = try readAll("out", log: log).values.flatMap { $0 }.map { String(buffer: $0.value!) }
        #expect(values.sorted() == (0..<10).map { "p0-\($0)" }.sorted(), "partition 1 was committed already: only partition 0 is processed")
    }
}
