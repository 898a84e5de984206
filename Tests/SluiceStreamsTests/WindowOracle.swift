import SluiceStreams

/// A brute-force model of event-time windowing, written independently of the engine: per input
/// partition, records in offset order, the watermark before each record is the greatest earlier
/// event time less the disorder and 1 ms; a window completes when the watermark reaches its last
/// millisecond and is dropped after the allowed lateness; a record no window accepts is late.
/// It yields, per key and window, the values emitted in order (under the on-watermark trigger).
struct WindowOracle {
    let windows: Windows
    let disorderMs: Int64
    let latenessMs: Int64
    /// `.onWatermark` (the default), `.onEveryUpdate` or `.onCount(n)`.
    var trigger: Trigger = .onWatermark

    /// All windows that contain `t`, found by scanning candidates rather than by arithmetic.
    func windowsContaining(_ t: Int64) -> [Window] {
        func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
        switch self.windows {
        case .tumbling(let size, _):
            let start = floorDiv(t, size) * size
            return [Window(start: start, end: start + size)]
        case .hopping(let size, let advance, _):
            var found: [Window] = []
            var start = floorDiv(t - size, advance) * advance
            while start <= t {
                if start <= t && t < start + size { found.append(Window(start: start, end: start + size)) }
                start += advance
            }
            return found
        case .cumulate(let step, let size):
            let period = floorDiv(t, size) * size
            return stride(from: period + step, through: period + size, by: Int64.Stride(step)).filter { $0 > t }.map { Window(start: period, end: $0) }
        case .global:
            return [Window.global]
        default:
            preconditionFailure("the oracle models aligned windows; sessions have their own")
        }
    }

    func maxTimestamp(_ window: Window) -> Int64 { window.end == Int64.max ? Int64.max : window.end - 1 }

    func isExpired(_ window: Window, watermark: Int64?) -> Bool {
        guard let watermark else { return false }
        if window.end == Int64.max { return watermark == Int64.max }
        return self.maxTimestamp(window) + self.latenessMs <= watermark
    }

    /// Emissions per "key[start, end)" and the number of late records, for one partition's records.
    func run(_ records: [InputRecord]) -> (emitted: [String: [Int64]], late: Int) {
        var sums: [String: [Window: Int64]] = [:]
        var pendingCounts: [String: Int64] = [:]
        var fired: Set<String> = []
        var emitted: [String: [Int64]] = [:]
        var late = 0
        var watermark: Int64?
        func name(_ key: String, _ window: Window) -> String { "\(key)\(window)" }
        func advance(to newWatermark: Int64) {
            // Complete windows in order of end.
            var due: [(Window, String)] = []
            for (key, windows) in sums {
                for window in windows.keys where self.maxTimestamp(window) <= newWatermark && !fired.contains(name(key, window)) {
                    due.append((window, key))
                }
            }
            for (window, key) in due.sorted(by: { $0.0 < $1.0 }) {
                fired.insert(name(key, window))
                // Emitted when records came since the last emission (the every-update trigger has emitted each already).
                if self.trigger != .onEveryUpdate && pendingCounts[name(key, window), default: 0] > 0 {
                    emitted[name(key, window), default: []].append(sums[key]![window]!)
                    pendingCounts[name(key, window)] = 0
                }
            }
            for key in Array(sums.keys) {
                sums[key] = sums[key]!.filter { !self.isExpired($0.key, watermark: newWatermark) }
            }
            watermark = newWatermark
        }
        for record in records {
            var accepted = false
            for window in self.windowsContaining(record.timestamp) where !self.isExpired(window, watermark: watermark) {
                accepted = true
                sums[record.key, default: [:]][window, default: 0] += record.value
                pendingCounts[name(record.key, window), default: 0] += 1
                var emit = false
                switch self.trigger {
                case .onEveryUpdate: emit = true
                case .onCount(let count): emit = pendingCounts[name(record.key, window)]! >= count
                default: break
                }
                if let watermark, self.maxTimestamp(window) <= watermark {
                    // Complete already: the update is emitted now (and the window counts as fired).
                    fired.insert(name(record.key, window))
                    emit = true
                }
                if emit {
                    emitted[name(record.key, window), default: []].append(sums[record.key]![window]!)
                    pendingCounts[name(record.key, window)] = 0
                }
            }
            if !accepted { late += 1 }
            let candidate = record.timestamp - self.disorderMs - 1
            if candidate > (watermark ?? Int64.min) { advance(to: candidate) }
        }
        advance(to: Int64.max)
        return (emitted, late)
    }
}

/// The same model for session windows: per key a list of sessions, merged when a record's
/// `[t, t + gap)` touches or overlaps them; late when the merged session is past the lateness.
struct SessionOracle {
    let gap: Int64
    let disorderMs: Int64
    let latenessMs: Int64

