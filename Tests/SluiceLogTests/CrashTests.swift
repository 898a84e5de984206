import Foundation
import NIOCore
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

@Suite struct CrashTests {
    /// A child appends under group commit and prints every acknowledged batch; it is SIGKILLed at
    /// random moments, 60 times, restarted each time. Afterwards every acknowledged record is there
    /// exactly once, offsets are dense, the indexes agree with the data and `log verify` is clean.
    @Test func sigkilledAppenderLosesNothingAcknowledged() async throws {
        var random = SeededRandom()
        let directory = TemporaryDirectory(prefix: "sluice-crash")
        defer { directory.remove() }
        let binary = sluiceExecutablePath()
        #expect(FileManager.default.isExecutableFile(atPath: binary), "sluice binary at \(binary)")
        let rounds = 60
        var acknowledged: [String: (partition: Int32, base: Int64, last: Int64)] = [:]
        var killedAfterAcks = 0
        for round in 0..<rounds {
            let child = try ChildProcess(binary, [
                "_crash-appender", "--data-dir", directory.path, "--run", "\(round)", "--concurrency", "4",
                "--records-per-batch", "\(Int.random(in: 1...40, using: &random))", "--segment-bytes", "16384",
            ])
            let ready = await child.waitForLine { $0.hasPrefix("ready") }
            #expect(ready, "round \(round): child did not start: \(child.standardError) seed \(random.seed)")
            // Kill at a random moment: sometimes at once, sometimes after many acknowledgements.
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...150, using: &random)))
            child.kill()
            await child.wait()
            for line in child.lines where line.hasPrefix("ack ") {
                let parts = line.split(separator: " ")
                acknowledged[String(parts[4])] = (Int32(parts[1])!, Int64(parts[2])!, Int64(parts[3])!)
                killedAfterAcks += 1
            }
        }
        #expect(killedAfterAcks > 100, "the children acknowledged batches before being killed (seed \(random.seed))")

        // Recover in this process and check the data.
        var options = LogOptions(durability: .groupCommit(interval: .milliseconds(1)))
        options.runsMaintenance = false
        let log = try Log(directory: directory.path, options: options)
        #expect(!log.wasCleanShutdown)
        var seenBatches: [String: Int] = [:]
        for partition in try log.partitions(of: "crash") {
            var offset: Int64 = 0
            var expectedOffset: Int64 = 0
            while true {
                let (records, next) = try partition.readRecords(from: offset, maxBytes: 1 << 20)
                if next == offset { break }
                for record in records {
                    #expect(record.offset == expectedOffset, "offsets are dense in \(partition.topicPartition) (seed \(random.seed))")
                    expectedOffset = record.offset + 1
                    let value = record.valueString!
                    if value.hasSuffix("-0") {
                        let batchName = String(value.dropLast(2))
                        seenBatches[batchName, default: 0] += 1
                        if let ack = acknowledged[batchName] {
                            #expect(ack.partition == partition.topicPartition.partition && ack.base == record.offset,
                                    "\(batchName) sits where it was acknowledged (seed \(random.seed))")
                        }
                    }
                }
                offset = next
            }
            #expect(expectedOffset == partition.logEndOffset)
        }
        for name in acknowledged.keys {
            #expect(seenBatches[name] == 1, "acknowledged batch \(name) is present exactly once (seed \(random.seed))")
        }
        #expect(seenBatches.values.allSatisfy { $0 == 1 }, "no batch appears twice")
        try log.close()
        let verify = try await runProcess(binary, ["log", "verify", "--data-dir", directory.path])
        #expect(verify.status == 0, "log verify: \(verify.output) \(verify.errors)")
        #expect(verify.output.contains("verified: no problems"))
    }
}
