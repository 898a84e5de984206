import NIOCore
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

@Suite struct RetentionTests {
    @Test func sizeRetentionDeletesOldestWholeSegments() async throws {
        var config = TopicConfig()
        config.segmentBytes = 2048
        config.retentionBytes = 6000
        config.retentionMs = -1
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            for index in 0..<300 { _ = try partition.append(Batches.strings(["value-\(index)"])) }
            try partition.flush()
            let segmentsBefore = partition.segmentCount
            let deleted = try partition.applyRetention()
            #expect(deleted > 0)
            #expect(partition.segmentCount == segmentsBefore - deleted)
            #expect(partition.byteCount >= 6000 - 2048 && partition.byteCount <= 6000 + 2048)
            let start = partition.startOffset
            #expect(start > 0)
            #expect { try partition.read(from: start - 1, maxBytes: 100) } throws: { ($0 as? SluiceError)?.code == .offsetOutOfRange }
            let records = try readAll(partition)
            #expect(records.first?.offset == start)
            #expect(records.last?.offset == 299)
            #expect(records.map(\.offset) == Array(start..<300))
            try log.close()
            let reopened = try reopen(path)
            #expect(try reopened.partition(TopicPartition("t", 0)).startOffset == start)
            try reopened.close()
        }
    }

    @Test func timeRetentionDeletesSegmentsOlderThanRetention() async throws {
        var config = TopicConfig()
        config.segmentBytes = 1024
        config.retentionMs = 60_000
        try await withLog(topics: ["t": config]) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            let now: Int64 = 1_800_000_000_000
            for index in 0..<100 {
                // The first 60 records are two minutes old, the rest recent.
                let timestamp = index < 60 ? now - 120_000 : now - 1_000
                _ = try partition.append(Batches.strings(["v\(index)"], timestamp: timestamp), now: now)
            }
            try partition.flush()
            try partition.applyRetention(now: now)
            let records = try readAll(partition)
            #expect(records.allSatisfy { $0.timestamp >= now - 120_000 })
            #expect(records.contains { $0.offset == 99 })
            #expect(records.filter { $0.timestamp == now - 1_000 }.count == 40, "no recent record is deleted")
            #expect(partition.startOffset > 0)
            // Later, everything has expired: the active segment rolls and goes too.
            try partition.applyRetention(now: now + 10 * 60_000)
            #expect(partition.startOffset == 100)
            #expect(try readAll(partition).isEmpty)
            let next = try await partition.appendDurably(Batches.strings(["fresh"], timestamp: now))
            #expect(next.baseOffset == 100)
        }
    }

    @Test func compactTopicsAreNotDeletedByRetention() async throws {
        var config = TopicConfig()
        config.segmentBytes = 1024
        config.retentionBytes = 10
        config.cleanupPolicy = .compact
        try await withLog(topics: ["t": config]) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            for index in 0..<50 { _ = try partition.append(Batches.strings(["v\(index)"], keys: ["k\(index)"])) }
            try partition.flush()
            #expect(try partition.applyRetention() == 0)
            #expect(partition.startOffset == 0)
        }
    }
}

@Suite struct CompactionTests {
    func compactedConfig() -> TopicConfig {
        var config = TopicConfig()
        config.cleanupPolicy = .compact
        config.segmentBytes = 2048
        config.deleteRetentionMs = 60_000
        return config
    }

