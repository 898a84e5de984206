import Foundation
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

/// Runs `sluice` with `input` on stdin.
func sluice(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: sluiceExecutablePath())
    process.arguments = arguments
    let output = Pipe(), errors = Pipe(), stdin = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

@Suite struct CommandLineTests {
    @Test func produceAndConsumeRoundTrip() throws {
        let directory = TemporaryDirectory(prefix: "sluice-cli")
        defer { directory.remove() }
        let data = ["--data-dir", directory.path]
        #expect(try sluice(["topic", "create", "events", "--partitions", "2", "--retention-ms", "-1"] + data).status == 0)
        let produced = try sluice(
            ["produce", "--topic", "events", "--key-separator", ":", "--timestamp-separator", "|", "--header", "source=test",
             "--compression", "zstd"] + data,
            input: "1000|alice:first\n2000|bob:second\n3000|alice:third\n")
        #expect(produced.status == 0, "\(produced.errors)")
        #expect(produced.output.contains("3 records acknowledged"))
        #expect(produced.output.contains("offsets 0-"))
        let consumed = try sluice(["consume", "--topic", "events", "--format", "json"] + data)
        #expect(consumed.status == 0, "\(consumed.errors)")
        let rows = consumed.output.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(rows.count == 3)
        let alice = rows.filter { $0["key"] as? String == "alice" }
        #expect(alice.map { $0["value"] as? String } == ["first", "third"])
        #expect(alice.map { $0["timestamp"] as? Int } == [1000, 3000])
        // Both of alice's records went to the partition Kafka's partitioner picks for her key.
        #expect(Set(alice.map { $0["partition"] as? Int }) == [Int(Murmur2.partition(forKey: Array("alice".utf8), partitionCount: 2))])
        let headers = try #require(rows.first?["headers"] as? [[String: Any]])
        #expect(headers.first?["key"] as? String == "source" && headers.first?["value"] as? String == "test")
        // By timestamp: only the records at or after 2000.
        let late = try sluice(["consume", "--topic", "events", "--from-timestamp", "2000"] + data)
        #expect(late.output.split(separator: "\n").count == 2)
        #expect(!late.output.contains("value:first"))
        // From the end: nothing without --follow.
        #expect(try sluice(["consume", "--topic", "events", "--from-end"] + data).output.isEmpty)
        let described = try sluice(["topic", "describe", "events"] + data)
        #expect(described.output.contains("retention.ms=-1"))
        #expect(try sluice(["topic", "list"] + data).output == "events\n")
        #expect(try sluice(["topic", "delete", "events"] + data).status == 0)
        #expect(try sluice(["topic", "list"] + data).output.isEmpty)
    }

    @Test func errorsAreOneActionableLineAndANonZeroExit() async throws {
        let directory = TemporaryDirectory(prefix: "sluice-cli")
        defer { directory.remove() }
        let data = ["--data-dir", directory.path]
        let unknown = try sluice(["consume", "--topic", "missing"] + data)
        #expect(unknown.status == 1)
        #expect(unknown.errors == "error: topic 'missing' does not exist\n")
        let badFlag = try sluice(["produce", "--topic", "t", "--compression", "brotli"] + data, input: "")
        #expect(badFlag.status != 0)
        #expect(badFlag.errors.contains("--compression must be none, gzip, snappy, lz4 or zstd"))
        let badConfig = try sluice(["topic", "create", "t", "--config", "retention.ms=soon"] + data)
        #expect(badConfig.status == 1)
        #expect(badConfig.errors.contains("retention.ms must be an integer"))
        let badName = try sluice(["topic", "create", "a/b"] + data)
        #expect(badName.status == 1 && badName.errors.contains("may only hold"))
        // A data directory held by another process.
        let holder = try ChildProcess(sluiceExecutablePath(), ["_crash-appender", "--run", "1", "--batches", "1000000"] + data)
        defer { holder.kill(); holder.wait() }
        #expect(await holder.waitForLine { $0.hasPrefix("ready") })
        let locked = try sluice(["topic", "list"] + data)
        #expect(locked.status == 1)
        #expect(locked.errors.contains("is in use by process \(holder.process.processIdentifier)"))
        #expect(locked.errors.split(separator: "\n").count == 1)
    }

    @Test func verifyFindsBitFlipsAndTruncationsWithTheirPlace() throws {
        let directory = TemporaryDirectory(prefix: "sluice-cli")
        defer { directory.remove() }
        let data = ["--data-dir", directory.path]
        #expect(try sluice(["topic", "create", "v", "--segment-bytes", "4096"] + data).status == 0)
        let lines = (0..<300).map { "line-\($0)-" + String(repeating: "v", count: 20) }.joined(separator: "\n")
        #expect(try sluice(["produce", "--topic", "v", "--batch-records", "5"] + data, input: lines).status == 0)
        let clean = try sluice(["log", "verify"] + data)
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("verified: no problems"))
        // Flip one bit in the middle of the second segment: verify names the segment, offset and byte.
        let files = try segmentFiles(directory.path, topic: "v")
        #expect(files.count > 3)
        let victim = files[1]
        let victimSize = fileSize(victim)
        modifyFile(victim) { bytes in bytes[bytes.count / 2] ^= 0x04 }
        let flipped = try sluice(["log", "verify"] + data)
        #expect(flipped.status == 1)
        let base = Int64(victim.split(separator: "/").last!.dropLast(4))!
        #expect(flipped.output.contains("problem: v-0 segment \(base): invalid data at offset"), "\(flipped.output)")
        #expect(flipped.output.contains("byte "))
        #expect(flipped.output.contains("checksum") || flipped.output.contains("CRC"))
        modifyFile(victim) { bytes in bytes[bytes.count / 2] ^= 0x04 }
        #expect(try sluice(["log", "verify"] + data).status == 0)
        // Cut the last segment mid-batch.
        let last = files[files.count - 1]
        modifyFile(last) { bytes in bytes.removeLast(3) }
        let truncated = try sluice(["log", "verify"] + data)
        #expect(truncated.status == 1)
        #expect(truncated.output.contains("cut off by the end of the file"))
        // Opening the log repairs it: the torn batch is dropped and reported.
        let repaired = try sluice(["topic", "describe", "v"] + data)
        #expect(repaired.errors.contains("recovery truncated corrupt data"))
        #expect(try sluice(["log", "verify"] + data).status == 0)
        _ = victimSize
    }
}
