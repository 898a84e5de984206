import ArgumentParser
import SluiceConnect
import SluiceCore
import SluiceLog
import SluiceStreams

#if canImport(Glibc)
import Glibc
#endif

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "A streaming platform: an embedded Kafka-compatible log, a processing engine and its tools.",
        subcommands: [
            DemoCommand.self, TourCommand.self, ServeCommand.self, TopicCommand.self, ProduceCommand.self, ConsumeCommand.self, LogCommand.self,
            DatagenCommand.self, NexmarkCommand.self, BenchCommand.self, CrashAppenderCommand.self, WindowCountCommand.self, CDCCommand.self,
        ]
    )
}

/// Options every command that opens the embedded log shares.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory of the embedded log.")
    var dataDir: String = "./sluice-data"

    @Option(name: .long, help: "How appends become durable: group-commit (default), fsync (per append) or os.")
    var durability: DurabilityName = .groupCommit

    @Option(name: .long, help: "Least milliseconds between two group-commit syncs (0: sync as soon as the previous sync ends).")
    var groupCommitMs: Int = 0

    @Option(name: .long, help: "Megabytes at the end of each partition kept in the page cache once synced; older synced data leaves it ('all': the OS decides).")
    var pageCacheTailMb: PageCacheTail = .streaming

    enum DurabilityName: String, ExpressibleByArgument, CaseIterable {
        case groupCommit = "group-commit"
        case fsync
        case os
    }

    var policy: DurabilityPolicy {
        switch self.durability {
        case .groupCommit: .groupCommit(interval: .milliseconds(self.groupCommitMs))
        case .fsync: .fsyncPerAppend
        case .os: .osManaged
        }
    }

    /// The log's options from these flags.
    var logOptions: LogOptions {
        var options = LogOptions(durability: self.policy)
        options.pageCacheTailBytes = self.pageCacheTailMb.bytes
        return options
    }

    /// Opens the log; maintenance threads only for long-running commands.
    func openLog(maintenance: Bool = false) throws -> Log {
        var options = self.logOptions
        options.runsMaintenance = maintenance
        let log = try Log(directory: self.dataDir, options: options)
        for report in log.recoveryReports { printError("warning: recovery truncated corrupt data: \(report)") }
        return log
    }
}

/// `--page-cache-tail-mb`: megabytes, or `all` for no drop-behind (`LogOptions.pageCacheTailBytes`).
struct PageCacheTail: ExpressibleByArgument, Sendable {
    var bytes: Int64?

    static let streaming = PageCacheTail(bytes: LogOptions.streamingPageCacheTailBytes)
    static let all = PageCacheTail(bytes: nil)

    init(bytes: Int64?) {
        self.bytes = bytes
    }

    init?(argument: String) {
        if argument == "all" {
            self.bytes = nil
        } else if let megabytes = Int64(argument), megabytes >= 0, megabytes < (1 << 40) {
            self.bytes = megabytes << 20
        } else {
            return nil
        }
    }

    var defaultValueDescription: String { self.bytes.map { "\($0 >> 20)" } ?? "all" }
}

/// Runs a command body, turning Sluice's errors into one line on stderr and exit code 1.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw reported(error)
    }
}

/// Sluice's own errors are printed as one line and become exit code 1; others pass on unchanged.
func reported(_ error: any Error) -> any Error {
    guard error is SluiceError || error is StreamsError || error is CDCError else { return error }
    printError("error: \(error)")
    return ExitCode(1)
}

func printError(_ message: String, newline: Bool = true) {
    var line = message
    if newline { line.append("\n") }
    fflush(nil)
    _ = line.withCString { write(2, $0, strlen($0)) }
}

/// Writes a line to stdout and flushes it, so that a reader (or a test killing this process) sees
/// every printed line.
func printFlushed(_ line: String) {
    print(line)
    fflush(nil)
}