    @Test func keepsTheLatestValuePerKeyAgainstAnOracle() async throws {
        var random = SeededRandom()
        try await withLog(topics: ["t": compactedConfig()]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            var latest: [String: (offset: Int64, value: String?)] = [:]
            var offset: Int64 = 0
            for round in 0..<400 {
                let keyCount = Int.random(in: 1...4, using: &random)
                let keys = (0..<keyCount).map { _ in "key-\(Int.random(in: 0..<40, using: &random))" }
                let records = keys.enumerated().map { index, key in
                    ProducerRecord(key: Array(key.utf8), value: Array("\(key)@\(round).\(index)".utf8), timestamp: 1000 + Int64(round))
                }
                _ = try partition.append(try RecordBatchBuilder.batch(records))
                for (index, key) in keys.enumerated() {
                    latest[key] = (offset, "\(key)@\(round).\(index)")
                    offset += 1
                }
            }
            try partition.flush()
            let before = partition.byteCount
            let stats = try partition.compact(now: 10_000)
            #expect(stats.segmentsCleaned > 0, "seed \(random.seed)")
            #expect(partition.byteCount < before)
            // Oracle: every key's latest value is present once; older values of keys whose latest value
            // sits in the cleaned range are gone; offsets only increase.
            let records = try readAll(partition)
            #expect(records.map(\.offset) == records.map(\.offset).sorted())
            var seen: [String: Record] = [:]
            for record in records { seen[record.keyString!] = record }
            for (key, expected) in latest {
                #expect(seen[key]?.offset == expected.offset, "key \(key) seed \(random.seed)")
                #expect(seen[key]?.valueString == expected.value)
            }
            let activeBase = try partition.read(from: partition.logEndOffset - 1, maxBytes: 1).records
            _ = activeBase
            try log.close()
            // The cleaned log reopens and reads the same.
            let reopened = try reopen(path)
            #expect(try readAll(reopened.partition(TopicPartition("t", 0))).map(\.offset) == records.map(\.offset))
            try reopened.close()
        }
    }

    @Test func tombstonesStayForDeleteRetentionThenGo() async throws {
        try await withLog(topics: ["t": compactedConfig()]) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            func put(_ key: String, _ value: String?) throws {
                _ = try partition.append(try RecordBatchBuilder.batch([
                    ProducerRecord(key: Array(key.utf8), value: value.map { Array($0.utf8) }, timestamp: 1000)
                ]))
            }
            try put("a", "1")
            try put("b", "1")
            try put("a", nil)  // tombstone for a
            for index in 0..<60 { try put("filler-\(index)", String(repeating: "f", count: 40)) }
            try partition.flush()
            try partition.compact(now: 100_000)
            var records = try readAll(partition)
            #expect(records.filter { $0.keyString == "a" }.count == 1, "only the tombstone of a remains")
            #expect(records.first { $0.keyString == "a" }?.value == nil)
            #expect(records.first { $0.keyString == "b" }?.valueString == "1")
            // Before the delete horizon the tombstone survives another pass.
            try partition.compact(now: 100_000 + 30_000)
            records = try readAll(partition)
            #expect(records.contains { $0.keyString == "a" })
            // After it, the tombstone goes.
            let stats = try partition.compact(now: 100_000 + 61_000)
            #expect(stats.tombstonesRemoved == 1)
            records = try readAll(partition)
            #expect(!records.contains { $0.keyString == "a" })
            #expect(records.first { $0.keyString == "b" }?.valueString == "1")
        }
    }

    @Test func neverCleansPastTheLastStableOffsetAndDropsAbortedData() async throws {
        try await withLog(topics: ["t": compactedConfig()]) { log, _ in
            let partition = try log.partition(TopicPartition("t", 0))
            func keyed(_ key: String, _ value: String, producer: Int64 = -1, sequence: Int32 = -1) -> RecordBatch {
                try! RecordBatchBuilder.batch([ProducerRecord(key: Array(key.utf8), value: Array(value.utf8), timestamp: 1)]) { builder in
                    if producer >= 0 {
                        builder.producerId = producer
                        builder.producerEpoch = 0
                        builder.baseSequence = sequence
                        builder.isTransactional = true
                    }
                }
            }
            _ = try partition.append(keyed("k", "committed-old"))
            // An aborted transaction writes k; it must never win.
            _ = try partition.append(keyed("k", "aborted", producer: 5, sequence: 0))
            _ = try partition.append(RecordBatchBuilder.controlBatch(.abort, producerId: 5, producerEpoch: 0, timestamp: 1))
            for index in 0..<60 { _ = try partition.append(keyed("filler-\(index)", "f")) }
            #expect(partition.segmentCount > 1)
            // An open transaction holds the LSO here: nothing from it on is cleaned.
            let open = try partition.append(keyed("open", "pending", producer: 6, sequence: 0))
            for index in 0..<80 { _ = try partition.append(keyed("k", "after-open-\(index)")) }
            try partition.flush()
            #expect(partition.lastStableOffset == open.baseOffset)
            try partition.compact(now: 1_000_000)
            let records = try readAll(partition)
            #expect(records.first?.valueString == "committed-old", "below the LSO, k's latest committed value is kept")
            #expect(!records.contains { $0.valueString == "aborted" }, "aborted data is dropped")
            #expect(records.filter { $0.valueString?.hasPrefix("after-open") == true }.count == 80, "nothing past the LSO is cleaned")
        }
    }
}

