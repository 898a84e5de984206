import Foundation
import SluiceConnect
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

/// The connector against a real PostgreSQL that each test starts (initdb, pg_ctl) and stops.
@Suite(.serialized) struct PostgresCDCTests {
    static let allTypesTable = """
        CREATE TYPE mood AS ENUM ('happy', 'sad');
        CREATE TABLE all_types (
            id bigint PRIMARY KEY, i2 smallint, i4 integer, n numeric(30, 10), r real, d double precision, t text,
            vc varchar(20), b boolean, ts timestamp, tstz timestamptz, dt date, tm time, j json, jb jsonb, u uuid,
            by bytea, ia int[], ta text[], m mood, nul text, big text);
        ALTER TABLE all_types ALTER COLUMN big SET STORAGE EXTERNAL;
        INSERT INTO all_types VALUES (1, 7, 42, 12345678901234567890.0123456789, 1.5, 'NaN', 'hé "q"', 'v', true,
            '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.5+02', '2024-02-29', '13:14:15', '{"a":1}', '{"b": [1, 2]}',
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x0102ff', '{1,NULL,3}', '{"x y","z"}', 'happy', NULL, 'small');
        """

    /// Checks row 1 of all_types as inserted above.
    static func expectFirstRow(_ row: [String: Any]) {
        #expect(row["id"] as? Int == 1)
        #expect(row["i2"] as? Int == 7)
        #expect(row["i4"] as? Int == 42)
        #expect(row["n"] as? String == "12345678901234567890.0123456789")
        #expect(row["r"] as? Double == 1.5)
        #expect(row["d"] as? String == "NaN")
        #expect(row["t"] as? String == "hé \"q\"")
        #expect(row["vc"] as? String == "v")
        #expect(row["b"] as? Bool == true)
        #expect(row["ts"] as? String == "2024-02-29T13:14:15.123456")
        #expect(row["tstz"] as? String == "2024-02-29T11:14:15.5Z")
        #expect(row["dt"] as? String == "2024-02-29")
        #expect(row["tm"] as? String == "13:14:15")
        #expect((row["j"] as? [String: Any])?["a"] as? Int == 1)
        #expect((row["jb"] as? [String: Any])?["b"] as? [Int] == [1, 2])
        #expect(row["u"] as? String == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        #expect(row["by"] as? String == "AQL/")
        let ints = row["ia"] as? [Any]
        #expect(ints?.count == 3 && ints?[0] as? Int == 1 && ints?[1] is NSNull && ints?[2] as? Int == 3)
        #expect(row["ta"] as? [String] == ["x y", "z"])
        #expect(row["m"] as? String == "happy")
        #expect(row["nul"] is NSNull)
    }

    @Test func everyTypeInTheSnapshotAndTheStream() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql(Self.allTypesTable)
        let directory = TemporaryDirectory(prefix: "cdc-types")
        defer { directory.remove() }
        let running = try RunningConnector(dataDirectory: directory.path + "/data", configuration: configuration(server, tables: ["public.all_types"]))
        #expect(await running.flags.waitForStreaming(), "the connector streams")
        try await server.psql("""
            INSERT INTO all_types VALUES (2, -7, -42, -0.5, '-Infinity', 2.25, '', 'w', false, '1999-12-31 23:59:59',
                '1999-12-31 23:59:59+00', '1999-12-31', '00:00:00.25', '[1, "x"]', 'null', '00000000-0000-0000-0000-000000000000',
                '\\x', '{{1,2},{3,4}}', '{}', 'sad', 'x', repeat(md5('seed'), 400));
            BEGIN;
            UPDATE all_types SET t = 'changed' WHERE id = 2;
            DELETE FROM all_types WHERE id = 1;
            COMMIT;
            """)
        #expect(try await server.waitForSlotCaughtUp("sluice"))
        #expect(await running.stop() == nil)

