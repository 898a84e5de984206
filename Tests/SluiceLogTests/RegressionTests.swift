import Foundation
import NIOCore
import SluiceCore
@testable import SluiceLog
import Testing
import _SluiceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Cases found in review, each once a real bug.
@Suite(.serialized) struct RegressionTests {
    @Test func anEpochBumpingMarkerStartsANewSequenceSpace() async throws {
        try await withLog { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            _ = try partition.append(Batches.producer(id: 7, epoch: 0, sequence: 0, values: ["a", "b"], transactional: true))
            _ = try partition.append(RecordBatchBuilder.controlBatch(.abort, producerId: 7, producerEpoch: 1, timestamp: 1_700_000_000_000))
            let next = try partition.append(Batches.producer(id: 7, epoch: 1, sequence: 0, values: ["c", "d"], transactional: true))
            #expect(!next.isDuplicate)
            #expect(next.baseOffset == 3)
        }
    }

    @Test(arguments: [Int64.max - 1, 4 + (Int64(1) << 33)])
    func aCorruptBaseOffsetIsTruncatedNotATrap(_ corruptOffset: Int64) async throws {
        var config = TopicConfig()
        config.indexIntervalBytes = 0
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            for index in 0..<3 { _ = try partition.append(Batches.strings(["r\(index)", "s\(index)"])) }
            try partition.flush()
            log.abandon()
            let file = try segmentFiles(path)[0]
            let batchSize = Int(fileSize(file)) / 3
            modifyFile(file) { bytes in
                withUnsafeBytes(of: corruptOffset.bigEndian) { raw in for index in 0..<8 { bytes[2 * batchSize + index] = raw[index] } }
            }
            let recovered = try reopen(path)
            #expect(recovered.recoveryReports.count == 1)
            #expect(try recovered.partition(TopicPartition("t", 0)).logEndOffset == 4)
            try recovered.close()
        }
    }

    @Test func closeFailsOrCompletesEveryAppendRacingIt() async throws {
        for _ in 0..<10 {
            let directory = TemporaryDirectory()
            defer { directory.remove() }
            var options = LogOptions(durability: .groupCommit(interval: .milliseconds(1)))
            options.runsMaintenance = false
            let log = try Log(directory: directory.path, options: options)
            try log.createTopic("t", config: TopicConfig())
            let partition = try log.partition(TopicPartition("t", 0))
            let appenders = (0..<8).map { _ in
                Task.detached {
                    var acknowledged = 0
                    while true {
                        do { _ = try await partition.appendDurably(Batches.strings(["v"])) } catch { break }
                        acknowledged += 1
                    }
                    return acknowledged
                }
            }
            try await Task.sleep(for: .milliseconds(20))
            try log.close()
            var total = 0
            for appender in appenders { total += await appender.value }  // hangs if an append is stranded
            let reopened = try Log(directory: directory.path, options: options)
            #expect(try reopened.partition(TopicPartition("t", 0)).logEndOffset >= Int64(total), "every acknowledged append survives")
            try reopened.close()
        }
    }

    @Test func recoverySyncsWhatItRecoversBeforeCallingItDurable() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = LogOptions(durability: .osManaged)
        options.runsMaintenance = false
        let log = try Log(directory: directory.path, options: options)
        try log.createTopic("t", config: TopicConfig())
        _ = try log.partition(TopicPartition("t", 0)).append(Batches.producer(id: 3, epoch: 0, sequence: 0, values: ["never", "synced"]))
        log.abandon()
        let recovered = try reopen(directory.path, durability: .fsyncPerAppend)
        let partition = try recovered.partition(TopicPartition("t", 0))
        #expect(!partition.hasUnsyncedData)
        #expect(recovered.recoveryReports.isEmpty)
        try recovered.close()
    }

    @Test func batchesWhoseRecordsDoNotMatchTheirHeaderAreRefused() async throws {
        var config = TopicConfig()
        config.cleanupPolicy = .compact
        try await withLog(topics: ["t": config]) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            var buffer = Batches.strings(["v1", "v2"], keys: ["k", "k"]).buffer
            buffer.setInteger(Int32(3), at: buffer.readerIndex + RecordBatch.Field.recordCount)
            buffer.setInteger(RecordBatch(unchecked: buffer).computeCRC(), at: buffer.readerIndex + RecordBatch.Field.crc)
            #expect { try partition.append(RecordBatch(unchecked: buffer)) } throws: { ($0 as? SluiceError)?.code == .corruptData }
            // A compacted topic refuses records without keys.
            #expect { try partition.append(Batches.strings(["no key"])) } throws: { ($0 as? SluiceError)?.code == .invalidRequest }
            #expect(partition.logEndOffset == 0)
        }
    }

    @Test func compactionKeepsABatchsOffsetRangeAndAProducersLastBatch() async throws {
        var config = TopicConfig()
        config.cleanupPolicy = .compact
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            let idempotent = Batches.strings(["x1", "y1"], keys: ["x", "y"]) { builder in
                builder.producerId = 5
                builder.producerEpoch = 0
                builder.baseSequence = 0
            }
            _ = try partition.append(idempotent)
            _ = try partition.append(Batches.strings(["y2", "x2"], keys: ["y", "x"]))
            try partition.lock.withLock { () throws(SluiceError) in try partition.roll() }
            try partition.flush()
            _ = try partition.compact()
            var batches = RecordBatchSequence(try partition.read(from: 0, maxBytes: 1 << 20).records)
            let first = try #require(try batches.next())
            #expect(first.recordCount == 0, "the producer's only batch is emptied but kept")
            #expect(first.lastOffset == 1 && first.lastSequence == 1)
            log.abandon()
            for name in try FileManager.default.contentsOfDirectory(atPath: "\(path)/topics/t/0") where name.hasSuffix(".snapshot") {
                try FileManager.default.removeItem(atPath: "\(path)/topics/t/0/\(name)")
            }
            let recovered = try reopen(path)
            let retry = try recovered.partition(TopicPartition("t", 0)).append(idempotent)
            #expect(retry.isDuplicate && retry.baseOffset == 0)
            try recovered.close()
        }
    }

    @Test func readsBetweenTheHighWatermarkAndTheLogEndAreEmptyNotOutOfRange() async throws {
        try await withLog(durability: .groupCommit(interval: .seconds(30))) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            // The first sync of a partition is immediate; the next one waits the 30 s interval.
            _ = try await partition.appendDurably(Batches.strings(["a"]))
            _ = try partition.append(Batches.strings(["b"]))
            #expect(partition.highWatermark == 1 && partition.logEndOffset == 2)
            let result = try partition.read(from: 1, maxBytes: 100)
            #expect(result.records.readableBytes == 0 && result.highWatermark == 1)
            #expect(throws: SluiceError.self) { try partition.read(from: 3, maxBytes: 100) }
        }
    }

    @Test func waitsWithPastDeadlinesAllReturn() async throws {
        try await withLog { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            _ = try await partition.appendDurably(Batches.strings(["x"]))
            let end = partition.logEndOffset
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<2000 {
                    group.addTask { await partition.waitForData(beyond: end, isolation: .readUncommitted, deadline: .now - .seconds(1)) }
                }
            }
        }
    }
}
