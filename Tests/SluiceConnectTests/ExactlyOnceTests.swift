import Foundation
import SluiceConnect
import SluiceLog
import Testing
import _SluiceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A seeded load of multi-statement transactions over tables `a` and `b` (id int primary key, v int,
/// s text): bulk inserts, range updates and range deletes.
struct ChangeLoad {
    static let schema = """
        CREATE TABLE a (id int PRIMARY KEY, v int NOT NULL, s text NOT NULL);
        CREATE TABLE b (id int PRIMARY KEY, v int NOT NULL, s text NOT NULL);
        """
    var nextId = ["a": 1, "b": 1]

    mutating func sql(random: inout SeededRandom, transactionCount: Int, pauseSeconds: Double = 0) -> String {
        var text = ""
        for _ in 0..<transactionCount {
            text += "BEGIN;\n"
            for _ in 0..<Int.random(in: 2...5, using: &random) {
                let table = Bool.random(using: &random) ? "a" : "b"
                let next = self.nextId[table]!
                let low = max(1, next - 3_000)
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<4:
                    let count = Int.random(in: 30...120, using: &random)
                    text += "INSERT INTO \(table) SELECT g, g % 1000, md5(g::text) FROM generate_series(\(next), \(next + count - 1)) g;\n"
                    self.nextId[table] = next + count
                case 4..<8 where next > 1:
                    let from = Int.random(in: low...next, using: &random)
                    text += "UPDATE \(table) SET v = v + 1, s = left(s, 20) || 'u' WHERE id BETWEEN \(from) AND \(from + Int.random(in: 20...80, using: &random));\n"
                default:
                    guard next > 1 else { continue }
                    let from = Int.random(in: low...next, using: &random)
                    text += "DELETE FROM \(table) WHERE id BETWEEN \(from) AND \(from + Int.random(in: 3...15, using: &random));\n"
                }
            }
            text += "COMMIT;\n"
            if pauseSeconds > 0 { text += "SELECT pg_sleep(\(pauseSeconds));\n" }
        }
        return text
    }

    /// Rows changed, from psql's command tags (`INSERT 0 n`, `UPDATE n`, `DELETE n`).
    static func changedRowCount(psqlOutput: String) -> Int {
        psqlOutput.split(separator: "\n").reduce(0) { total, line in
            let words = line.split(separator: " ")
            guard let first = words.first, ["INSERT", "UPDATE", "DELETE"].contains(first), let count = words.last.flatMap({ Int($0) }) else { return total }
            return total + count
        }
    }
}

extension PostgresCDCTests {
    /// The log's events replayed equal the tables, and no event is there twice.
    static func expectLogMatchesTables(server: PostgresServer, dataDirectory: String, seed: UInt64) async throws -> [String: [LoggedEvent]] {
        let log = try Log(directory: dataDirectory)
        defer { try? log.close() }
        var all: [String: [LoggedEvent]] = [:]
        for table in ["a", "b"] {
            let events = try readEvents(log, "pg.public.\(table)")
            all[table] = events
            let ordered = positionsStrictlyIncrease(events)
            #expect(ordered, "events of \(table) are in commit order, each once (seed \(seed))")
            let expected = try await server.psql("SELECT id, v, s FROM \(table) ORDER BY id").split(separator: "\n").map(String.init)
            let actual = replay(events).values
                .map { (id: $0["id"] as! Int, line: "\($0["id"] as! Int)|\($0["v"] as! Int)|\($0["s"] as! String)") }
                .sorted { $0.id < $1.id }.map(\.line)
            #expect(actual.count == expected.count, "table \(table): \(expected.count) rows, the log's replay \(actual.count) (seed \(seed))")
            let equal = actual == expected
            #expect(equal, "table \(table) equals the log's replay (seed \(seed))")
        }
        return all
    }

