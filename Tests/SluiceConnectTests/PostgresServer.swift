import Foundation
import SluiceConnect
import _SluiceTestSupport

#if canImport(Glibc)
import Glibc
#endif

struct PostgresUnavailable: Error, CustomStringConvertible {
    var description: String
}

/// A throw-away PostgreSQL server for one test: `initdb` in a temporary directory, wal_level=logical,
/// a free port on 127.0.0.1, started with `pg_ctl` and stopped (immediately) and removed by `stop()`.
/// Users: `postgres` (trust), `scram_user` / `md5_user` with password `secret` through scram-sha-256 / md5.
/// When the tests run as root, the server runs as the `postgres` system user (PostgreSQL refuses root).
final class PostgresServer: @unchecked Sendable {
    let directory: TemporaryDirectory
    let binDirectory: String
    let port: Int
    var dataDirectory: String { self.directory.path + "/data" }
    private let runAs: [String]

    static let password = "secret"

    /// The directory of PostgreSQL's programs the tests run (`PostgresTools`).
    static func findBinDirectory() throws -> String {
        if let found = PostgresTools.binDirectory(holding: ["initdb", "pg_ctl", "psql"]) { return found }
        throw PostgresUnavailable(description: "PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin): run scripts/ensure-postgres")
    }

    /// A port nothing listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs `initdb` and starts the server, on a thread of their own (`onOwnThread`).
    init(walLevel: String = "logical") async throws {
        self.binDirectory = try Self.findBinDirectory()
        self.directory = TemporaryDirectory(prefix: "cdc-pgtest")
        self.port = Self.freePort()
        if geteuid() == 0 {
            guard getpwnam("postgres") != nil else {
                throw PostgresUnavailable(description: "running as root and there is no 'postgres' user to run PostgreSQL as")
            }
            _ = await shell("chown postgres '\(self.directory.path)'")
            self.runAs = ["/usr/sbin/runuser", "-u", "postgres", "--"]
        } else {
            self.runAs = []
        }
        do {
            try await self.setUp(walLevel: walLevel)
            try await self.start()
        } catch {
            self.directory.remove()
            throw error
        }
        do {
            try await self.psql("""
                CREATE ROLE scram_user LOGIN REPLICATION SUPERUSER PASSWORD '\(Self.password)';
                SET password_encryption = 'md5';
                CREATE ROLE md5_user LOGIN REPLICATION SUPERUSER PASSWORD '\(Self.password)';
                """)
        } catch {
            // The caller's `defer { stop() }` is not set up yet: stop here, or the server outlives the test.
            self.stop()
            throw error
        }
    }

    private func setUp(walLevel: String) async throws {
        try await self.run("initdb", ["-D", self.dataDirectory, "-U", "postgres", "--auth=trust", "--no-sync"])
        let conf = """

            wal_level = \(walLevel)
            max_replication_slots = 20
            max_wal_senders = 20
            port = \(self.port)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '\(self.directory.path)'
            fsync = off
            full_page_writes = off
            shared_buffers = 64MB
            password_encryption = 'scram-sha-256'
            wal_sender_timeout = 60s

            """
        try Self.append(conf, to: self.dataDirectory + "/postgresql.conf")
        let hba = """
            local all all trust
            host all scram_user 127.0.0.1/32 scram-sha-256
            host replication scram_user 127.0.0.1/32 scram-sha-256
            host all md5_user 127.0.0.1/32 md5
            host replication md5_user 127.0.0.1/32 md5
            host all all 127.0.0.1/32 trust
            host replication all 127.0.0.1/32 trust

            """
        try hba.write(toFile: self.dataDirectory + "/pg_hba.conf", atomically: true, encoding: .utf8)
        if geteuid() == 0 { _ = await shell("chown postgres '\(self.dataDirectory)/pg_hba.conf'") }
    }

