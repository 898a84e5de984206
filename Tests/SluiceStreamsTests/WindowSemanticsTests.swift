import NIOCore
import SluiceCore
import SluiceLog
import SluiceStreams
import Testing
import _SluiceTestSupport

/// Window results against the brute-force oracle: random keys, disordered event times, late
/// records; every window kind; the same results whatever the batch sizes and thread counts.
@Suite struct WindowSemanticsTests {
    static let partitionCount: Int32 = 3
    static let disorderMs: Int64 = 300

    /// Disordered input: mostly increasing event time with jitter within the disorder, and about
    /// one record in 25 far behind (late, or within the allowed lateness).
    static func input(count: Int, keys: Int, random: inout SeededRandom) -> [InputRecord] {
        var records: [InputRecord] = []
        var clock: Int64 = 1_000_000
        for _ in 0..<count {
            clock += Int64.random(in: 0...40, using: &random)
            var timestamp = clock + Int64.random(in: -disorderMs...0, using: &random)
            if Int.random(in: 0..<25, using: &random) == 0 { timestamp = clock - Int64.random(in: 300...3_000, using: &random) }
            records.append(InputRecord(key: "k\(Int.random(in: 0..<keys, using: &random))", value: Int64.random(in: 1...100, using: &random),
                                       timestamp: timestamp))
        }
        return records
    }

    struct Run: CustomStringConvertible {
        var threads: Int
        var fetchBytes: Int
        var description: String { "threads \(self.threads), fetch \(self.fetchBytes) B" }
    }

    static let runs = [Run(threads: 1, fetchBytes: 1 << 20), Run(threads: 2, fetchBytes: 100), Run(threads: 3, fetchBytes: 2_000)]

    static let cases: [(String, Windows, Int64)] = [
        ("tumbling", .tumbling(size: 1_000), 0),
        ("tumbling-late", .tumbling(size: 1_000), 1_500),
        ("hopping", .hopping(size: 2_000, advance: 500), 500),
        ("cumulate", .cumulate(step: 250, size: 1_000), 700),
        ("global", .global, 0),
        ("session", .session(gap: 120), 0),
        ("session-late", .session(gap: 120), 1_000),
        ("sliding", .sliding(size: 500), 0),
        ("sliding-late", .sliding(size: 500), 800),
    ]

    @Test(arguments: 0..<9)
    func resultsEqualTheOracle(caseIndex: Int) throws {
        let (name, windows, lateness) = Self.cases[caseIndex]
        var random = SeededRandom()
        let directory = TemporaryDirectory(prefix: "sluice-windows")
        defer { directory.remove() }
        let log = try Log(directory: directory.path + "/data", options: LogOptions(durability: .osManaged))
        defer { try? log.close() }
        let records = Self.input(count: 3_000, keys: 12, random: &random)
        try produce(records, to: "in", partitionCount: Self.partitionCount, log: log, random: &random)

        // The oracle, per partition (a task sees its partition's records in offset order).
        var expected: [String: [Int64]] = [:]
        var expectedLate = 0
        for partition in 0..<Self.partitionCount {
            let mine = records.filter { Murmur2.partition(forKey: Array($0.key.utf8), partitionCount: Self.partitionCount) == partition }
            let result: (emitted: [String: [Int64]], late: Int)
            if case .session(let gap) = windows {
                result = SessionOracle(gap: gap, disorderMs: Self.disorderMs, latenessMs: lateness).run(mine)
            } else if case .sliding(let size) = windows {
                result = SlidingOracle(size: size, disorderMs: Self.disorderMs, latenessMs: lateness).run(mine)
            } else {
                result = WindowOracle(windows: windows, disorderMs: Self.disorderMs, latenessMs: lateness).run(mine)
            }
            expected.merge(result.emitted) { $0 + $1 }
            expectedLate += result.late
        }
        #expect(expectedLate > 0 || name == "global", "the input has late records (seed \(random.seed))")

        for (index, run) in Self.runs.enumerated() {
            let application = "\(name)-\(index)"
            try log.createTopic("out-\(application)", config: TopicConfig.keepingAll(partitionCount: 2))
            let builder = StreamsBuilder()
            builder.stream("in", key: .string, value: .int64, outOfOrdernessMs: Self.disorderMs)
                .groupByKey(key: .string, value: .int64)
                .windowedBy(windows, allowedLatenessMs: lateness)
                .aggregate(.sum { $0 })
                .toStream()
                .to("out-\(application)", key: .windowed(.string), value: .int64)
            var settings = StreamsSettings(applicationId: application, stateDirectory: directory.path + "/state")
            settings.threadCount = run.threads
            settings.fetchBytesMax = run.fetchBytes
            settings.taskBatchBytesMax = run.fetchBytes
            settings.stopAtEnd = true
            let app = try StreamsApplication(topology: try builder.build(), client: EmbeddedLogClient(log: log), settings: settings)
            try app.run()
            let actual = try windowResults("out-\(application)", log: log)
            let missing = expected.filter { actual[$0.key] != $0.value }.prefix(5)
            let extra = actual.filter { expected[$0.key] == nil }.prefix(5)
            let same = actual == expected
            #expect(same, "\(name), \(run): \(actual.count) windows, expected \(expected.count); differs, e.g. expected \(Array(missing)) got \(missing.map { actual[$0.key] as Any }), unexpected \(Array(extra)) (seed \(random.seed))")
            let late = try readAll("\(application)-late-records", log: log).values.reduce(0) { $0 + $1.count }
            #expect(late == expectedLate, "\(name), \(run): \(late) late records, the oracle says \(expectedLate) (seed \(random.seed))")
            #expect(app.metrics.lateRecords.value == expectedLate)
        }
    }