        let log = try Log(directory: directory.path + "/data")
        defer { try? log.close() }
        let events = try readEvents(log, "pg.public.all_types")
        #expect(events.map { $0.op ?? "tombstone" } == ["r", "c", "u", "d", "tombstone"])
        guard events.count == 5 else { return }
        #expect(events[0].keyText == #"{"id":1}"#)
        Self.expectFirstRow(try #require(events[0].after))
        #expect((events[0].value?["source"] as? [String: Any])?["snapshot"] as? String == "true")
        let second = try #require(events[1].after)
        #expect(second["r"] as? String == "-Infinity")
        #expect(second["d"] as? Double == 2.25)
        #expect(second["b"] as? Bool == false)
        #expect(second["tstz"] as? String == "1999-12-31T23:59:59Z")
        #expect(second["tm"] as? String == "00:00:00.25")
        #expect(second["jb"] is NSNull)
        #expect(second["by"] as? String == "")
        #expect(second["ia"] as? [[Int]] == [[1, 2], [3, 4]])
        #expect(second["ta"] as? [String] == [])
        #expect(second["m"] as? String == "sad")
        #expect((second["big"] as? String)?.count == 12_800)
        let source = try #require(events[1].value?["source"] as? [String: Any])
        #expect(source["connector"] as? String == "postgresql")
        #expect(source["db"] as? String == "postgres")
        #expect(source["schema"] as? String == "public")
        #expect(source["table"] as? String == "all_types")
        #expect(source["snapshot"] as? String == "false")
        #expect(source["txId"] as? Int != nil)
        #expect(source["lsn"] as? Int != nil)
        // The update did not touch the TOASTed column: without REPLICA IDENTITY FULL it is not sent.
        let updated = try #require(events[2].after)
        #expect(updated["t"] as? String == "changed")
        #expect(updated["big"] as? String == "__debezium_unavailable_value")
        #expect(events[2].value?["before"] is NSNull)
        #expect(events[3].before?["id"] as? Int == 1)
        #expect(events[3].after == nil)
        #expect(events[4].keyText == #"{"id":1}"#)
        #expect(events[4].value == nil)
    }

