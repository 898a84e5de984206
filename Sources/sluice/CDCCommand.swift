import ArgumentParser
import Foundation
import SluiceConnect
import SluiceLog

#if canImport(Glibc)
import Glibc
#endif

struct CDCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cdc", abstract: "Change data capture into the log.",
        subcommands: [CDCPostgresCommand.self, CDCSlotsCommand.self])
}

/// Options naming the PostgreSQL server.
struct PostgresConnectionOptions: ParsableArguments {
    @Option(help: "libpq-style 'host=... port=... user=... password=... dbname=...' or a postgresql:// URL (PGPASSWORD is used when it has no password).")
    var connection: String = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"

    /// The connection settings; without a password in them, PGPASSWORD's (as libpq does).
    func parsed() throws -> PgConnectionConfig {
        var config: PgConnectionConfig
        do { config = try PgConnectionConfig(parsing: self.connection) } catch { throw reported(error) }
        if config.password == nil { config.password = ProcessInfo.processInfo.environment["PGPASSWORD"] }
        return config
    }
}

/// `sluice cdc postgres`: captures tables' changes into `<prefix>.<schema>.<table>` topics.
struct CDCPostgresCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "Capture PostgreSQL row changes (logical replication, pgoutput) as Debezium-style events.",
        discussion: """
            Creates the publication and the replication slot when absent, snapshots the tables (consistent with \
            the slot), then streams. Runs until interrupted; a restart resumes where the log ends, without duplicates.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var server: PostgresConnectionOptions
    @Option(help: "The publication to read (created FOR TABLE the --tables when absent).") var publication: String = "sluice"
    @Option(help: "The logical replication slot (created when absent).") var slot: String = "sluice"
    @Option(help: "Comma-separated tables, schema.table or table (schema public).") var tables: String
    @Option(help: "initial (snapshot then stream), never (stream only) or initial_only (snapshot, then stop).") var snapshotMode: String = "initial"
    @Option(help: "Topics are named <prefix>.<schema>.<table>.") var topicPrefix: String = "pg"
    @Flag(help: "Print a line for each LSN confirmed to PostgreSQL.") var printConfirmed = false

    func run() async throws {
        guard let mode = PostgresCDCConfiguration.SnapshotMode(rawValue: self.snapshotMode) else {
            throw ValidationError("--snapshot-mode must be initial, never or initial_only")
        }
        let configuration = PostgresCDCConfiguration(
            connection: try self.server.parsed(), publication: self.publication, slot: self.slot,
            tables: self.tables.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }, snapshotMode: mode,
            topicPrefix: self.topicPrefix)
        let log: Log
        do { log = try self.data.openLog(maintenance: true) } catch { throw reported(error) }
        let printConfirmed = self.printConfirmed
        let terminal = isatty(2) != 0
        let connector = PostgresCDCConnector(configuration: configuration, log: log, onProgress: { progress in
            switch progress {
            case .snapshotTable(let table, let rowCount, let estimated):
                if terminal { printError("\r\u{1B}[2K" + snapshotProgressBar(table: table, rowCount: rowCount, estimatedRowCount: estimated), newline: false) }
            case .snapshotDone(let point, let rowCount):
                if terminal { printError("") }
                printFlushed("snapshot done: \(rowCount) rows at \(point)")
            case .streaming(let slot):
                printFlushed("streaming from slot \(slot)")
            case .confirmed(let lsn):
                if printConfirmed { printFlushed("confirmed \(lsn)") }
            case .reconnecting(let attempt, let delay, let reason):
                printError("reconnecting (attempt \(attempt), in \(delay)): \(reason)")
            }
        })
        // SIGINT and SIGTERM end the run cleanly: what is buffered is synced and the log closed.
        let task = Task { try await connector.run() }
        let signals = [SIGINT, SIGTERM].map { signalNumber -> any DispatchSourceSignal in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber)
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer { _ = signals }
        do {
            try await task.value
        } catch {
            try? log.close()
            throw reported(error)
        }
        do { try log.close() } catch { throw reported(error) }
        printFlushed("done")
    }
}

/// `sluice cdc slots`: lists replication slots, or drops one.
struct CDCSlotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "slots", abstract: "List PostgreSQL replication slots, or drop one.")

    @OptionGroup var server: PostgresConnectionOptions
    @Option(help: "Drop this slot instead of listing.") var drop: String?

    func run() async throws {
        let config = try self.server.parsed()
        do {
            let connection = try await PgConnection.connect(config, replication: false)
            if let slot = self.drop {
                try await connection.query("SELECT pg_drop_replication_slot('\(slot.replacingOccurrences(of: "'", with: "''"))')")
                printFlushed("dropped \(slot)")
            } else {
                let result = try await connection.query(
                    "SELECT slot_name, plugin, slot_type, database, active, confirmed_flush_lsn FROM pg_replication_slots ORDER BY slot_name")
                printFlushed("slot\tplugin\ttype\tdatabase\tactive\tconfirmed_flush_lsn")
                for row in result.rows { printFlushed(row.map { $0 ?? "" }.joined(separator: "\t")) }
            }
            await connection.close()
        } catch {
            throw reported(error)
        }
    }
}

/// `snapshot public.orders [##########----------]  50% 12000/24000 rows` (the total is the catalog's estimate).
func snapshotProgressBar(table: String, rowCount: Int, estimatedRowCount: Int) -> String {
    guard estimatedRowCount > 0 else { return "snapshot \(table): \(rowCount) rows" }
    let fraction = min(1, Double(rowCount) / Double(estimatedRowCount))
    let width = 30
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let percent = Int(fraction * 100)
    return "snapshot \(table) [\(bar)] \(percent)% \(rowCount)/~\(estimatedRowCount) rows"
}