    static let triggers: [(String, Windows, Trigger, Int64)] = [
        ("every-update", .tumbling(size: 1_000), .onEveryUpdate, 800),
        ("count", .hopping(size: 2_000, advance: 1_000), .onCount(5), 500),
    ]

    /// The every-update and count triggers, against the same oracle.
    @Test(arguments: 0..<2)
    func triggersEmitWhatTheOracleEmits(caseIndex: Int) throws {
        let (name, windows, trigger, lateness) = Self.triggers[caseIndex]
        var random = SeededRandom()
        let directory = TemporaryDirectory(prefix: "sluice-triggers")
        defer { directory.remove() }
        let log = try Log(directory: directory.path + "/data", options: LogOptions(durability: .osManaged))
        defer { try? log.close() }
        let records = Self.input(count: 3_000, keys: 8, random: &random)
        try produce(records, to: "in", partitionCount: Self.partitionCount, log: log, random: &random)
        var expected: [String: [Int64]] = [:]
        for partition in 0..<Self.partitionCount {
            let mine = records.filter { Murmur2.partition(forKey: Array($0.key.utf8), partitionCount: Self.partitionCount) == partition }
            var oracle = WindowOracle(windows: windows, disorderMs: Self.disorderMs, latenessMs: lateness)
            oracle.trigger = trigger
            expected.merge(oracle.run(mine).emitted) { $0 + $1 }
        }
        for (index, run) in Self.runs.enumerated() {
            let application = "\(name)-\(index)"
            try log.createTopic("out-\(application)", config: TopicConfig.keepingAll(partitionCount: 2))
            let builder = StreamsBuilder()
            builder.stream("in", key: .string, value: .int64, outOfOrdernessMs: Self.disorderMs)
                .groupByKey(key: .string, value: .int64)
                .windowedBy(windows, trigger: trigger, allowedLatenessMs: lateness)
                .aggregate(.sum { $0 })
                .toStream()
                .to("out-\(application)", key: .windowed(.string), value: .int64)
            var settings = StreamsSettings(applicationId: application, stateDirectory: directory.path + "/state")
            settings.threadCount = run.threads
            settings.fetchBytesMax = run.fetchBytes
            settings.taskBatchBytesMax = run.fetchBytes
            settings.stopAtEnd = true
            try StreamsApplication(topology: try builder.build(), client: EmbeddedLogClient(log: log), settings: settings).run()
            let actual = try windowResults("out-\(application)", log: log)
            let differing = expected.filter { actual[$0.key] != $0.value }
            #expect(differing.isEmpty && actual.count == expected.count,
                    "\(name), \(run): \(differing.count) of \(expected.count) windows differ, e.g. \(differing.prefix(2).map { "\($0.key): expected \($0.value), got \(actual[$0.key] ?? [])" }) (seed \(random.seed))")
        }
    }
}
