import ArgumentParser
import Foundation
import SluiceConnect
import SluiceLog

#if canImport(Glibc)
import Glibc
#endif

/// `sluice bench cdc`: the PostgreSQL connector against PostgreSQL's own pg_recvlogical reading the
/// same changes through the same plugin (pgoutput), in the same run, then the commit-to-durable lag
/// at half the connector's peak rate. Starts its own PostgreSQL (initdb in the work directory).
struct CDCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cdc", abstract: "Benchmark PostgreSQL change data capture.")

    @Option(help: "A scratch directory (emptied first).") var workDir: String = "/tmp/sluice-bench-cdc"
    @Option(help: "Rows inserted by the sustained load (each then updated once: twice as many changes).") var rows: Int = 200_000
    @Option(help: "Rows per transaction of the sustained load.") var transactionRows: Int = 1_000
    @Option(help: "Seconds of the paced load that measures lag.") var lagSeconds: Double = 5

    func run() async throws {
        #if DEBUG
        printError("warning: this is a debug build; run `swift run -c release sluice bench cdc` for real figures")
        #endif
        shell("rm -rf '\(self.workDir)'")
        let server = try LocalPostgres(directory: self.workDir + "/pg")
        defer { server.stop() }
        try server.psql("""
            CREATE TABLE bench (id bigint PRIMARY KEY, v int NOT NULL, s text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE PUBLICATION bench_pub FOR TABLE bench;
            SELECT pg_create_logical_replication_slot('bench_cdc', 'pgoutput');
            SELECT pg_create_logical_replication_slot('bench_recv', 'pgoutput');
            """)

        // The sustained load, committed before either reader starts: both read the same WAL.
        let loadStart = ContinuousClock.now
        var sql = ""
        var next = 1
        while next <= self.rows {
            let last = min(self.rows, next + self.transactionRows - 1)
            sql += "INSERT INTO bench (id, v, s) SELECT g, g % 1000, md5(g::text) FROM generate_series(\(next), \(last)) g;\n"
            next = last + 1
        }
        next = 1
        while next <= self.rows {
            let last = min(self.rows, next + self.transactionRows - 1)
            sql += "UPDATE bench SET v = v + 1 WHERE id BETWEEN \(next) AND \(last);\n"
            next = last + 1
        }
        try sql.write(toFile: self.workDir + "/load.sql", atomically: true, encoding: .utf8)
        try server.psqlFile(self.workDir + "/load.sql")
        let endLSNText = try server.psql("SELECT pg_current_wal_lsn()").trimmingCharacters(in: .whitespacesAndNewlines)
        guard let endLSN = LSN(endLSNText) else { throw CDCError(.protocolViolation, "cannot parse LSN \(endLSNText)") }
        let changeCount = 2 * self.rows
        printError("load: \(changeCount) changes committed in \(format(secondsOf(ContinuousClock.now - loadStart))) s, WAL end \(endLSN)")

        // The connector: from the slot until every change is durable in the log and confirmed.
        let log = try Log(directory: self.workDir + "/data", options: LogOptions(durability: .groupCommit(interval: .zero)))
        let lag = LagRecorder()
        var configuration = PostgresCDCConfiguration(
            connection: PgConnectionConfig(host: "127.0.0.1", port: server.port, user: "postgres", database: "postgres"),
            publication: "bench_pub", slot: "bench_cdc", tables: ["bench"], snapshotMode: .never, topicPrefix: "bench")
        configuration.reconnectAttemptCountMax = 3
        let connector = PostgresCDCConnector(configuration: configuration, log: log, onDurable: { commitTimes in lag.record(commitTimes) })
        let cdcStart = ContinuousClock.now
        let task = Task { try await connector.run() }
        while connector.confirmedLSN < endLSN {
            try await Task.sleep(for: .milliseconds(2))
        }
        let cdcSeconds = secondsOf(ContinuousClock.now - cdcStart)
        let cdcRowsPerSecond = Double(changeCount) / cdcSeconds
        printError("connector: \(format(cdcRowsPerSecond)) changes/s (\(format(cdcSeconds)) s)")

        // pg_recvlogical on its own slot, the same publication and plugin, to the same end position.
        let recvStart = ContinuousClock.now
        let status = shell("'\(server.binDirectory)/pg_recvlogical' -d 'host=127.0.0.1 port=\(server.port) user=postgres dbname=postgres' "
            + "--slot bench_recv --start -o proto_version=1 -o publication_names=bench_pub -E \(endLSN) --no-loop "
            + "-f '\(self.workDir)/recvlogical.out' > '\(self.workDir)/recvlogical.log' 2>&1")
        let recvSeconds = secondsOf(ContinuousClock.now - recvStart)
        guard status == 0 else { throw CDCError(.serverError, "pg_recvlogical failed; see \(self.workDir)/recvlogical.log") }
        let recvRowsPerSecond = Double(changeCount) / recvSeconds
        printError("pg_recvlogical: \(format(recvRowsPerSecond)) changes/s (\(format(recvSeconds)) s)")

        // Lag at half the peak: small transactions at a fixed rate, commit time to durable in the log.
        let pacedRate = cdcRowsPerSecond / 2
        let rowsPerTransaction = max(1, Int(pacedRate / 500))
        let interval = Double(rowsPerTransaction) / pacedRate
        lag.reset()
        let paced = try await PgConnection.connect(configuration.connection, replication: false)
        var id = self.rows + 1
        let pacedStart = ContinuousClock.now
        var deadline = pacedStart
        var pacedTransactions = 0
        while secondsOf(ContinuousClock.now - pacedStart) < self.lagSeconds {
            try await paced.query("INSERT INTO bench (id, v, s) SELECT g, 0, 'paced' FROM generate_series(\(id), \(id + rowsPerTransaction - 1)) g")
            id += rowsPerTransaction
            pacedTransactions += 1
            deadline = deadline.advanced(by: .nanoseconds(Int64(interval * 1e9)))
            let now = ContinuousClock.now
            if deadline > now { try await Task.sleep(until: deadline, clock: .continuous) }
        }
        await paced.close()
        let pacedEnd = try server.psql("SELECT pg_current_wal_lsn()").trimmingCharacters(in: .whitespacesAndNewlines)
        let pacedEndLSN = LSN(pacedEnd) ?? endLSN
        let waitStart = ContinuousClock.now
        while connector.confirmedLSN < pacedEndLSN && secondsOf(ContinuousClock.now - waitStart) < 30 {
            try await Task.sleep(for: .milliseconds(2))
        }
        task.cancel()
        _ = try? await task.value
        try log.close()
        let samples = lag.samples.sorted()
        let p99 = samples.isEmpty ? Double.nan : Double(samples[min(samples.count - 1, Int(Double(samples.count) * 0.99))])
        let p50 = samples.isEmpty ? Double.nan : Double(samples[samples.count / 2])
        printError("lag at \(format(pacedRate)) changes/s (\(pacedTransactions) transactions of \(rowsPerTransaction) rows): p50 \(p50) ms, p99 \(p99) ms")

        printFlushed("""
            {"changes": \(changeCount), "cdc_rows_s": \(jsonNumber(cdcRowsPerSecond)), "pg_recvlogical_rows_s": \(jsonNumber(recvRowsPerSecond)), \
            "cdc_vs_recvlogical": \(jsonNumber(cdcRowsPerSecond / recvRowsPerSecond)), "lag_rate_rows_s": \(jsonNumber(pacedRate)), \
            "lag_p50_ms": \(jsonNumber(p50)), "lag_p99_ms": \(jsonNumber(p99)), "lag_samples": \(samples.count)}
            """)
    }
}

