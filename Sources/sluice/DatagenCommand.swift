import ArgumentParser
import SluiceCore
import SluiceLog
import SluiceNexmark

/// `sluice datagen`: synthetic data sets, written into a topic of the embedded log or a file. One
/// subcommand per generator.
struct DatagenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datagen", abstract: "Generate benchmark data into a topic or a file.",
        subcommands: [NexmarkDatagenCommand.self])
}

/// `sluice datagen nexmark`: the Nexmark auction stream, deterministic for a seed.
struct NexmarkDatagenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexmark",
        abstract: "Generate the Nexmark stream (people, auctions, bids) as JSON, one object per event.",
        discussion: """
            Each event is {"event_type":0|1|2,"person":{...},"auction":{...},"bid":{...}} with the two absent \
            kinds null; times are epoch milliseconds. The same seed and options give the same bytes.
            With --topic, records have a null key, the event as value and its dateTime as timestamp; event n \
            goes to partition n modulo the partition count. A topic created here keeps its data forever \
            (retention.ms=-1): its event times lie in the past, and time retention would delete them.
            A progress bar is drawn on stderr when it is a terminal; a one-line summary ends every run.
            """)

    @OptionGroup var data: DataOptions
    @Option(help: "Events to generate.") var events: Int64 = 1_000_000
    @Option(help: "The generator's seed.") var seed: UInt64 = 42
    @Option(help: "Write JSON lines to this file ('-' for stdout).") var output: String?
    @Option(help: "Append the events to this topic of the embedded log, created if absent.") var topic: String?
    @Option(help: "Partitions of the topic when it is created (default 1).") var partitions: Int32?
    @Option(help: "Events per second of wall-clock time (default: as fast as possible).") var rate: Double?
    @Option(help: "Events per second of event time.") var firstEventRate: Int64 = NexmarkConfig().firstEventRate
    @Option(help: "Event time of the first event, epoch milliseconds.") var baseTime: Int64 = NexmarkConfig().baseTime
    @Option(help: "Fraction of events stamped earlier than their position (0 to 1).")
    var delayedFraction: Double = NexmarkConfig().delayedEventFraction
    @Option(help: "The largest such delay, milliseconds (above the queries' 4 s disorder, events come late).")
    var delayMaxMs: Int64 = NexmarkConfig().delayMaxMs
    @Option(help: "Records per batch appended to the topic.") var batchRecords: Int = 1_000

    /// The most events one run may ask for: a bound that keeps event times far from overflow.
    static let eventCountMax: Int64 = 1 << 50
    /// The most records per batch, as `sluice produce` allows.
    static let batchRecordCountMax = 100_000
    /// Events generated between two looks at the clock (progress, pacing) and two awaits.
    static let chunkEventCountMax = 4_096

    func run() async throws {
        try await reportingErrors {
            let config = try self.generatorConfig()
            let generator = NexmarkGenerator(seed: self.seed, config: config, eventNumbers: 0..<self.events)
            if let output = self.output {
                var sink = try NexmarkFileSink(path: output)
                try await self.generate(generator, into: &sink)
            } else {
                var sink = try NexmarkTopicSink(
                    log: try self.data.openLog(), topic: self.topic!, partitionCount: self.partitions,
                    batchRecordCount: self.batchRecords)
                try await self.generate(generator, into: &sink)
            }
        }
    }

    /// The generator's configuration from the flags; throws for a flag out of range.
    private func generatorConfig() throws(SluiceError) -> NexmarkConfig {
        func check(_ condition: Bool, _ message: String) throws(SluiceError) {
            if !condition { throw SluiceError(.invalidConfiguration, message) }
        }
        try check((self.output == nil) != (self.topic == nil), "give one of --output and --topic")
        try check(
            self.events >= 0 && self.events <= Self.eventCountMax,
            "--events must be between 0 and \(Self.eventCountMax), got \(self.events)")
        try check(
            self.batchRecords >= 1 && self.batchRecords <= Self.batchRecordCountMax,
            "--batch-records must be between 1 and \(Self.batchRecordCountMax), got \(self.batchRecords)")
        if let rate = self.rate {
            try check(rate > 0 && rate.isFinite, "--rate must be a positive number of events per second, got \(rate)")
        }
        if let partitions = self.partitions {
            try check(self.topic != nil, "--partitions applies to --topic only")
            try check(
                partitions >= 1 && partitions <= TopicConfig.partitionCountMax,
                "--partitions must be between 1 and \(TopicConfig.partitionCountMax), got \(partitions)")
        }
        var config = NexmarkConfig()
        config.firstEventRate = self.firstEventRate
        config.baseTime = self.baseTime
        config.delayedEventFraction = self.delayedFraction
        config.delayMaxMs = self.delayMaxMs
        do {
            try config.validate()
        } catch {
            // Name the flag, not the knob.
            let flag = [
                "first event rate": "--first-event-rate", "delayed event fraction": "--delayed-fraction",
                "delay maximum": "--delay-max-ms",
            ].first { error.message.hasPrefix($0.key) }?.value
            throw SluiceError(.invalidConfiguration, flag.map { "\($0): \(error.message)" } ?? error.message)
        }
        return config
    }

    /// Generic over the sink, so that the per-event call is direct.
    private func generate<Sink: NexmarkSink>(_ generator: NexmarkGenerator, into sink: inout Sink) async throws {
        do {
            var progress = DatagenProgress(eventCount: self.events, rate: self.rate)
            // Small chunks at low rates, so that pacing sleeps often and briefly.
            let chunkEventCount = Int64(
                self.rate.map { max(1, min(Double(Self.chunkEventCountMax), $0 / 50)) }
                    ?? Double(Self.chunkEventCountMax))
            var chunkStart: Int64 = 0
            while chunkStart < self.events {
                let chunkEnd = min(chunkStart + chunkEventCount, self.events)
                var eventNumber = chunkStart
                for event in generator.events(in: chunkStart..<chunkEnd) {
                    try sink.append(event, eventNumber: eventNumber)
                    eventNumber += 1
                }
                try await sink.endChunk()
                chunkStart = chunkEnd
                try await progress.advance(to: chunkEnd)
            }
            let byteCount = try await sink.finish()
            let events = "\(self.events) Nexmark event\(self.events == 1 ? "" : "s")"
            progress.finish(summary: "\(events) (seed \(self.seed)) written to \(sink.destination)", byteCount: byteCount)
        } catch {
            await sink.abandon()
            throw error
        }
    }
}