@Suite struct DiskFullTests {
    /// A tmpfs of `size` (mount's notation) mounted for `body`, with the log options the tests use.
    static func withSmallDisk(size: String, _ body: (_ mountPoint: String, _ options: LogOptions) async throws -> Void) async throws {
        let directory = TemporaryDirectory(prefix: "sluice-tmpfs")
        defer { directory.remove() }
        let mounted = await shell("mount -t tmpfs -o size=\(size) tmpfs '\(directory.path)' 2>/dev/null") == 0
        try #require(mounted, "this test mounts a \(size) tmpfs and needs root")
        defer { shell("umount '\(directory.path)'") }
        var options = LogOptions(durability: .groupCommit(interval: .milliseconds(1)))
        options.runsMaintenance = false
        try await body(directory.path, options)
    }

    @Test func aFullDiskFailsTheAppendAndLeavesTheLogConsistent() async throws {
        try await Self.withSmallDisk(size: "256k") { mountPoint, options in
            let log = try Log(directory: mountPoint + "/data", options: options)
            var config = TopicConfig()
            config.segmentBytes = 1 << 30
            try log.createTopic("t", config: config)
            let partition = try log.partition(TopicPartition("t", 0))
            // Ballast to delete later, so that space can be freed.
            _ = await shell("dd if=/dev/zero of='\(mountPoint)/ballast' bs=1k count=64 2>/dev/null")
            var acknowledged: [String] = []
            var failure: SluiceError?
            for index in 0..<10_000 {
                let value = "value-\(index)-" + String(repeating: "d", count: 900)
                do {
                    _ = try await partition.appendDurably(Batches.strings([value]))
                    acknowledged.append(value)
                } catch let error as SluiceError {
                    failure = error
                    break
                }
            }
            let error = try #require(failure)
            #expect(error.code == .diskFull)
            #expect(error.message.contains("disk is full"))
            // Everything acknowledged is readable, nothing half-written is.
            #expect(try readAll(partition).map(\.valueString) == acknowledged)
            #expect(partition.logEndOffset == Int64(acknowledged.count))
            // Space freed: appends work again and continue at the next offset.
            _ = await shell("rm -f '\(mountPoint)/ballast'")
            let next = try await partition.appendDurably(Batches.strings(["after"]))
            #expect(next.baseOffset == Int64(acknowledged.count))
            acknowledged.append("after")
            try log.close()
            let reopened = try Log(directory: mountPoint + "/data", options: options)
            #expect(try readAll(reopened.partition(TopicPartition("t", 0))).count == acknowledged.count)
            try? reopened.close()
        }
    }

    /// A busy segment asks for a reservation the disk cannot give (a 12 MiB tmpfs, a step of 8 MiB
    /// past 8 MiB written): appends go on into the space left, until the disk is really full.
    @Test func aReservationTheDiskRefusesLeavesAppendsAsTheyWere() async throws {
        try await Self.withSmallDisk(size: "12m") { mountPoint, options in
            let log = try Log(directory: mountPoint + "/data", options: options)
            try log.createTopic("t", config: TopicConfig())
            let partition = try log.partition(TopicPartition("t", 0))
            var acknowledged = 0
            var failure: SluiceError?
            for index in 0..<1000 {
                let batch = Batches.strings((0..<64).map { "\(index)-\($0)-" + String(repeating: "r", count: 4000) })
                do {
                    _ = try await partition.appendDurably(batch)
                    acknowledged += 64
                } catch let error as SluiceError {
                    failure = error
                    break
                }
            }
            let error = try #require(failure)
            #expect(error.code == .diskFull)
            // Well past the 8 MiB where the reservation was refused: about 11 MiB of 4 KB records.
            #expect(acknowledged > 10 * 1024 * 1024 / 4000, "appends stopped at \(acknowledged) records")
            #expect(try readAll(partition).count == acknowledged)
            try? log.close()
        }
    }
}
