import Foundation
import NIOCore
import SluiceCore
import SluiceLog
import SluiceStreams
import Testing
import _SluiceTestSupport

/// A task reading two topics takes the least of their watermarks; a topic that stays idle past the
/// idleness timeout stops holding the task's watermark back, so windows still complete.
@Suite struct IdlenessTests {
    @Test func anIdleInputStopsHoldingTheWatermarkBack() async throws {
        let directory = TemporaryDirectory(prefix: "sluice-idleness")
        defer { directory.remove() }
        let log = try Log(directory: directory.path + "/data", options: LogOptions(durability: .osManaged))
        defer { try? log.close() }
        try log.createTopic("busy", config: TopicConfig.keepingAll(partitionCount: 1))
        try log.createTopic("quiet", config: TopicConfig.keepingAll(partitionCount: 1))
        try log.createTopic("counts", config: TopicConfig.keepingAll(partitionCount: 1))
        // One record on the quiet topic at the start, then nothing.
        _ = try log.partition(TopicPartition("quiet", 0)).append(
            try RecordBatchBuilder.batch([ProducerRecord(key: Array("k".utf8), value: withUnsafeBytes(of: Int64(1).bigEndian) { Array($0) }, timestamp: 10_000)]))
        // The busy topic moves event time on to 60 s.
        let busy = (0..<60).map { second in
            ProducerRecord(key: Array("k".utf8), value: withUnsafeBytes(of: Int64(1).bigEndian) { Array($0) }, timestamp: 10_000 + Int64(second) * 1_000)
        }
        _ = try log.partition(TopicPartition("busy", 0)).append(try RecordBatchBuilder.batch(busy))

        let builder = StreamsBuilder()
        builder.stream("busy", key: .string, value: .int64)
            .merge(builder.stream("quiet", key: .string, value: .int64))
            .groupByKey(key: .string, value: .int64)
            .windowedBy(.tumbling(size: 10_000))
            .count()
            .toStream()
            .to("counts", key: .windowed(.string), value: .int64)
        var settings = StreamsSettings(applicationId: "idle", stateDirectory: directory.path + "/state")
        settings.idleTimeoutMs = 300
        settings.guarantee = .atLeastOnce
        settings.commitIntervalMs = 20
        let app = try StreamsApplication(topology: try builder.build(), client: EmbeddedLogClient(log: log), settings: settings)
        try app.start()
        defer {
            app.stop()
            try? app.awaitTermination()
        }
        // Before the timeout the quiet topic's watermark (10 s) holds every window back; after it,
        // the busy topic's watermark (69 s less nothing) completes the windows up to 60 s.
        var windows: [String: [Int64]] = [:]
        _ = try await eventually(timeout: .seconds(30), every: .milliseconds(50)) {
            windows = try windowResults("counts", log: log)
            return windows.count >= 5
        }
        #expect(windows.count >= 5, "windows completed once the quiet input went idle: \(windows)")
        #expect(windows["k[10000, 20000)"] == [11], "the first window holds the quiet record too")
        #expect(windows["k[20000, 30000)"] == [10])
    }
}
