import NIOCore
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

/// Opens a log in a temporary directory for one test and removes it afterwards.
func withLog(
    durability: DurabilityPolicy = .groupCommit(interval: .milliseconds(1)),
    topics: [String: TopicConfig] = ["t": TopicConfig()],
    _ body: (Log, String) async throws -> Void
) async throws {
    let directory = TemporaryDirectory()
    defer { directory.remove() }
    var options = LogOptions(durability: durability)
    options.runsMaintenance = false
    let log = try Log(directory: directory.path, options: options)
    for (name, config) in topics { try log.createTopic(name, config: config) }
    try await body(log, directory.path)
    try? log.close()
}

func reopen(_ path: String, durability: DurabilityPolicy = .groupCommit(interval: .milliseconds(1))) throws -> Log {
    var options = LogOptions(durability: durability)
    options.runsMaintenance = false
    return try Log(directory: path, options: options)
}


@Suite struct PartitionTests {
    @Test func appendAssignsDenseOffsetsAndReadsBack() async throws {
        try await withLog { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            var expected: [String] = []
            for batchIndex in 0..<50 {
                let values = (0..<(batchIndex % 7 + 1)).map { "v\(batchIndex)-\($0)" }
                let result = try await partition.appendDurably(Batches.strings(values))
                #expect(result.baseOffset == Int64(expected.count))
                #expect(result.lastOffset == Int64(expected.count + values.count - 1))
                expected += values
            }
            #expect(partition.logEndOffset == Int64(expected.count))
            #expect(partition.highWatermark == Int64(expected.count))
            let records = try readAll(partition)
            #expect(records.map(\.valueString) == expected)
            #expect(records.map(\.offset) == Array(0..<Int64(expected.count)))
            // A read from the middle of a batch returns the batch holding the offset.
            let middle = try partition.read(from: 5, maxBytes: 1)
            var batches = RecordBatchSequence(middle.records)
            let first = try #require(try batches.next())
            #expect(first.baseOffset <= 5 && first.lastOffset >= 5)
            #expect(try batches.next() == nil, "maxBytes 1 still returns exactly one whole batch")
        }
    }

    @Test func readsStopAtTheHighWatermarkAndRejectOutOfRange() async throws {
        try await withLog { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            _ = try await partition.appendDurably(Batches.strings(["a", "b"]))
            #expect(try partition.read(from: 2, maxBytes: 1000).records.readableBytes == 0)
            #expect(throws: SluiceError.self) { try partition.read(from: 3, maxBytes: 1000) }
            #expect(throws: SluiceError.self) { try partition.read(from: -1, maxBytes: 1000) }
        }
    }