/// Commit-to-durable delays in milliseconds, one per transaction.
final class LagRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int64] = []

    func record(_ commitTimesMs: [Int64]) {
        let now = currentTimeMillis()
        self.lock.withLock { self.values.append(contentsOf: commitTimesMs.map { now - $0 }) }
    }

    func reset() { self.lock.withLock { self.values.removeAll() } }
    var samples: [Int64] { self.lock.withLock { self.values } }
}

/// A PostgreSQL server for a benchmark: initdb in a directory, wal_level=logical, a free port.
/// As root it runs as the `postgres` system user (PostgreSQL refuses root).
struct LocalPostgres {
    let directory: String
    let binDirectory: String
    let port: Int
    private let runAs: String

    init(directory: String) throws {
        self.directory = directory
        let found = PostgresTools.binDirectory(holding: ["initdb", "pg_ctl", "psql", "pg_recvlogical"])
        guard let binDirectory = found else {
            throw CDCError(.invalidConfiguration, "PostgreSQL (initdb, pg_ctl, psql, pg_recvlogical) is not installed: run scripts/ensure-postgres")
        }
        self.binDirectory = binDirectory
        self.port = Int.random(in: 20_000...60_000)
        self.runAs = geteuid() == 0 ? "/usr/sbin/runuser -u postgres -- " : ""
        shell("mkdir -p '\(directory)'")
        if geteuid() == 0 { shell("chown postgres '\(directory)'") }
        try self.tool("initdb -D '\(directory)/data' -U postgres --auth=trust --no-sync")
        let conf = """

            wal_level = logical
            max_replication_slots = 10
            max_wal_senders = 10
            port = \(self.port)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '\(directory)'
            shared_buffers = 256MB
            max_wal_size = 4GB

            """
        let handle = FileHandle(forWritingAtPath: directory + "/data/postgresql.conf")
        handle?.seekToEndOfFile()
        handle?.write(Data(conf.utf8))
        handle?.closeFile()
        try self.tool("pg_ctl -D '\(directory)/data' -l '\(directory)/server.log' -w start")
    }

    private func tool(_ command: String) throws {
        let status = shell("\(self.runAs)\(self.binDirectory)/\(command) < /dev/null > '\(self.directory)/tool.log' 2>&1")
        guard status == 0 else { throw CDCError(.serverError, "\(command) failed; see \(self.directory)/tool.log") }
    }

    @discardableResult
    func psql(_ sql: String) throws -> String {
        try sql.write(toFile: self.directory + "/query.sql", atomically: true, encoding: .utf8)
        return try self.psqlFile(self.directory + "/query.sql")
    }

    @discardableResult
    func psqlFile(_ path: String) throws -> String {
        let output = self.directory + "/psql.out"
        let status = shell("'\(self.binDirectory)/psql' -h 127.0.0.1 -p \(self.port) -U postgres -d postgres -X -q -A -t -v ON_ERROR_STOP=1 -f '\(path)' > '\(output)' 2>&1")
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw CDCError(.serverError, "psql failed: \(text)") }
        return text
    }

    func stop() {
        try? self.tool("pg_ctl -D '\(self.directory)/data' -m immediate -w stop")
    }
}
