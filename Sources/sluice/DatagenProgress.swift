#if canImport(Glibc)
import Glibc
#endif

/// Progress of a `sluice datagen` run: a bar on stderr when stderr is a terminal, redrawn at most
/// every `redrawInterval`; wall-clock pacing when a rate is set; and the one-line summary at the end.
struct DatagenProgress {
    /// Least time between two redraws of the bar.
    static let redrawInterval = Duration.milliseconds(100)
    /// Characters of the bar between its brackets.
    static let barWidth = 30

    private let eventCount: Int64
    private let rate: Double?
    private let drawsBar: Bool
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var lastDraw: ContinuousClock.Instant

    init(eventCount: Int64, rate: Double?) {
        self.eventCount = eventCount
        self.rate = rate
        self.drawsBar = isatty(2) != 0
        self.start = self.clock.now
        self.lastDraw = self.start
    }

    /// Records that events below `eventNumber` are written: sleeps when ahead of `rate`, redraws the bar
    /// when due.
    mutating func advance(to eventNumber: Int64) async throws {
        if let rate = self.rate {
            let due = self.start + .seconds(Double(eventNumber) / rate)
            if due > self.clock.now { try await Task.sleep(until: due, clock: self.clock) }
        }
        if self.drawsBar && self.clock.now - self.lastDraw >= Self.redrawInterval {
            self.lastDraw = self.clock.now
            self.drawBar(eventNumber)
        }
    }

    /// Ends the bar and prints `summary` with the bytes, time and rate of the run.
    func finish(summary: String, byteCount: Int64) {
        if self.drawsBar {
            self.drawBar(self.eventCount)
            printError("")
        }
        let seconds = secondsOf(self.clock.now - self.start)
        let eventsPerSecond = seconds > 0 ? Double(self.eventCount) / seconds : 0
        let figures = "\(byteCount) bytes of JSON in \(format(seconds)) s (\(Self.abbreviated(eventsPerSecond)) events/s)"
        printError("\(summary): \(figures)")
    }

    private func drawBar(_ eventNumber: Int64) {
        let fraction = self.eventCount > 0 ? Double(eventNumber) / Double(self.eventCount) : 1
        let filled = Int(fraction * Double(Self.barWidth))
        let seconds = secondsOf(self.clock.now - self.start)
        let eventsPerSecond = seconds > 0 ? Double(eventNumber) / seconds : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: Self.barWidth - filled)
        let percent = Int(fraction * 100)
        let rate = Self.abbreviated(eventsPerSecond)
        // "\u{1B}[K" clears what a longer previous line left.
        let line = "\r[\(bar)] \(percent)% \(eventNumber)/\(self.eventCount) events, \(rate) events/s\u{1B}[K"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    /// 1234567 as "1.23M".
    static func abbreviated(_ value: Double) -> String {
        switch value {
        case 1e9...: "\(format(value / 1e9))G"
        case 1e6...: "\(format(value / 1e6))M"
        case 1e3...: "\(format(value / 1e3))k"
        default: format(value)
        }
    }
}
