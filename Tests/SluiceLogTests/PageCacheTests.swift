#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

/// Drop-behind (`LogOptions.pageCacheTailBytes`): once synced, all but the tail of a partition
/// leaves the page cache; the data reads back the same.
@Suite struct PageCacheTests {
    // Drop-behind acts on the page cache of a disk file system; a tmpfs keeps its pages whatever.
    static let tailBytes: Int64 = 1 << 20

    @Test func syncedDataBeforeTheTailLeavesThePageCache() async throws {
        #if os(Linux)
        let dropped = try await Self.residency(tailBytes: Self.tailBytes)
        #expect(dropped.fileBytes > 6 * Self.tailBytes)
        // Pages of the tail window may be any mix; none before it stay cached.
        #expect(dropped.residentBeforeTail == 0, "resident bytes before the tail: \(dropped.residentBeforeTail)")
        #expect(dropped.residentAfterReads == 0, "resident bytes before the tail after reading: \(dropped.residentAfterReads)")
        let kept = try await Self.residency(tailBytes: nil)
        #expect(kept.residentBeforeTail > kept.fileBytes / 3, "with drop-behind off the written pages stay cached")
        #endif
    }

    #if os(Linux)
    /// Appends about 8 MiB durably to one segment, then counts the resident bytes of the segment file
    /// before its last `tailBytes` and the folio around its start (mincore), once after the appends
    /// and once after reading everything back.
    static func residency(tailBytes: Int64?) async throws -> (fileBytes: Int64, residentBeforeTail: Int64, residentAfterReads: Int64) {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = LogOptions(durability: .groupCommit(interval: .zero))
        options.runsMaintenance = false
        options.pageCacheTailBytes = tailBytes
        let log = try Log(directory: directory.path, options: options)
        defer { try? log.close() }
        try log.createTopic("t", config: TopicConfig())
        let partition = try log.partition(TopicPartition("t", 0))
        let value = String(repeating: "x", count: 1000)
        for index in 0..<128 {
            _ = try await partition.appendDurably(Batches.strings((0..<64).map { "\(index)-\($0)-" + value }))
        }
        let path = directory.path + "/topics/t/0/" + String(repeating: "0", count: 20) + ".log"
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        var info = stat()
        #expect(fstat(fd, &info) == 0)
        let fileBytes = Int64(info.st_size)
        let pageBytes = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let checkedBytes = (fileBytes - (tailBytes ?? Self.tailBytes)) / pageBytes * pageBytes
        let mapping = try #require(mmap(nil, Int(checkedBytes), PROT_READ, MAP_SHARED, fd, 0))
        #expect(mapping != MAP_FAILED)
        defer { munmap(mapping, Int(checkedBytes)) }
        // A large folio (up to 2 MiB) that straddles the tail's start stays with the tail.
        let folioPages = Int((2 << 20) / pageBytes)
        func residentBytes() -> Int64 {
            var vector = [UInt8](repeating: 0, count: Int(checkedBytes / pageBytes))
            #expect(mincore(mapping, Int(checkedBytes), &vector) == 0)
            return Int64(vector.dropLast(folioPages).filter { $0 & 1 == 1 }.count) * pageBytes
        }
        let afterWrites = residentBytes()
        // Dropped or not, the data is all there; a reader catching up does not bring it back to stay.
        let records = try readAll(partition)
        #expect(records.count == 128 * 64)
        #expect(records.last?.valueString == "127-63-" + value)
        let afterReads = residentBytes()
        return (fileBytes, afterWrites, afterReads)
    }
    #endif
}