    private static func append(_ text: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw PostgresUnavailable(description: "cannot open \(path)") }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        handle.closeFile()
    }

    /// Runs a PostgreSQL tool to completion through the shell (`system`), its output in files: `pg_ctl
    /// start` leaves the server holding the descriptors it inherited, which pipes or Foundation's
    /// Process would wait on. The wait is on a thread of its own (`onOwnThread`).
    @discardableResult
    func run(_ tool: String, _ arguments: [String]) async throws -> String {
        try await onOwnThread { try self.runBlocking(tool, arguments) }
    }

    private func runBlocking(_ tool: String, _ arguments: [String]) throws -> String {
        // Only the server's own tools need the server's user; clients (psql) read the test's files as themselves.
        let prefix = ["initdb", "pg_ctl"].contains(tool) ? self.runAs : []
        let command = (prefix + ["\(self.binDirectory)/\(tool)"] + arguments).map(Self.shellQuoted).joined(separator: " ")
        let stem = self.directory.path + "/tool-\(UInt64.random(in: 0...UInt64.max))"
        defer { _ = unlink(stem + ".out"); _ = unlink(stem + ".err") }
        let status = shell("\(command) < /dev/null > '\(stem).out' 2> '\(stem).err'")
        let output = (try? String(contentsOfFile: stem + ".out", encoding: .utf8)) ?? ""
        guard status == 0 else {
            let errors = (try? String(contentsOfFile: stem + ".err", encoding: .utf8)) ?? ""
            throw PostgresUnavailable(description: "\(tool) \(arguments.joined(separator: " ")) failed (\(status)): \(errors) \(output)")
        }
        return output
    }

    static func shellQuoted(_ argument: String) -> String {
        "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    func start() async throws {
        try await self.run("pg_ctl", ["-D", self.dataDirectory, "-l", self.directory.path + "/server.log", "-w", "-t", "60", "start"])
    }

    /// Restarts the server (a fast shutdown: connections are closed).
    func restart() async throws {
        try await self.run("pg_ctl", ["-D", self.dataDirectory, "-l", self.directory.path + "/server.log", "-w", "-t", "60", "-m", "fast", "restart"])
    }

    /// Stops the server at once and removes its directory. It blocks its caller (a `defer` cannot
    /// await), but an immediate stop takes a moment.
    func stop() {
        _ = try? self.runBlocking("pg_ctl", ["-D", self.dataDirectory, "-m", "immediate", "-w", "stop"])
        self.directory.remove()
    }

    /// Runs SQL through psql as postgres; returns the unaligned, tuples-only output (`|` between columns).
    @discardableResult
    func psql(_ sql: String, database: String = "postgres") async throws -> String {
        try await self.run("psql", ["-h", "127.0.0.1", "-p", String(self.port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1",
                                    "-X", "-q", "-A", "-t", "-F", "|", "-c", sql])
    }

    /// Runs an SQL file through psql (not quiet: the output has each statement's command tag).
    func psqlFile(_ path: String) async throws -> String {
        try await self.run("psql", ["-h", "127.0.0.1", "-p", String(self.port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                    "-X", "-A", "-t", "-f", path])
    }

    /// The psql command line for a load run in the background.
    func psqlFileCommand(_ path: String) -> [String] {
        ["\(self.binDirectory)/psql", "-h", "127.0.0.1", "-p", String(self.port), "-U", "postgres", "-d", "postgres",
                      "-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-f", path]
    }

    func connection(user: String = "postgres", password: String? = nil) -> PgConnectionConfig {
        PgConnectionConfig(host: "127.0.0.1", port: self.port, user: user, password: password, database: "postgres")
    }

    var connectionString: String { "host=127.0.0.1 port=\(self.port) user=postgres dbname=postgres" }

    /// Waits until the slot's confirmed_flush_lsn reaches the server's current WAL position (taken now):
    /// every change committed so far is durable in the connector's log.
    func waitForSlotCaughtUp(_ slot: String, timeout: Duration = .seconds(120)) async throws -> Bool {
        let target = try await self.psql("SELECT pg_current_wal_insert_lsn()").trimmingCharacters(in: .whitespacesAndNewlines)
        return try await eventually(timeout: timeout, every: .milliseconds(50)) {
            let answer = try await self.psql("SELECT confirmed_flush_lsn >= '\(target)'::pg_lsn FROM pg_replication_slots WHERE slot_name = '\(slot)'")
            return answer.trimmingCharacters(in: .whitespacesAndNewlines) == "t"
        }
    }
}