    @Test func segmentsRollBySizeAndIndexesFindEveryOffset() async throws {
        var config = TopicConfig()
        config.segmentBytes = 4096
        config.indexIntervalBytes = 256
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            for index in 0..<400 {
                _ = try partition.append(Batches.strings(["record-\(index)-" + String(repeating: "x", count: index % 50)]))
            }
            try partition.flush()
            #expect(partition.segmentCount > 10)
            for offset in stride(from: Int64(0), to: 400, by: 7) {
                let result = try partition.read(from: offset, maxBytes: 100)
                let records = try decodeRecords(result.records)
                #expect(records.first?.offset == offset)
                #expect(records.first?.valueString?.hasPrefix("record-\(offset)-") == true)
            }
            try log.close()
            // Clean reopen loads the persisted indexes and finds the same data.
            let reopened = try reopen(path)
            #expect(reopened.wasCleanShutdown)
            let again = try reopened.partition(TopicPartition("t", 0))
            #expect(again.logEndOffset == 400)
            #expect(try readAll(again).count == 400)
            try reopened.close()
        }
    }

    @Test func readByTimestamp() async throws {
        var config = TopicConfig()
        config.segmentBytes = 2048
        config.indexIntervalBytes = 128
        try await withLog(topics: ["t": config]) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            // Timestamps 1000, 1010, ... with a few out of order.
            for index in 0..<200 {
                let timestamp: Int64 = index % 17 == 5 ? 900 : 1000 + Int64(index) * 10
                _ = try partition.append(Batches.strings(["v\(index)"], timestamp: timestamp))
            }
            try partition.flush()
            #expect(try partition.offset(forTimestamp: 0)?.offset == 0)
            #expect(try partition.offset(forTimestamp: 1000)?.offset == 0)
            #expect(try partition.offset(forTimestamp: 1001)?.offset == 1)
            #expect(try partition.offset(forTimestamp: 1500)?.offset == 50)
            #expect(try partition.offset(forTimestamp: 1500)?.timestamp == 1500)
            #expect(try partition.offset(forTimestamp: 1000 + 199 * 10)?.offset == 199)
            #expect(try partition.offset(forTimestamp: 5000) == nil)
            // Brute force agrees for every timestamp.
            let records = try readAll(partition)
            for target in stride(from: Int64(850), to: 3100, by: 13) {
                let expected = records.first { $0.timestamp >= target }?.offset
                #expect(try partition.offset(forTimestamp: target)?.offset == expected, "timestamp \(target)")
            }
        }
    }

    @Test func compressedBatchesAreStoredAsSent() async throws {
        try await withLog { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            var sent: [String] = []
            for codec in CompressionCodec.allCases {
                let values = (0..<100).map { "\(codec)-\($0)-" + String(repeating: "z", count: 30) }
                let batch = Batches.strings(values, compression: codec)
                let result = try await partition.appendDurably(batch)
                let read = try partition.read(from: result.baseOffset, maxBytes: 1)
                var sequence = RecordBatchSequence(read.records)
                var stored = try #require(try sequence.next())
                #expect(stored.compression == codec)
                stored.setBaseOffset(0)
                stored.setPartitionLeaderEpoch(-1)
                #expect(Array(stored.buffer.readableBytesView) == Array(batch.buffer.readableBytesView), "\(codec) bytes are unchanged")
                sent += values
            }
            #expect(try readAll(partition).map(\.valueString) == sent)
        }
    }

    @Test func oversizedAndCorruptBatchesAreRejected() async throws {
        var config = TopicConfig()
        config.maxMessageBytes = 2000
        try await withLog(topics: ["t": config]) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            let big = Batches.strings([String(repeating: "x", count: 3000)])
            #expect { try partition.append(big) } throws: { ($0 as? SluiceError)?.code == .limitExceeded }
            var bytes = Array(Batches.strings(["ok"]).buffer.readableBytesView)
            bytes[bytes.count - 1] ^= 0x40
            #expect { try partition.append(RecordBatch(unchecked: ByteBuffer(bytes: bytes))) } throws: { ($0 as? SluiceError)?.code == .checksumMismatch }
            #expect(partition.logEndOffset == 0)
        }
    }

    @Test(arguments: [DurabilityPolicy.fsyncPerAppend, .groupCommit(interval: .milliseconds(3)), .osManaged])
    func durabilityPolicies(_ policy: DurabilityPolicy) async throws {
        try await withLog(durability: policy) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            try await withThrowingTaskGroup(of: AppendResult.self) { group in
                for index in 0..<40 {
                    group.addTask { try await partition.appendDurably(Batches.strings(["p\(index)"])) }
                }
                var offsets: [Int64] = []
                for try await result in group {
                    offsets.append(result.baseOffset)
                    // Acknowledged means visible: the high watermark covers it.
                    #expect(partition.highWatermark > result.lastOffset)
                }
                #expect(offsets.sorted() == Array(0..<40))
            }
        }
    }

    @Test func longPollWakesOnAppendAndTimesOut() async throws {
        try await withLog { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            let start = ContinuousClock.now
            await partition.waitForData(beyond: 0, isolation: .readUncommitted, deadline: start + .milliseconds(50))
            #expect(ContinuousClock.now - start >= .milliseconds(45))
            async let waited: Void = partition.waitForData(beyond: 0, isolation: .readUncommitted, deadline: .now + .seconds(30))
            try await Task.sleep(for: .milliseconds(20))
            _ = try await partition.appendDurably(Batches.strings(["wake"]))
            await waited
            #expect(partition.highWatermark == 1)
        }
    }

    @Test func topicAdministration() async throws {
        try await withLog(topics: [:]) { log, path in
            var config = TopicConfig(partitionCount: 3)
            config.cleanupPolicy = .compact
            try log.createTopic("orders", config: config)
            #expect { try log.createTopic("orders", config: config) } throws: { ($0 as? SluiceError)?.code == .topicExists }
            #expect { try log.createTopic("bad/name", config: config) } throws: { ($0 as? SluiceError)?.code == .invalidConfiguration }
            #expect { try log.partition(TopicPartition("nope", 0)) } throws: { ($0 as? SluiceError)?.code == .unknownTopic }
            #expect { try log.partition(TopicPartition("orders", 3)) } throws: { ($0 as? SluiceError)?.code == .unknownPartition }
            try log.addPartitions("orders", totalCount: 5)
            try log.alterTopicConfig("orders") { (config) throws(SluiceError) in try config.apply("retention.ms", "1000") }
            #expect(try log.topicConfig("orders").partitionCount == 5)
            #expect(try log.topicConfig("orders").retentionMs == 1000)
            _ = try await log.partition(TopicPartition("orders", 4)).appendDurably(Batches.strings(["x"], keys: ["k"]))
            try log.close()
            let reopened = try reopen(path)
            #expect(reopened.topicNames == ["orders"])
            #expect(try reopened.topicConfig("orders").cleanupPolicy == .compact)
            #expect(try reopened.partition(TopicPartition("orders", 4)).logEndOffset == 1)
            try reopened.deleteTopic("orders")
            #expect(reopened.topicNames.isEmpty)
            try reopened.close()
        }
    }

    /// A creation or deletion cut short by a crash leaves a staging directory that the next open
    /// removes; a topic whose name merely ends like one (`x.deleted`) is an ordinary topic.
    @Test func leftoversOfACreationOrDeletionCutShortAreRemovedAndLookalikeTopicsKept() async throws {
        try await withLog(topics: [:]) { log, path in
            try log.createTopic("x.deleted", config: TopicConfig())
            try log.createTopic("y.creating", config: TopicConfig())
            _ = try await log.partition(TopicPartition("x.deleted", 0)).appendDurably(Batches.strings(["kept"]))
            try log.close()
            // What a crash after mkdir and before the config, or after the rename of a deletion, leaves.
            try FileSystem.makeDirectory(path + "/topics/cut~1f2e.creating/0")
            try FileSystem.makeDirectory(path + "/topics/gone~3a4b.deleted/0")
            let reopened = try reopen(path)
            #expect(reopened.topicNames == ["x.deleted", "y.creating"])
            #expect(try reopened.partition(TopicPartition("x.deleted", 0)).logEndOffset == 1)
            #expect(try FileSystem.list(path + "/topics") == ["x.deleted", "y.creating"])
            try reopened.deleteTopic("x.deleted")
            #expect(try FileSystem.list(path + "/topics") == ["y.creating"])
            try reopened.close()
        }
    }

    @Test func dataDirectoryIsLocked() async throws {
        try await withLog { _, path in
            #expect { try reopen(path) } throws: { ($0 as? SluiceError)?.code == .directoryLocked }
        }
    }
}
