#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

/// Disk blocks reserved ahead of a busy segment's writes: the file's size stays what was written, the
/// reservation past it is given back at roll, and the data reads back the same, before and after a
/// reopen. Measured with stat: bytes allocated against the file's size.
@Suite struct SpaceReservationTests {
    static let stepBytes = 8 * 1024 * 1024

    @Test func aBusySegmentReservesAheadAndGivesItBackAtRoll() async throws {
        #if os(Linux)
        var config = TopicConfig()
        config.segmentBytes = 20 * 1024 * 1024
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            let directory = path + "/topics/t/0/"
            let first = directory + String(repeating: "0", count: 20) + ".log"
            // Batches of about 256 KiB.
            let value = String(repeating: "v", count: 4000)
            var appended = 0
            func append() throws {
                let batch = Batches.strings((0..<64).map { "\(appended)-\($0)-" + value })
                _ = try partition.append(batch)
                appended += 1
            }
            // Below a step, nothing is reserved.
            while try Self.usage(first).size < Int64(Self.stepBytes) / 2 { try append() }
            let small = try Self.usage(first)
            #expect(small.allocated < small.size + 1024 * 1024, "a small segment reserves nothing: \(small)")
            // Past a step, the next append reserves a step ahead of itself; one more eats one batch of it.
            while try Self.usage(first).size < Int64(Self.stepBytes) { try append() }
            try append()
            try append()
            let busy = try Self.usage(first)
            #expect(busy.allocated - busy.size >= Int64(Self.stepBytes) - 1024 * 1024,
                    "a busy segment holds about a step reserved past its end: \(busy)")
            // Roll, then the flush that seals the first segment (group commit): its reservation is given back.
            while partition.segmentCount < 2 { try append() }
            try partition.flush()
            let rolled = try Self.usage(first)
            #expect(rolled.allocated - rolled.size < 64 * 1024, "a rolled segment keeps no reservation: \(rolled)")
            let records = try readAll(partition)
            #expect(records.count == appended * 64)
            #expect(records.last?.valueString?.hasPrefix("\(appended - 1)-63-") == true)
            try log.close()
            let reopened = try reopen(path)
            let again = try reopened.partition(TopicPartition("t", 0))
            #expect(try readAll(again).count == appended * 64)
            try reopened.close()
        }
        #endif
    }

    /// A reopen, after a clean close or (the marker of a clean shutdown removed) as after a crash,
    /// reads a segment with blocks reserved past its end as it reads any other: the size bounds what
    /// is scanned, and appends go on from there. The reservation that the process before left is
    /// given back when the segment rolls, though this process reserved nothing in it.
    @Test(arguments: [true, false])
    func aReopenReadsASegmentWithAReservationPastItsEnd(clean: Bool) async throws {
        #if os(Linux)
        var config = TopicConfig()
        config.segmentBytes = 16 * 1024 * 1024
        try await withLog(topics: ["t": config]) { log, path in
            let partition = try log.partition(TopicPartition("t", 0))
            let segment = path + "/topics/t/0/" + String(repeating: "0", count: 20) + ".log"
            let value = String(repeating: "w", count: 4000)
            var appended = 0
            // Up to 15.25 MiB (batches of about 256 KiB): no roll yet.
            while try Self.usage(segment).size < 15 * 1024 * 1024 + 256 * 1024 {
                _ = try partition.append(Batches.strings((0..<64).map { "\(appended)-\($0)-" + value }))
                appended += 64
            }
            try log.close()
            let left = try Self.usage(segment)
            #expect(left.allocated - left.size > 256 * 1024, "the active segment keeps its reservation: \(left)")
            if !clean { try FileSystem.remove(path + "/.clean-shutdown") }
            let reopened = try reopen(path)
            #expect(reopened.wasCleanShutdown == clean)
            let again = try reopened.partition(TopicPartition("t", 0))
            #expect(again.logEndOffset == Int64(appended))
            // A batch of about 0.9 MiB does not fit the segment's 16 MiB: it rolls first.
            _ = try again.append(Batches.strings((0..<240).map { "big-\($0)-" + value }))
            #expect(again.segmentCount == 2)
            try again.flush()
            let rolled = try Self.usage(segment)
            #expect(rolled.allocated - rolled.size < 64 * 1024, "a rolled segment keeps no reservation, not even an earlier process's: \(rolled)")
            #expect(rolled.size == left.size)
            _ = try again.append(Batches.strings(["after"]))
            try again.flush()
            let records = try readAll(again)
            #expect(records.count == appended + 240 + 1)
            #expect(records.last?.valueString == "after")
            try reopened.close()
        }
        #endif
    }

    #if os(Linux)
    static func usage(_ path: String) throws -> (size: Int64, allocated: Int64) {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SluiceError(.ioFailure, "cannot stat \(path)") }
        return (Int64(info.st_size), Int64(info.st_blocks) * 512)
    }
    #endif
}
