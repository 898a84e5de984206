import HeapModule
import NIOCore

/// Session windows per key, each with its state, plus the order in which sessions complete.
final class SessionStore<Key: Hashable, Accumulator>: StateStore {
    let name: String
    let changelogTopic: String
    let keySerde: Serde<Key>
    let accumulatorSerde: Serde<Accumulator>

    /// Sessions of each key, ascending by start, never overlapping.
    private(set) var sessions: [Key: [(window: Window, state: WindowState<Accumulator>)]] = [:]
    /// When sessions complete; entries whose session merged away or was removed are skipped when popped.
    private(set) var timers = Heap<SessionTimer<Key>>()
    private var dirty: Set<Windowed<Key>> = []
    private(set) var entryCount = 0

    init(name: String, changelogTopic: String, keySerde: Serde<Key>, accumulatorSerde: Serde<Accumulator>) {
        self.name = name
        self.changelogTopic = changelogTopic
        self.keySerde = keySerde
        self.accumulatorSerde = accumulatorSerde
    }

    func state(_ key: Key, _ window: Window) -> WindowState<Accumulator>? {
        self.sessions[key]?.first { $0.window == window }?.state
    }

    /// The session `window` would become if merged now, without changing anything.
    func mergedWindow(_ key: Key, _ window: Window) -> Window {
        var merged = window
        for entry in self.sessions[key] ?? [] where entry.window.start <= merged.end && entry.window.end >= merged.start {
            merged = Window(start: min(merged.start, entry.window.start), end: max(merged.end, entry.window.end))
        }
        return merged
    }

    /// Replaces the sessions of `key` that `window` intersects (touching counts, as in Flink) with one
    /// session covering them all, whose state `merge` computes from theirs. Returns the new session.
    func mergeInto(_ key: Key, _ window: Window, merge: ([WindowState<Accumulator>]) -> WindowState<Accumulator>) -> Window {
        var list = self.sessions[key] ?? []
        var merged = window
        var states: [WindowState<Accumulator>] = []
        // Sessions never overlap and are sorted by start, so one pass finds every session the widening
        // window reaches.
        list.removeAll { entry in
            guard entry.window.start <= merged.end && entry.window.end >= merged.start else { return false }
            merged = Window(start: min(merged.start, entry.window.start), end: max(merged.end, entry.window.end))
            states.append(entry.state)
            self.dirty.insert(Windowed(key: key, window: entry.window))
            return true
        }
        self.entryCount -= states.count
        let state = merge(states)
        let index = list.firstIndex { $0.window.start > merged.start } ?? list.count
        list.insert((merged, state), at: index)
        self.sessions[key] = list
        self.entryCount += 1
        self.dirty.insert(Windowed(key: key, window: merged))
        self.timers.insert(SessionTimer(time: merged.maxTimestamp, key: key, window: merged))
        return merged
    }

    func update(_ key: Key, _ window: Window, _ body: (inout WindowState<Accumulator>) -> Void) {
        guard var list = self.sessions[key], let index = list.firstIndex(where: { $0.window == window }) else { return }
        body(&list[index].state)
        self.sessions[key] = list
        self.dirty.insert(Windowed(key: key, window: window))
    }

    func remove(_ key: Key, _ window: Window) {
        guard var list = self.sessions[key], let index = list.firstIndex(where: { $0.window == window }) else { return }
        list.remove(at: index)
        self.sessions[key] = list.isEmpty ? nil : list
        self.entryCount -= 1
        self.dirty.insert(Windowed(key: key, window: window))
    }

    /// The earliest pending timer, removed.
    func popTimer(ifAtOrBefore time: Int64) -> SessionTimer<Key>? {
        guard let first = self.timers.min, first.time <= time else { return nil }
        return self.timers.removeMin()
    }

    /// Puts a timer back (the session still has a cleanup deadline ahead).
    func schedule(_ timer: SessionTimer<Key>) {
        self.timers.insert(timer)
    }

    // MARK: StateStore

    func flush(_ context: TaskContext) {
        guard !self.dirty.isEmpty else { return }
        for windowed in self.dirty {
            let value = self.state(windowed.key, windowed.window).map { WindowCodec.encodeValue($0, self.accumulatorSerde) }
            context.send(topic: self.changelogTopic, partition: context.taskId.partition, key: WindowCodec.encodeKey(windowed, self.keySerde),
                         value: value, timestamp: context.processingTimeMs)
        }
        context.metrics.changelogRecords.increment(by: self.dirty.count)
        self.dirty.removeAll(keepingCapacity: true)
    }

    func restore(_ context: TaskContext) throws {
        self.sessions.removeAll()
        self.timers = Heap()
        self.entryCount = 0
        var restored: [Windowed<Key>: WindowState<Accumulator>] = [:]
        try restoreChangelog(context, store: self.name, topic: self.changelogTopic) { key, value in
            let windowed = try WindowCodec.decodeKey(key, self.keySerde)
            restored[windowed] = try value.map { try WindowCodec.decodeValue($0, self.accumulatorSerde) }
        }
        for (windowed, state) in restored {
            self.sessions[windowed.key, default: []].append((windowed.window, state))
            self.timers.insert(SessionTimer(time: windowed.window.maxTimestamp, key: windowed.key, window: windowed.window))
        }
        for key in Array(self.sessions.keys) { self.sessions[key]!.sort { $0.window.start < $1.window.start } }
        self.entryCount = restored.count
        self.dirty.removeAll()
    }

    func snapshot(_ context: TaskContext, changelogOffset: Int64) throws {
        let file = StoreSnapshotFile(directory: context.stateDirectory, task: context.taskId, store: self.name)
        var entries: [([UInt8], [UInt8])] = []
        for (key, list) in self.sessions {
            for entry in list {
                entries.append((WindowCodec.encodeKey(Windowed(key: key, window: entry.window), self.keySerde),
                                WindowCodec.encodeValue(entry.state, self.accumulatorSerde)))
            }
        }
        try file.write(changelogOffset: changelogOffset, entries: entries)
    }
}

/// A session's next event-time deadline: its completion, then its cleanup after the allowed lateness.
struct SessionTimer<Key: Hashable>: Comparable {
    var time: Int64
    var key: Key
    var window: Window

    static func < (lhs: SessionTimer, rhs: SessionTimer) -> Bool { lhs.time < rhs.time }
    static func == (lhs: SessionTimer, rhs: SessionTimer) -> Bool { lhs.time == rhs.time && lhs.window == rhs.window && lhs.key == rhs.key }
}
