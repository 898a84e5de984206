import HeapModule
import NIOCore

/// Session windows per key, each with its state, plus the order in which sessions complete.
@usableFromInline
final class SessionStore<Key: Hashable, Accumulator>: StateStore {
    let name: String
    let changelogTopic: String
    @usableFromInline let keySerde: Serde<Key>
    let accumulatorSerde: Serde<Accumulator>

    @usableFromInline
    struct Session {
        @usableFromInline var window: Window
        @usableFromInline var state: WindowState<Accumulator>

        @inlinable init(window: Window, state: WindowState<Accumulator>) {
            self.window = window
            self.state = state
        }
    }

    /// Sessions of each key, ascending by start, never overlapping nor touching.
    @usableFromInline var sessions: [Key: [Session]] = [:]
    /// When sessions complete; entries whose session merged away or was removed are skipped when popped.
    @usableFromInline var timers = Heap<SessionTimer<Key>>()
    /// Sessions changed (written) or gone (tombstoned) since the last flush.
    @usableFromInline var dirty: Set<Windowed<Key>> = []
    /// Sessions created since the last flush: one that goes again before the flush (merged into a
    /// longer one, as a growing session does with every record) never reached the changelog and needs
    /// no tombstone.
    @usableFromInline var fresh: Set<Windowed<Key>> = []

    /// A session that is gone: a tombstone unless it never reached the changelog.
    @inlinable
    func forget(_ key: Key, _ window: Window) {
        let windowed = Windowed(key: key, window: window)
        if self.fresh.remove(windowed) != nil {
            self.dirty.remove(windowed)
        } else {
            self.dirty.insert(windowed)
        }
    }
    @usableFromInline var entryCount = 0

    @usableFromInline
    init(name: String, changelogTopic: String, keySerde: Serde<Key>, accumulatorSerde: Serde<Accumulator>) {
        self.name = name
        self.changelogTopic = changelogTopic
        self.keySerde = keySerde
        self.accumulatorSerde = accumulatorSerde
    }

    @inlinable
    func state(_ key: Key, _ window: Window) -> WindowState<Accumulator>? {
        self.sessions[key]?.first { $0.window == window }?.state
    }

    /// The session `window` would become if merged now, without changing anything.
    @inlinable
    func mergedWindow(_ key: Key, _ window: Window) -> Window {
        var merged = window
        guard let list = self.sessions[key] else { return merged }
        for entry in list where entry.window.start <= merged.end && entry.window.end >= merged.start {
            merged = Window(start: min(merged.start, entry.window.start), end: max(merged.end, entry.window.end))
        }
        return merged
    }

    /// Merges `window` with the sessions of `key` it touches or overlaps (as Flink), their states
    /// combined by `merge` and then updated by `body`, in place. Returns the resulting session.
    @inlinable
    func add(_ key: Key, _ window: Window, initial: () -> Accumulator, merge: (inout Accumulator, Accumulator) -> Void,
             _ body: (inout WindowState<Accumulator>) -> Void) -> Window {
        var result = window
        var removedWindows: (Window?, Window?) = (nil, nil)
        var extraRemoved: [Window] = []
        var created = false
        var absorbed = 0
        self.sessions[key, default: []].withUnsafeMutableSessionList { list in
            // Sessions are sorted and disjoint: the ones `window` reaches are contiguous.
            var first = list.count
            var last = -1
            for index in list.indices.reversed() {
                let entry = list[index].window
                if entry.end < window.start { break }
                if entry.start <= window.end {
                    first = index
                    if last < 0 { last = index }
                }
            }
            if last < 0 {
                var state = WindowState(accumulator: initial(), pendingCount: 0)
                body(&state)
                let position = list.firstIndex { $0.window.start > window.start } ?? list.count
                list.insert(Session(window: window, state: state), at: position)
                created = true
                return
            }
            var merged = list[first]
            merged.window = Window(start: min(merged.window.start, window.start), end: max(merged.window.end, window.end))
            if merged.window != list[first].window { removedWindows.0 = list[first].window }
            for index in (first + 1)..<(last + 1) {
                let other = list[index]
                merge(&merged.state.accumulator, other.state.accumulator)
                merged.state.pendingCount += other.state.pendingCount
                merged.window = Window(start: min(merged.window.start, other.window.start), end: max(merged.window.end, other.window.end))
                if removedWindows.1 == nil { removedWindows.1 = other.window } else { extraRemoved.append(other.window) }
                absorbed += 1
            }
            body(&merged.state)
            result = merged.window
            list[first] = merged
            if last > first { list.removeSubrange((first + 1)...last) }
        }
        if created {
            self.entryCount += 1
        } else {
            self.entryCount -= absorbed
            if let gone = removedWindows.0, gone != result { self.forget(key, gone) }
            if let gone = removedWindows.1 { self.forget(key, gone) }
            for gone in extraRemoved { self.forget(key, gone) }
        }
        if created || removedWindows.0 != nil || removedWindows.1 != nil { self.fresh.insert(Windowed(key: key, window: result)) }
        self.dirty.insert(Windowed(key: key, window: result))
        // A new session, or one whose bounds changed (a new identity), needs its completion timer.
        if created || removedWindows.0 != nil || removedWindows.1 != nil {
            self.timers.insert(SessionTimer(time: result.maxTimestamp, key: key, window: result))
        }
        return result
    }