    @Test func anAddedColumnAppearsInLaterEvents() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE s (id int PRIMARY KEY, a text)")
        let directory = TemporaryDirectory(prefix: "cdc-schema")
        defer { directory.remove() }
        let running = try RunningConnector(dataDirectory: directory.path + "/data", configuration: configuration(server, tables: ["s"]))
        #expect(await running.flags.waitForStreaming())
        try await server.psql("INSERT INTO s VALUES (1, 'x')")
        try await server.psql("ALTER TABLE s ADD COLUMN c int DEFAULT 5")
        try await server.psql("INSERT INTO s VALUES (2, 'y', 7); UPDATE s SET a = 'z' WHERE id = 1")
        try await server.psql("ALTER TABLE s DROP COLUMN a")
        try await server.psql("INSERT INTO s VALUES (3, 8)")
        #expect(try await server.waitForSlotCaughtUp("sluice"))
        #expect(await running.stop() == nil)
        let log = try Log(directory: directory.path + "/data")
        defer { try? log.close() }
        let rows = try readEvents(log, "pg.public.s").compactMap(\.after)
        #expect(rows.count == 4)
        guard rows.count == 4 else { return }
        #expect(Set(rows[0].keys) == ["id", "a"])
        #expect(rows[1]["c"] as? Int == 7)
        #expect(rows[2]["c"] as? Int == 5)
        #expect(Set(rows[3].keys) == ["id", "c"])
    }

    @Test func badInputGetsClearErrors() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE keyed (id int PRIMARY KEY); CREATE TABLE unkeyed (a int); CREATE TABLE full_identity (a int); ALTER TABLE full_identity REPLICA IDENTITY FULL")
        let directory = TemporaryDirectory(prefix: "cdc-errors")
        defer { directory.remove() }

        // Credentials: SCRAM and md5 succeed with the right password and fail clearly with a wrong one.
        for user in ["scram_user", "md5_user"] {
            let connection = try await PgConnection.connect(server.connection(user: user, password: PostgresServer.password), replication: false)
            #expect(try await connection.query("SELECT 40 + 2").rows == [["42"]])
            await connection.close()
            do {
                _ = try await PgConnection.connect(server.connection(user: user, password: "wrong"), replication: false)
                Issue.record("a wrong password for \(user) was accepted")
            } catch {
                #expect(error.code == .authenticationFailed, "\(error)")
                #expect(error.sqlState == "28P01")
            }
        }

        func failure(_ tables: [String], slot: String = "sluice", mode: PostgresCDCConfiguration.SnapshotMode = .initial, on target: PostgresServer? = nil) async throws -> CDCError? {
            let running = try RunningConnector(dataDirectory: directory.path + "/\(slot)", configuration: configuration(target ?? server, tables: tables, slot: slot, mode: mode))
            let error = await running.result()
            try? running.log.close()
            return error as? CDCError
        }
        #expect(try await failure(["public.missing"])?.code == .missingTable)
        #expect(try await failure(["unkeyed"])?.code == .noPrimaryKey)
        #expect(try await failure(["full_identity"], slot: "full", mode: .initialOnly) == nil, "REPLICA IDENTITY FULL is enough")

        // A slot dropped under a connector that streamed from it.
        let running = try RunningConnector(dataDirectory: directory.path + "/dropped", configuration: configuration(server, tables: ["keyed"], slot: "dropped", mode: .never))
        #expect(await running.flags.waitForStreaming())
        #expect(await running.stop() == nil)
        try await server.psql("SELECT pg_drop_replication_slot('dropped')")
        let dropped = try await failure(["keyed"], slot: "dropped", mode: .never)
        #expect(dropped?.code == .slotMissing, "\(String(describing: dropped))")

        let replica = try await PostgresServer(walLevel: "replica")
        defer { replica.stop() }
        try await replica.psql("CREATE TABLE keyed (id int PRIMARY KEY)")
        #expect(try await failure(["keyed"], slot: "replica", on: replica)?.code == .walLevelNotLogical)
    }

    @Test func postgresRestartMidStreamLosesNothing() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE r (id int PRIMARY KEY, v int)")
        let directory = TemporaryDirectory(prefix: "cdc-restart")
        defer { directory.remove() }
        let running = try RunningConnector(dataDirectory: directory.path + "/data", configuration: configuration(server, tables: ["r"]))
        #expect(await running.flags.waitForStreaming())
        try await server.psql("INSERT INTO r SELECT g, g FROM generate_series(1, 3000) g")
        try await server.psql("UPDATE r SET v = v + 1 WHERE id <= 1000")
        try await server.restart()
        try await server.psql("INSERT INTO r SELECT g, g FROM generate_series(3001, 5000) g; DELETE FROM r WHERE id % 7 = 0")
        #expect(await running.flags.waitForStreaming(sessions: 2), "the connector reconnected")
        #expect(try await server.waitForSlotCaughtUp("sluice"))
        #expect(await running.stop() == nil)
        #expect(running.flags.reconnectCount >= 1)

        let log = try Log(directory: directory.path + "/data")
        defer { try? log.close() }
        let events = try readEvents(log, "pg.public.r")
        let ordered = positionsStrictlyIncrease(events)
        #expect(ordered)
        let expected = try await server.psql("SELECT id, v FROM r ORDER BY id").split(separator: "\n").map(String.init)
        let actual = replay(events).values.map { "\($0["id"] as! Int)|\($0["v"] as! Int)" }
        #expect(actual.sorted { Int($0.split(separator: "|")[0])! < Int($1.split(separator: "|")[0])! } == expected)
        #expect(events.filter { $0.op == "c" }.count == 5000)
        #expect(events.filter { $0.op == "u" }.count == 1000)
    }

    @Test func idleCapturedTablesStillLetTheSlotAdvance() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE captured (id int PRIMARY KEY); CREATE TABLE other (id int PRIMARY KEY)")
        let directory = TemporaryDirectory(prefix: "cdc-heartbeat")
        defer { directory.remove() }
        let running = try RunningConnector(dataDirectory: directory.path + "/data", configuration: configuration(server, tables: ["captured"]))
        #expect(await running.flags.waitForStreaming())
        // Only an uncaptured table changes: keepalives alone must move the slot's confirmed LSN.
        try await server.psql("INSERT INTO other SELECT generate_series(1, 20000)")
        #expect(try await server.waitForSlotCaughtUp("sluice", timeout: .seconds(60)))
        #expect(await running.stop() == nil)
    }

    @Test func keyChangesAndTruncatesFromARealServer() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE k (id int PRIMARY KEY, a text); CREATE TABLE f (a int, b text); ALTER TABLE f REPLICA IDENTITY FULL")
        let directory = TemporaryDirectory(prefix: "cdc-keys")
        defer { directory.remove() }
        let running = try RunningConnector(dataDirectory: directory.path + "/data", configuration: configuration(server, tables: ["k", "f"]))
        #expect(await running.flags.waitForStreaming())
        try await server.psql("""
            INSERT INTO k VALUES (1, 'x'), (2, 'y');
            UPDATE k SET id = 10 WHERE id = 2;
            TRUNCATE k;
            INSERT INTO f VALUES (1, 'p');
            UPDATE f SET b = 'q' WHERE a = 1;
            """)
        // Rows of 400 and 700 kB in one transaction: batches split so that none exceeds the topic's message limit.
        try await server.psql("INSERT INTO f SELECT g, repeat(md5(g::text), 12500 + (g % 2) * 9375) FROM generate_series(100, 104) g")
        #expect(try await server.waitForSlotCaughtUp("sluice"))
        #expect(await running.stop() == nil)
        let log = try Log(directory: directory.path + "/data")
        defer { try? log.close() }
        let keyed = try readEvents(log, "pg.public.k")
        #expect(keyed.map { $0.op ?? "tombstone" } == ["c", "c", "d", "tombstone", "c", "t"])
        guard keyed.count == 6 else { return }
        #expect(keyed[2].keyText == #"{"id":2}"#)
        #expect(keyed[3].keyText == #"{"id":2}"#)
        #expect(keyed[4].keyText == #"{"id":10}"#)
        #expect(keyed[4].after?["a"] as? String == "y")
        #expect(keyed[5].keyText == nil)
        // REPLICA IDENTITY FULL without a primary key: no key, and the old row in `before`.
        let full = try readEvents(log, "pg.public.f")
        #expect(full.map { $0.op ?? "tombstone" } == ["c", "u", "c", "c", "c", "c", "c"])
        #expect((full.last?.after?["b"] as? String)?.utf8.count == 400_000)
        guard full.count >= 2 else { return }
        #expect(full[1].keyText == nil)
        #expect(full[1].before?["b"] as? String == "p")
        #expect(full[1].after?["b"] as? String == "q")
    }

    /// A transaction larger than `flushBytesMax` is written in several log transactions (its events
    /// are not all held in memory until its commit), and still arrives whole and once.
    @Test func aTransactionLargerThanTheByteBoundIsSplitAndArrivesOnce() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE big (id int PRIMARY KEY, b text)")
        let directory = TemporaryDirectory(prefix: "cdc-split")
        defer { directory.remove() }
        var settings = configuration(server, tables: ["big"])
        settings.flushBytesMax = 1 << 20
        let running = try RunningConnector(dataDirectory: directory.path + "/data", configuration: settings)
        #expect(await running.flags.waitForStreaming())
        // Twelve rows of 400 kB in one transaction: about 5 MB, five times the bound.
        try await server.psql("INSERT INTO big SELECT g, repeat(md5(g::text), 12500) FROM generate_series(1, 12) g")
        #expect(try await server.waitForSlotCaughtUp("sluice"))
        #expect(await running.stop() == nil)
        let log = try Log(directory: directory.path + "/data")
        defer { try? log.close() }
        let events = try readEvents(log, "pg.public.big")
        #expect(events.map(\.keyText) == (1...12).map { #"{"id":\#($0)}"# })
        // One decision per log transaction: the transaction went in more than one.
        let decisions = try log.partition(TopicPartition("__sluice_cdc_commits.sluice", 0))
        let fetched = try decisions.read(from: decisions.startOffset, maxBytes: 1 << 20)
        #expect(try decodeRecords(fetched.records, aborted: []).count >= 3)
    }

    @Test func commandLineReportsBadInputAndListsSlots() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE t (id int PRIMARY KEY)")
        try await server.psql("SELECT pg_create_logical_replication_slot('listed', 'pgoutput')")
        let directory = TemporaryDirectory(prefix: "cdc-cli")
        defer { directory.remove() }
        let missing = try await runProcess(sluiceExecutablePath(), ["cdc", "postgres", "--data-dir", directory.path + "/data",
                                                               "--connection", server.connectionString, "--tables", "public.nope"])
        #expect(missing.status == 1)
        #expect(missing.errors.contains("missing table"), "\(missing.errors)")
        let badPassword = try await runProcess(sluiceExecutablePath(), [
            "cdc", "postgres", "--data-dir", directory.path + "/data", "--tables", "t",
            "--connection", "postgresql://scram_user:wrong@127.0.0.1:\(server.port)/postgres"])
        #expect(badPassword.status == 1)
        #expect(badPassword.errors.contains("authentication failed"), "\(badPassword.errors)")
        let slots = try await runProcess(sluiceExecutablePath(), ["cdc", "slots", "--connection", server.connectionString])
        #expect(slots.status == 0)
        #expect(slots.output.contains("listed\tpgoutput"), "\(slots.output)")
        let dropped = try await runProcess(sluiceExecutablePath(), ["cdc", "slots", "--connection", server.connectionString, "--drop", "listed"])
        #expect(dropped.status == 0)
        #expect(try await server.psql("SELECT count(*) FROM pg_replication_slots").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    @Test func serveRunsConnectorsFromAConfigurationFile() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE served (id int PRIMARY KEY, a text); INSERT INTO served VALUES (1, 'before')")
        let directory = TemporaryDirectory(prefix: "cdc-serve")
        defer { directory.remove() }
        let configPath = directory.path + "/connect.json"
        try """
            {"postgres": [{"connection": "\(server.connectionString)", "publication": "served_pub", "slot": "served",
                           "tables": ["public.served"], "snapshotMode": "initial", "topicPrefix": "srv"}]}
            """.write(toFile: configPath, atomically: true, encoding: .utf8)
        let child = try ChildProcess(sluiceExecutablePath(), [
            "serve", "--data-dir", directory.path + "/data", "--kafka-listen", "127.0.0.1:\(PostgresServer.freePort())",
            "--connect-config", configPath])
        #expect(await child.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("cdc streaming") }, "\(child.standardError)")
        let before = try await server.psql("SELECT confirmed_flush_lsn, pg_current_wal_lsn() FROM pg_replication_slots WHERE slot_name = 'served'")
        try await server.psql("INSERT INTO served VALUES (2, 'after')")
        #expect(try await server.waitForSlotCaughtUp("served"))
        let after = try await server.psql("SELECT confirmed_flush_lsn, pg_current_wal_lsn() FROM pg_replication_slots WHERE slot_name = 'served'")
        child.kill(signal: SIGTERM)
        #expect(await child.wait() == 0, "\(child.standardError)")
        let log = try Log(directory: directory.path + "/data")
        defer { try? log.close() }
        let ops = try readEvents(log, "srv.public.served").map { $0.op ?? "" }
        #expect(ops == ["r", "c"], "topics \(log.topicNames); slot before \(before), after \(after); \(child.lines) \(child.standardError)")
    }

    @Test func anInterruptedSnapshotIsRedoneFromScratch() async throws {
        let server = try await PostgresServer()
        defer { server.stop() }
        try await server.psql("CREATE TABLE snap (id int PRIMARY KEY, s text); INSERT INTO snap SELECT g, md5(g::text) FROM generate_series(1, 40000) g")
        let directory = TemporaryDirectory(prefix: "cdc-snapshot")
        defer { directory.remove() }
        let first = try RunningConnector(dataDirectory: directory.path + "/data", configuration: configuration(server, tables: ["snap"]))
        let deadline = ContinuousClock.now + .seconds(60)
        while first.flags.snapshotChunkCount == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        await first.stop()
        #expect(first.flags.streamingSessions == 0, "stopped during the snapshot")

        let second = try RunningConnector(dataDirectory: directory.path + "/data", configuration: configuration(server, tables: ["snap"]))
        #expect(await second.flags.waitForStreaming())
        try await server.psql("INSERT INTO snap VALUES (40001, 'streamed')")
        #expect(try await server.waitForSlotCaughtUp("sluice"))
        #expect(await second.stop() == nil)
        let log = try Log(directory: directory.path + "/data")
        defer { try? log.close() }
        let events = try readEvents(log, "pg.public.snap")
        #expect(events.filter { $0.op == "r" }.count == 40_000)
        #expect(Set(events.compactMap(\.keyText)).count == 40_001)
        #expect(events.last?.op == "c")
    }
}
