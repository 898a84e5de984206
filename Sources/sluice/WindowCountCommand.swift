import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceLog
import SluiceStreams

/// A child process for the engine's crash tests: sums the int64 values of topic `--input` per
/// string key in tumbling windows and writes the results to `--output`, with the chosen guarantee.
/// It prints `ready` once running; the test SIGKILLs it at random moments and restarts it.
struct WindowCountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "_window-count", abstract: "Engine crash-test child (internal).", shouldDisplay: false)

    @OptionGroup var data: DataOptions
    @Option var input: String = "in"
    @Option var output: String = "out"
    @Option var application: String = "window-count"
    @Option var stateDir: String
    @Option var guarantee: String = "exactly-once"
    @Option var windowMs: Int64 = 1_000
    @Option var disorderMs: Int64 = 200
    @Option var latenessMs: Int64 = 500
    @Option var threads: Int = 2
    @Option var commitIntervalMs: Int64 = 50
    @Option(help: "Bytes a task reads per poll.") var batchBytes: Int = 1 << 20
    @Option(help: "Milliseconds to pause after each poll (slows the run down for the test).") var pollPauseMs: Int64 = 0
    @Option(help: "Start processing only once this file exists.") var waitForFile: String?

    func run() throws {
        guard let guarantee = StreamsSettings.Guarantee(rawValue: self.guarantee) else {
            throw ValidationError("--guarantee must be exactly-once or at-least-once")
        }
        let log = try self.data.openLog(maintenance: true)
        let builder = StreamsBuilder()
        builder.stream(self.input, key: .string, value: .int64, outOfOrdernessMs: self.disorderMs)
            .groupByKey(key: .string, value: .int64)
            .windowedBy(.tumbling(size: self.windowMs), allowedLatenessMs: self.latenessMs)
            .aggregate(.sum { $0 })
            .toStream()
            .to(self.output, key: .windowed(.string), value: .int64)
        var settings = StreamsSettings(applicationId: self.application, stateDirectory: self.stateDir)
        settings.guarantee = guarantee
        settings.threadCount = self.threads
        settings.commitIntervalMs = self.commitIntervalMs
        settings.snapshotIntervalMs = 200
        settings.fetchBytesMax = self.batchBytes
        settings.taskBatchBytesMax = self.batchBytes
        settings.stopAtEnd = true
        settings.pollPauseMs = self.pollPauseMs
        let app = try StreamsApplication(topology: try builder.build(), client: EmbeddedLogClient(log: log), settings: settings)
        printFlushed("ready")
        if let goFile = self.waitForFile {
            // The test decides when processing starts, so that its kill timer does not depend on how soon it reads our output.
            while !FileSystem.exists(goFile) { sleepNanoseconds(1_000_000) }
        }
        try app.start()
        try app.awaitTermination()
        try log.close()
        printFlushed("done")
    }
}