    @inlinable
    func update(_ key: Key, _ window: Window, _ body: (inout WindowState<Accumulator>) -> Void) {
        var found = false
        self.sessions[key]?.withUnsafeMutableSessionList { list in
            guard let index = list.lastIndex(where: { $0.window == window }) else { return }
            body(&list[index].state)
            found = true
        }
        if found { self.dirty.insert(Windowed(key: key, window: window)) }
    }

    @usableFromInline
    func remove(_ key: Key, _ window: Window) {
        var removed = false
        var empty = false
        self.sessions[key]?.withUnsafeMutableSessionList { list in
            guard let index = list.firstIndex(where: { $0.window == window }) else { return }
            list.remove(at: index)
            removed = true
            empty = list.isEmpty
        }
        guard removed else { return }
        if empty { self.sessions.removeValue(forKey: key) }
        self.entryCount -= 1
        self.forget(key, window)
    }

    /// The earliest pending timer, removed.
    @usableFromInline
    func popTimer(ifAtOrBefore time: Int64) -> SessionTimer<Key>? {
        guard let first = self.timers.min, first.time <= time else { return nil }
        return self.timers.removeMin()
    }

    /// Puts a timer back (the session still has a cleanup deadline ahead).
    @usableFromInline
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
        self.fresh.removeAll(keepingCapacity: true)
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
            self.sessions[windowed.key, default: []].append(Session(window: windowed.window, state: state))
            self.timers.insert(SessionTimer(time: windowed.window.maxTimestamp, key: windowed.key, window: windowed.window))
        }
        for key in Array(self.sessions.keys) { self.sessions[key]!.sort { $0.window.start < $1.window.start } }
        self.entryCount = restored.count
        self.dirty.removeAll()
        self.fresh.removeAll()
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

extension Array {
    /// Runs `body` on the array in place (a named step for the dictionary-value mutations above).
    @inlinable @inline(__always)
    mutating func withUnsafeMutableSessionList(_ body: (inout [Element]) -> Void) {
        body(&self)
    }
}

/// A session's next event-time deadline: its completion, then its cleanup after the allowed lateness.
@usableFromInline
struct SessionTimer<Key: Hashable>: Comparable {
    @usableFromInline var time: Int64
    @usableFromInline var key: Key
    @usableFromInline var window: Window

    @inlinable init(time: Int64, key: Key, window: Window) {
        self.time = time
        self.key = key
        self.window = window
    }

    @inlinable static func < (lhs: SessionTimer, rhs: SessionTimer) -> Bool { lhs.time < rhs.time }
    @inlinable static func == (lhs: SessionTimer, rhs: SessionTimer) -> Bool { lhs.time == rhs.time && lhs.window == rhs.window && lhs.key == rhs.key }
}
