import Foundation
import NIOCore
import SluiceCore
import SluiceLog
import SluiceStreams
import Testing
import _SluiceTestSupport

/// A windowed sum runs as a child process over a pre-filled topic and is SIGKILLed at random
/// moments, restarted each time. Under exactly-once the committed output equals the oracle's,
/// emission for emission; under at-least-once nothing is missing.
@Suite(.serialized) struct ExactlyOnceCrashTests {
    static let kills = 20
    static let partitionCount: Int32 = 4

    @Test(arguments: ["exactly-once", "at-least-once"])
    func sigkilledPipelineCommitsExactlyTheOracle(guarantee: String) async throws {
        var random = SeededRandom()
        let directory = TemporaryDirectory(prefix: "sluice-streams-crash")
        defer { directory.remove() }
        let dataDir = directory.path + "/data"
        var records: [InputRecord] = []
        do {
            let log = try Log(directory: dataDir)
            var clock: Int64 = 5_000_000
            for _ in 0..<60_000 {
                clock += Int64.random(in: 0...3, using: &random)
                var timestamp = clock - Int64.random(in: 0...200, using: &random)
                if Int.random(in: 0..<50, using: &random) == 0 { timestamp -= Int64.random(in: 200...2_000, using: &random) }
                records.append(InputRecord(key: "k\(Int.random(in: 0..<40, using: &random))", value: Int64.random(in: 1...1_000, using: &random),
                                           timestamp: timestamp))
            }
            try produce(records, to: "in", partitionCount: Self.partitionCount, log: log, random: &random)
            try log.createTopic("out", config: TopicConfig.keepingAll(partitionCount: 3))
            try log.close()
        }

        let binary = sluiceExecutablePath()
        let arguments = ["_window-count", "--data-dir", dataDir, "--state-dir", directory.path + "/state", "--guarantee", guarantee,
                         "--threads", "2", "--commit-interval-ms", "20", "--batch-bytes", "1000", "--poll-pause-ms", "10"]
        var kills = 0
        var finished = false
        let goFile = directory.path + "/go"
        while !finished {
            _ = unlink(goFile)
            let child = try ChildProcess(binary, arguments + ["--wait-for-file", goFile])
            let ready = await child.waitForLine(timeout: .seconds(60)) { $0 == "ready" }
            #expect(ready, "the child started: \(child.standardError) (seed \(random.seed))")
            // Processing starts now, however late this process saw "ready".
            #expect(FileManager.default.createFile(atPath: goFile, contents: nil))
            if kills < Self.kills {
                // Timed on a thread of its own: resuming an awaiting task can wait for seconds while
                // other suites occupy the cooperative threads, and the child would finish before it is killed.
                let delayMs = Int.random(in: 20...150, using: &random)
                await child.kill(after: .milliseconds(delayMs))
                let done = child.lines.contains("done")
                print("streams crash test (\(guarantee)): run \(kills + 1) \(done ? "finished before its kill" : "killed") after \(delayMs) ms: \(child.lines) \(child.standardError.prefix(300))")
                if done { finished = true } else { kills += 1 }
            } else {
                let status = await child.wait()
                #expect(status == 0, "the last run ends cleanly: \(child.standardError)")
                finished = true
            }
        }
        #expect(kills == Self.kills, "the pipeline was killed \(Self.kills) times before it finished, not \(kills) (seed \(random.seed))")

        var expected: [String: [Int64]] = [:]
        for partition in 0..<Self.partitionCount {
            let mine = records.filter { Murmur2.partition(forKey: Array($0.key.utf8), partitionCount: Self.partitionCount) == partition }
            expected.merge(WindowOracle(windows: .tumbling(size: 1_000), disorderMs: 200, latenessMs: 500).run(mine).emitted) { $0 + $1 }
        }
        let log = try Log(directory: dataDir)
        let actual = try windowResults("out", log: log)
        try log.close()
        if guarantee == "exactly-once" {
            let differing = expected.filter { actual[$0.key] != $0.value }
            let unexpected = actual.filter { expected[$0.key] == nil }
            if !differing.isEmpty || !unexpected.isEmpty {
                print("exactly-once mismatch (seed \(random.seed)): differing \(differing.sorted { $0.key < $1.key }.prefix(10).map { "\($0.key): expected \($0.value), got \(actual[$0.key] ?? [])" }); unexpected \(unexpected.prefix(5))")
            }
            #expect(differing.isEmpty && actual.count == expected.count,
                    "\(differing.count) of \(expected.count) windows differ, e.g. \(differing.prefix(3).map { "\($0.key): expected \($0.value), got \(actual[$0.key] ?? [])" }) (seed \(random.seed))")
        } else {
            // At-least-once may emit a window again after a restart (and with state ahead of the
            // committed input, a partial value); what it must not do is lose a record: every window's
            // complete value is among its emissions, or exceeded by double counting.
            let missing = expected.filter { entry in
                guard let emitted = actual[entry.key], let greatest = emitted.max() else { return true }
                return greatest < entry.value.last!
            }
            #expect(missing.isEmpty, "\(missing.count) of \(expected.count) windows lost data, e.g. \(missing.prefix(3).map { "\($0.key): expected \($0.value), got \(actual[$0.key] ?? [])" }) (seed \(random.seed))")
        }
        let report = try LogInspector.verify(directory: dataDir)
        #expect(report.isClean, "log verify after the crashes: \(report)")
    }
}