    func run(_ records: [InputRecord]) -> (emitted: [String: [Int64]], late: Int) {
        struct Session {
            var window: Window
            var sum: Int64
            var fired: Bool
        }
        var sessions: [String: [Session]] = [:]
        var emitted: [String: [Int64]] = [:]
        var late = 0
        var watermark: Int64?
        func name(_ key: String, _ window: Window) -> String { "\(key)\(window)" }
        func expired(_ window: Window, _ watermark: Int64?) -> Bool {
            guard let watermark else { return false }
            return watermark == Int64.max || window.end - 1 + self.latenessMs <= watermark
        }
        func advance(to newWatermark: Int64) {
            for key in Array(sessions.keys) {
                for index in sessions[key]!.indices where !sessions[key]![index].fired && sessions[key]![index].window.end - 1 <= newWatermark {
                    sessions[key]![index].fired = true
                    emitted[name(key, sessions[key]![index].window), default: []].append(sessions[key]![index].sum)
                }
                sessions[key] = sessions[key]!.filter { !expired($0.window, newWatermark) }
            }
            watermark = newWatermark
        }
        for record in records {
            var merged = Window(start: record.timestamp, end: record.timestamp + self.gap)
            var list = sessions[record.key] ?? []
            // Widen until stable: the brute-force way.
            var changed = true
            while changed {
                changed = false
                for session in list where session.window.start <= merged.end && session.window.end >= merged.start {
                    let widened = Window(start: min(merged.start, session.window.start), end: max(merged.end, session.window.end))
                    if widened != merged { merged = widened; changed = true }
                }
            }
            if expired(merged, watermark) {
                late += 1
            } else {
                let absorbed = list.filter { $0.window.start >= merged.start && $0.window.end <= merged.end }
                list.removeAll { $0.window.start >= merged.start && $0.window.end <= merged.end }
                let sum = absorbed.reduce(record.value) { $0 + $1.sum }
                let isLate = watermark.map { merged.end - 1 <= $0 } ?? false
                list.append(Session(window: merged, sum: sum, fired: isLate))
                sessions[record.key] = list
                if isLate { emitted[name(record.key, merged), default: []].append(sum) }
            }
            let candidate = record.timestamp - self.disorderMs - 1
            if candidate > (watermark ?? Int64.min) { advance(to: candidate) }
        }
        advance(to: Int64.max)
        return (emitted, late)
    }
}

/// The model of sliding windows: per key and distinct event time `t`, the sum of the key's accepted
/// records in `(t - size, t]`, emitted when the watermark reaches `t`, and again for each record
/// within the allowed lateness that joins it.
struct SlidingOracle {
    let size: Int64
    let disorderMs: Int64
    let latenessMs: Int64

    func run(_ records: [InputRecord]) -> (emitted: [String: [Int64]], late: Int) {
        var entries: [String: [(Int64, Int64)]] = [:]
        var pending: Set<String> = []
        var pendingList: [(key: String, time: Int64)] = []
        var emitted: [String: [Int64]] = [:]
        var late = 0
        var watermark: Int64?
        func name(_ key: String, _ time: Int64) -> String { "\(key)\(Window(start: time - self.size + 1, end: time + 1))" }
        func sum(_ key: String, _ time: Int64) -> Int64 {
            (entries[key] ?? []).filter { $0.0 > time - self.size && $0.0 <= time }.reduce(0) { $0 + $1.1 }
        }
        func expired(_ time: Int64, _ watermark: Int64?) -> Bool {
            guard let watermark else { return false }
            return watermark == Int64.max || time + self.latenessMs <= watermark
        }
        func advance(to newWatermark: Int64) {
            watermark = newWatermark
            let due = pendingList.filter { $0.time <= newWatermark }.sorted { $0.time < $1.time }
            pendingList.removeAll { $0.time <= newWatermark }
            for (key, time) in due where pending.remove(name(key, time)) != nil {
                emitted[name(key, time), default: []].append(sum(key, time))
            }
        }
        for record in records {
            if expired(record.timestamp, watermark) {
                late += 1
            } else {
                entries[record.key, default: []].append((record.timestamp, record.value))
                if let watermark, record.timestamp <= watermark {
                    var ends = Set((entries[record.key] ?? []).map(\.0).filter { $0 >= record.timestamp && $0 < record.timestamp + self.size && $0 <= watermark })
                    ends.insert(record.timestamp)
                    for end in ends.sorted() where !expired(end, watermark) { emitted[name(record.key, end), default: []].append(sum(record.key, end)) }
                } else if pending.insert(name(record.key, record.timestamp)).inserted {
                    pendingList.append((record.key, record.timestamp))
                }
            }
            let candidate = record.timestamp - self.disorderMs - 1
            if candidate > (watermark ?? Int64.min) { advance(to: candidate) }
        }
        advance(to: Int64.max)
        return (emitted, late)
    }
}
