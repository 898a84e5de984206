import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

/// A roll under group commit only opens the new segment; the next flush seals the old one (its
/// indexes, the producer snapshot, the recovery point), and until then retention leaves it alone.
/// Under a sync per append a roll seals at once.
@Suite struct RollTests {
    /// A topic whose segments roll after a few batches and whose retention wants all but the active one gone.
    static var smallSegments: TopicConfig {
        var config = TopicConfig()
        config.segmentBytes = 4096
        config.retentionBytes = 0
        config.retentionMs = -1  // The test batches carry old timestamps.
        return config
    }

    /// A segment's file name stem: its base offset in 20 digits.
    static func padded(_ offset: Int64) -> String {
        let digits = String(offset)
        return String(repeating: "0", count: 20 - digits.count) + digits
    }

    static func files(_ path: String) throws -> [String] { try FileSystem.list(path + "/topics/t/0") }

    static func recoveryPoint(_ path: String) -> Int64? {
        guard let bytes = try? FileSystem.readAll(path + "/topics/t/0/recovery-point"), bytes.count == 8 else { return nil }
        return bytes.reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    /// Appends batches of about 1 KiB until the partition has two segments; the new one's base.
    static func appendUntilRolled(_ partition: Partition) throws -> Int64 {
        var index = 0
        while partition.segmentCount < 2 {
            _ = try partition.append(Batches.strings(["\(index)-" + String(repeating: "r", count: 1000)]))
            index += 1
        }
        return partition.logEndOffset - 1
    }

    @Test func underGroupCommitTheFlushAfterARollSealsTheOldSegment() async throws {
        // A minute between a partition's syncs: after the first, the flusher leaves this one to the test.
        try await withLog(durability: .groupCommit(interval: .seconds(60)), topics: ["t": Self.smallSegments]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            _ = try await partition.appendDurably(Batches.strings(["first"]))
            let newBase = try Self.appendUntilRolled(partition)
            let zero = String(repeating: "0", count: 20)
            #expect(try !Self.files(path).contains(zero + ".index"), "sealing waits for the flush")
            #expect((Self.recoveryPoint(path) ?? 0) < newBase)

            try partition.flush()
            let files = try Self.files(path)
            for suffix in [".index", ".timeindex", ".txnindex", ".snapshot"] {
                #expect(files.contains(zero + suffix) || suffix == ".snapshot", "\(suffix) of the sealed segment: \(files)")
            }
            #expect(files.contains(Self.padded(newBase) + ".snapshot"), "the producer state at the roll: \(files)")
            #expect(Self.recoveryPoint(path) == newBase)
            let removed = try partition.applyRetention()
            #expect(removed == 1, "sealed, it may go: \(removed), segments \(partition.segmentCount), \((try? Self.files(path)) ?? [])")
            #expect(try readAll(partition).last.map { $0.offset + 1 } == partition.logEndOffset)
        }
    }

    /// Retention and delete-records seal an unsealed segment before they consider it, so that it goes.
    @Test(arguments: [true, false])
    func retentionAndDeleteRecordsSealAnUnsealedSegmentFirst(retention: Bool) async throws {
        try await withLog(durability: .groupCommit(interval: .seconds(60)), topics: ["t": Self.smallSegments]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            _ = try await partition.appendDurably(Batches.strings(["first"]))
            let newBase = try Self.appendUntilRolled(partition)
            #expect(try !Self.files(path).contains(String(repeating: "0", count: 20) + ".index"))
            if retention {
                #expect(try partition.applyRetention() == 1)
            } else {
                try partition.deleteRecords(before: newBase)
            }
            #expect(partition.segmentCount == 1)
            #expect(try !Self.files(path).contains { $0.hasPrefix(String(repeating: "0", count: 20)) }, "\((try? Self.files(path)) ?? [])")
            #expect(Self.recoveryPoint(path) == newBase)
        }
    }

    @Test func underASyncPerAppendARollSealsAtOnce() async throws {
        try await withLog(durability: .fsyncPerAppend, topics: ["t": Self.smallSegments]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            let newBase = try Self.appendUntilRolled(partition)
            #expect(try Self.files(path).contains(String(repeating: "0", count: 20) + ".index"))
            #expect(Self.recoveryPoint(path) == newBase)
            #expect(try partition.applyRetention() == 1)
        }
    }

    /// What a crash between a roll and its seal leaves, a segment before the active one without index
    /// files and a recovery point before it, is scanned at the next open, which writes its indexes
    /// and moves the recovery point past it, so that the open after trusts them.
    @Test func aSegmentLeftUnsealedIsScannedAndSealedByTheNextOpen() async throws {
        try await withLog(topics: ["t": Self.smallSegments]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            let newBase = try Self.appendUntilRolled(partition)
            _ = try await partition.appendDurably(Batches.strings(["last"]))
            let end = partition.logEndOffset
            log.abandon()
            let zero = path + "/topics/t/0/" + String(repeating: "0", count: 20)
            for suffix in [".index", ".timeindex", ".txnindex"] { try? FileSystem.remove(zero + suffix) }
            try FileSystem.writeAtomically([UInt8](repeating: 0, count: 8), to: path + "/topics/t/0/recovery-point")
            let reopened = try reopen(path)
            #expect(!reopened.wasCleanShutdown)
            #expect(try reopened.partition(TopicPartition("t", 0)).logEndOffset == end)
            let files = try Self.files(path)
            #expect(files.contains(String(repeating: "0", count: 20) + ".index"), "\(files)")
            #expect(Self.recoveryPoint(path) == newBase)
            try reopened.close()
        }
    }
}
