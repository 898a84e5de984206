import Foundation
import SluiceNexmark
import Testing
import _SluiceTestSupport

/// Runs the built `sluice` with `arguments`.
func sluice(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: sluiceExecutablePath())
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, out, String(decoding: err, as: UTF8.self))
}

@Suite struct DatagenCommandTests {
    @Test func aFileHoldsTheLibrarysEventsAsJSONLines() throws {
        let directory = TemporaryDirectory(prefix: "sluice-datagen")
        defer { directory.remove() }
        let path = directory.path + "/nexmark.jsonl"
        let run = try sluice([
            "datagen", "nexmark", "--events", "2500", "--seed", "7", "--output", path, "--delayed-fraction", "0.1",
        ])
        #expect(run.status == 0, "\(run.errors)")
        // Not a terminal: no progress bar, only the summary.
        #expect(run.errors.split(separator: "\n").count == 1)
        #expect(run.errors.hasPrefix("2500 Nexmark events (seed 7) written to \(path): "))
        var config = NexmarkConfig()
        config.delayedEventFraction = 0.1
        var expected: [UInt8] = []
        for event in NexmarkGenerator(seed: 7, config: config, eventNumbers: 0..<2_500) {
            NexmarkJSON.append(event, to: &expected)
            expected.append(UInt8(ascii: "\n"))
        }
        let written = try #require(FileManager.default.contents(atPath: path))
        #expect(Array(written) == expected)
        // To stdout, the same bytes.
        let piped = try sluice([
            "datagen", "nexmark", "--events", "2500", "--seed", "7", "--output", "-", "--delayed-fraction", "0.1",
        ])
        #expect(piped.status == 0 && Array(piped.output) == expected)
    }

    @Test func aTopicHoldsOneRecordPerEventPlacedByEventNumber() throws {
        let directory = TemporaryDirectory(prefix: "sluice-datagen")
        defer { directory.remove() }
        let data = ["--data-dir", directory.path]
        let run = try sluice(
            [
                "datagen", "nexmark", "--events", "1200", "--topic", "nexmark", "--partitions", "3", "--batch-records",
                "100",
            ] + data)
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.errors.contains("written to topic 'nexmark' (3 partitions)"))
        let described = try sluice(["topic", "describe", "nexmark"] + data)
        #expect(String(decoding: described.output, as: UTF8.self).contains("retention.ms=-1"))
        let consumed = try sluice(["consume", "--topic", "nexmark", "--format", "json"] + data)
        #expect(consumed.status == 0, "\(consumed.errors)")
        let rows = String(decoding: consumed.output, as: UTF8.self).split(separator: "\n").map {
            try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(rows.count == 1_200)
        let generator = NexmarkGenerator(seed: 42)
        for row in rows {
            let partition = try #require(row["partition"] as? Int)
            let offset = try #require(row["offset"] as? Int)
            let eventNumber = Int64(offset * 3 + partition)
            let event = generator.event(at: eventNumber)
            #expect(row["key"] is NSNull)
            #expect(row["timestamp"] as? Int == Int(event.dateTime))
            #expect(row["value"] as? String == String(decoding: NexmarkJSON.encode(event), as: UTF8.self))
        }
        // More events append to the existing topic; a different partition count is refused.
        #expect(try sluice(["datagen", "nexmark", "--events", "30", "--topic", "nexmark"] + data).status == 0)
        let mismatch = try sluice(
            ["datagen", "nexmark", "--events", "30", "--topic", "nexmark", "--partitions", "2"] + data)
        #expect(mismatch.status == 1 && mismatch.errors == "error: topic 'nexmark' exists with 3 partitions, not 2\n")
    }

    @Test(arguments: [
        (["--events", "10"], "error: give one of --output and --topic\n"),
        (["--events", "10", "--output", "/tmp/x", "--topic", "t"], "error: give one of --output and --topic\n"),
        (["--events=-1", "--output", "/dev/null"], "error: --events must be between 0 and 1125899906842624, got -1\n"),
        (
            ["--output", "/dev/null", "--delayed-fraction", "1.5"],
            "error: --delayed-fraction: delayed event fraction must be between 0 and 1, got 1.5\n"
        ),
        (
            ["--output", "/dev/null", "--first-event-rate", "0"],
            "error: --first-event-rate: first event rate must be between 1 and 1000000000 events per second, got 0\n"
        ),
        (
            ["--output", "/dev/null", "--rate", "0"],
            "error: --rate must be a positive number of events per second, got 0.0\n"
        ),
        (["--output", "/dev/null", "--partitions", "2"], "error: --partitions applies to --topic only\n"),
        (
            ["--output", "/nonexistent-directory/x.jsonl"],
            "error: cannot create /nonexistent-directory/x.jsonl (No such file or directory)\n"
        ),
    ])
    func badFlagsGiveOneLineAndAFailingExit(arguments: [String], message: String) throws {
        let run = try sluice(["datagen", "nexmark"] + arguments)
        #expect(run.status == 1)
        #expect(run.errors == message)
    }

    @Test func theRateSpacesEventsInWallClockTime() throws {
        let start = ContinuousClock.now
        let run = try sluice(["datagen", "nexmark", "--events", "300", "--rate", "1000", "--output", "/dev/null"])
        #expect(run.status == 0, "\(run.errors)")
        #expect(ContinuousClock.now - start >= .milliseconds(290))
    }
}