    @Test func hundredThousandChangesExactlyOnceInCommitOrder() async throws {
        var random = SeededRandom()
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql(ChangeLoad.schema)
        let directory = TemporaryDirectory(prefix: "cdc-exactly-once")
        defer { directory.remove() }
        let running = try RunningConnector(dataDirectory: directory.path + "/data", configuration: configuration(server, tables: ["a", "b"]))
        #expect(await running.flags.waitForStreaming())
        var load = ChangeLoad()
        let path = directory.path + "/load.sql"
        try load.sql(random: &random, transactionCount: 700).write(toFile: path, atomically: true, encoding: .utf8)
        let changed = ChangeLoad.changedRowCount(psqlOutput: try await server.psqlFile(path))
        #expect(changed >= 100_000, "the load changed \(changed) rows (seed \(random.seed))")
        #expect(try await server.waitForSlotCaughtUp("sluice"), "the slot caught up (seed \(random.seed))")
        #expect(await running.stop() == nil)

        let events = try await Self.expectLogMatchesTables(server: server, dataDirectory: directory.path + "/data", seed: random.seed)
        let changeEvents = events.values.joined().filter { ["c", "u", "d"].contains($0.op) }.count
        #expect(changeEvents == changed, "one event per changed row (seed \(random.seed))")
        let tombstones = events.values.joined().filter { $0.value == nil }.count
        #expect(tombstones == events.values.joined().filter { $0.op == "d" }.count, "a tombstone after each delete")
    }

    @Test func sigkilledConnectorStaysExactlyOnce() async throws {
        var random = SeededRandom()
        let kills = 10
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql(ChangeLoad.schema)
        let directory = TemporaryDirectory(prefix: "cdc-crash")
        defer { directory.remove() }
        var load = ChangeLoad()
        let prefill = directory.path + "/prefill.sql"
        try load.sql(random: &random, transactionCount: 30).write(toFile: prefill, atomically: true, encoding: .utf8)
        _ = try await server.psqlFile(prefill)
        let path = directory.path + "/load.sql"
        try load.sql(random: &random, transactionCount: 300, pauseSeconds: 0.03).write(toFile: path, atomically: true, encoding: .utf8)
        let statusPath = directory.path + "/load.status"
        let loadCommand = server.psqlFileCommand(path).map(PostgresServer.shellQuoted).joined(separator: " ")
        _ = await shell("(\(loadCommand) > '\(directory.path)/load.out' 2>&1; echo $? > '\(statusPath)') &")

        let dataDirectory = directory.path + "/data"
        let arguments = ["cdc", "postgres", "--data-dir", dataDirectory, "--connection", server.connectionString, "--tables", "a,b",
                         "--slot", "crash", "--publication", "crash_pub", "--topic-prefix", "pg"]
        var streamedRuns = 0
        for kill in 0..<kills {
            let child = try ChildProcess(sluiceExecutablePath(), arguments)
            // Timed on a thread of its own: the child dies at this moment whatever other tasks do.
            // The first kills come early, likely during the initial snapshot; later ones while streaming.
            let delayMs = kill < 3 ? Int.random(in: 50...600, using: &random) : Int.random(in: 200...1_500, using: &random)
            await child.kill(after: .milliseconds(delayMs))
            if child.lines.contains(where: { $0.hasPrefix("streaming") }) { streamedRuns += 1 }
            print("crash test: run \(kill) killed after \(delayMs) ms: \(child.lines) \(child.standardError.prefix(300))")
        }
        let loadDeadline = ContinuousClock.now + .seconds(120)
        while !FileManager.default.fileExists(atPath: statusPath) && ContinuousClock.now < loadDeadline { try await Task.sleep(for: .milliseconds(50)) }
        let loadStatus = (try? String(contentsOfFile: statusPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(loadStatus == "0", "the load ran: \((try? String(contentsOfFile: directory.path + "/load.out", encoding: .utf8)) ?? "")")

        let last = try ChildProcess(sluiceExecutablePath(), arguments)
        #expect(await last.waitForLine(timeout: .seconds(120)) { $0.hasPrefix("streaming") }, "the last run streams: \(last.standardError)")
        #expect(try await server.waitForSlotCaughtUp("crash"), "the slot caught up (seed \(random.seed))")
        last.kill(signal: SIGTERM)
        #expect(await last.wait() == 0, "the last run ends cleanly on SIGTERM: \(last.standardError)")
        print("crash test: \(kills) kills, \(streamedRuns) of them while streaming (seed \(random.seed))")
        _ = try await Self.expectLogMatchesTables(server: server, dataDirectory: dataDirectory, seed: random.seed)
    }
}
