import NIOCore
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The segment files of partition 0 of topic `t`, oldest first.
func segmentFiles(_ path: String, topic: String = "t", partition: Int = 0) throws -> [String] {
    let directory = "\(path)/topics/\(topic)/\(partition)"
    guard let names = try? FileSystem.list(directory) else { return [] }
    return names.filter { $0.hasSuffix(".log") }.map { directory + "/" + $0 }
}

func fileSize(_ path: String) -> Int64 {
    var info = stat()
    return stat(path, &info) == 0 ? Int64(info.st_size) : -1
}

func modifyFile(_ path: String, _ body: (inout [UInt8]) -> Void) {
    let fd = open(path, O_RDWR)
    precondition(fd >= 0)
    defer { close(fd) }
    let size = Int(lseek(fd, 0, SEEK_END))
    var bytes = [UInt8](repeating: 0, count: size)
    _ = pread(fd, &bytes, size, 0)
    body(&bytes)
    _ = ftruncate(fd, 0)
    _ = pwrite(fd, bytes, bytes.count, 0)
}

@Suite struct RecoveryTests {
    @Test func uncleanShutdownKeepsSyncedDataAndRebuildsIndexes() async throws {
        var config = TopicConfig()
        config.segmentBytes = 8192
        config.indexIntervalBytes = 512
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            for index in 0..<300 { _ = try partition.append(Batches.strings(["r\(index)", "s\(index)"])) }
            try partition.flush()
            log.abandon()
            let recovered = try reopen(path)
            #expect(!recovered.wasCleanShutdown)
            #expect(recovered.recoveryReports.isEmpty)
            let again = try recovered.partition(TopicPartition("t", 0))
            #expect(again.logEndOffset == 600)
            let records = try readAll(again)
            #expect(records.map(\.offset) == Array(0..<600))
            for offset in stride(from: Int64(0), to: 600, by: 11) {
                #expect(try decodeRecords(again.read(from: offset, maxBytes: 10).records).first { $0.offset >= offset }?.offset == offset)
            }
            // Appends continue after recovery.
            let next = try await again.appendDurably(Batches.strings(["after"]))
            #expect(next.baseOffset == 600)
            try recovered.close()
        }
    }

    @Test func truncatedTailIsCutAtTheLastValidBatch() async throws {
        try await withLog { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            for index in 0..<20 { _ = try partition.append(Batches.strings(["r\(index)"])) }
            try partition.flush()
            log.abandon()
            let file = try #require(try segmentFiles(path).last)
            let size = fileSize(file)
            modifyFile(file) { bytes in bytes.removeLast(7) }
            let recovered = try reopen(path)
            let report = try #require(recovered.recoveryReports.first)
            print("report: \(report)")
            #expect(report.topicPartition == TopicPartition("t", 0))
            #expect(report.offset == 19)
            #expect(report.bytePosition > 0 && report.bytePosition < size)
            let again = try recovered.partition(TopicPartition("t", 0))
            #expect(again.logEndOffset == 19)
            #expect(try readAll(again).count == 19)
            try recovered.close()
        }
    }

    @Test func bitFlipIsFoundTruncatedAndReported() async throws {
        var config = TopicConfig()
        config.segmentBytes = 4096
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            for index in 0..<200 { _ = try partition.append(Batches.strings(["value-\(index)"])) }
            try partition.flush()
            log.abandon()
            let files = try segmentFiles(path)
            #expect(files.count > 3)
            // Flip a bit inside the last batch of the last segment's data.
            let victim = files[files.count - 1]
            let victimBase = Int64(victim.split(separator: "/").last!.dropLast(4))!
            modifyFile(victim) { bytes in bytes[bytes.count - 5] ^= 0x10 }
            let recovered = try reopen(path)
            let report = try #require(recovered.recoveryReports.first)
            #expect(report.segmentBaseOffset == victimBase)
            #expect(report.offset == 199 && report.offset >= victimBase)
            let again = try recovered.partition(TopicPartition("t", 0))
            #expect(again.logEndOffset == report.offset)
            let records = try readAll(again)
            #expect(records.map(\.offset) == Array(0..<report.offset))
            #expect(records.last?.valueString == "value-\(report.offset - 1)")
            try recovered.close()
        }
    }

    @Test func idempotentProducerStateSurvivesCleanAndUncleanRestarts() async throws {
        var config = TopicConfig()
        config.segmentBytes = 2048
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            var sequence: Int32 = 0
            for index in 0..<60 {
                _ = try partition.append(Batches.producer(id: 9, epoch: 0, sequence: sequence, values: ["a\(index)", "b\(index)"]))
                sequence += 2
            }
            try partition.flush()
            log.abandon()
            var current = try reopen(path)
            for clean in [false, true] {
                let again = try current.partition(TopicPartition("t", 0))
                // The last batch is a duplicate with its original offsets.
                let duplicate = try again.append(Batches.producer(id: 9, epoch: 0, sequence: sequence - 2, values: ["x", "y"]))
                #expect(duplicate.isDuplicate)
                #expect(duplicate.baseOffset == Int64(sequence) - 2)
                #expect { try again.append(Batches.producer(id: 9, epoch: 0, sequence: sequence + 5, values: ["gap"])) }
                    throws: { ($0 as? SluiceError)?.code == .outOfOrderSequence }
                let next = try again.append(Batches.producer(id: 9, epoch: 0, sequence: sequence, values: ["c", "d"]))
                #expect(!next.isDuplicate && next.baseOffset == Int64(sequence))
                sequence += 2
                try again.flush()
                if clean { try current.close() } else { current.abandon() }
                current = try reopen(path)
            }
            try current.close()
        }
    }
}
