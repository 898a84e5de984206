import NIOCore
import SluiceCore
import SluiceLog

/// The state of aligned windows (tumbling, hopping, cumulate, global): per window, per key, the
/// window's state. Windows are kept in order of end, so that the watermark fires and expires them
/// from the front.
final class WindowStore<Key: Hashable, Accumulator>: StateStore {
    let name: String
    let changelogTopic: String
    let keySerde: Serde<Key>
    let accumulatorSerde: Serde<Accumulator>

    /// Windows with state, ascending by (end, start).
    private(set) var windows: [Window] = []
    private var buckets: [Window: [Key: WindowState<Accumulator>]] = [:]
    private var dirty: Set<Windowed<Key>> = []
    private(set) var entryCount = 0

    init(name: String, changelogTopic: String, keySerde: Serde<Key>, accumulatorSerde: Serde<Accumulator>) {
        self.name = name
        self.changelogTopic = changelogTopic
        self.keySerde = keySerde
        self.accumulatorSerde = accumulatorSerde
    }

    subscript(window: Window, key: Key) -> WindowState<Accumulator>? {
        self.buckets[window]?[key]
    }

    /// Updates (or creates) the state of `key` in `window`.
    @inline(__always)
    func update(_ window: Window, _ key: Key, initial: () -> Accumulator, _ body: (inout WindowState<Accumulator>) -> Void) {
        if self.buckets[window] == nil { self.insertWindow(window) }
        let isNew = self.buckets[window]![key] == nil
        body(&self.buckets[window]![key, default: WindowState(accumulator: initial(), pendingCount: 0)])
        if isNew { self.entryCount += 1 }
        self.dirty.insert(Windowed(key: key, window: window))
    }

    func entries(of window: Window) -> [Key: WindowState<Accumulator>] {
        self.buckets[window] ?? [:]
    }

    /// Resets the pending count of an entry after an emission (not a state change worth a changelog write
    /// on its own, but written with the next one).
    func markEmitted(_ window: Window, _ key: Key) {
        self.buckets[window]?[key]?.pendingCount = 0
        self.dirty.insert(Windowed(key: key, window: window))
    }

    /// Drops a whole window (expired), writing tombstones for its keys.
    func removeWindow(_ window: Window) {
        guard let bucket = self.buckets.removeValue(forKey: window) else { return }
        self.entryCount -= bucket.count
        for key in bucket.keys { self.dirty.insert(Windowed(key: key, window: window)) }
        if let index = self.windows.firstIndex(of: window) { self.windows.remove(at: index) }
    }

    private func insertWindow(_ window: Window) {
        self.buckets[window] = [:]
        var low = 0
        var high = self.windows.count
        while low < high {
            let middle = (low + high) / 2
            if self.windows[middle] < window { low = middle + 1 } else { high = middle }
        }
        self.windows.insert(window, at: low)
    }

    // MARK: StateStore

    func flush(_ context: TaskContext) {
        guard !self.dirty.isEmpty else { return }
        let partition = context.taskId.partition
        for windowed in self.dirty {
            let value = self.buckets[windowed.window]?[windowed.key].map { WindowCodec.encodeValue($0, self.accumulatorSerde) }
            context.send(topic: self.changelogTopic, partition: partition, key: WindowCodec.encodeKey(windowed, self.keySerde),
                         value: value, timestamp: context.processingTimeMs)
        }
        context.metrics.changelogRecords.increment(by: self.dirty.count)
        self.dirty.removeAll(keepingCapacity: true)
    }

    func restore(_ context: TaskContext) throws {
        self.windows.removeAll()
        self.buckets.removeAll()
        self.entryCount = 0
        try restoreChangelog(context, store: self.name, topic: self.changelogTopic) { key, value in
            let windowed = try WindowCodec.decodeKey(key, self.keySerde)
            if let value {
                let state = try WindowCodec.decodeValue(value, self.accumulatorSerde)
                if self.buckets[windowed.window] == nil { self.insertWindow(windowed.window) }
                if self.buckets[windowed.window]!.updateValue(state, forKey: windowed.key) == nil { self.entryCount += 1 }
            } else if self.buckets[windowed.window]?.removeValue(forKey: windowed.key) != nil {
                self.entryCount -= 1
                if self.buckets[windowed.window]!.isEmpty { self.removeWindow(windowed.window) }
            }
        }
        self.dirty.removeAll()
    }

    func snapshot(_ context: TaskContext, changelogOffset: Int64) throws {
        let file = StoreSnapshotFile(directory: context.stateDirectory, task: context.taskId, store: self.name)
        var entries: [([UInt8], [UInt8])] = []
        entries.reserveCapacity(self.entryCount)
        for (window, bucket) in self.buckets {
            for (key, state) in bucket {
                entries.append((WindowCodec.encodeKey(Windowed(key: key, window: window), self.keySerde),
                                WindowCodec.encodeValue(state, self.accumulatorSerde)))
            }
        }
        try file.write(changelogOffset: changelogOffset, entries: entries)
    }
}

/// Restores a store: its snapshot if one checks out, then the changelog after it; `apply` gets each
/// entry (a nil value is a deletion).
func restoreChangelog(_ context: TaskContext, store: String, topic: String, apply: (ByteBuffer, ByteBuffer?) throws -> Void) throws {
    let file = StoreSnapshotFile(directory: context.stateDirectory, task: context.taskId, store: store)
    let topicPartition = TopicPartition(topic, context.taskId.partition)
    let bounds = try context.client.offsets(of: topicPartition)
    var offset = bounds.start
    if let snapshot = file.load(), snapshot.changelogOffset >= bounds.start, snapshot.changelogOffset <= bounds.highWatermark {
        for (key, value) in snapshot.entries { try apply(key, value) }
        offset = snapshot.changelogOffset
    }
    let isolation: IsolationLevel = context.settings.guarantee == .exactlyOnce ? .readCommitted : .readUncommitted
    let end = isolation == .readCommitted ? bounds.lastStable : bounds.highWatermark
    var restored = 0
    while offset < end {
        let fetched = try context.client.fetch(topicPartition, from: offset, maxBytes: context.settings.fetchBytesMax, isolation: isolation)
        var next = offset
        try forEachRecord(in: fetched, from: offset, isolation: isolation) { record in
            guard let key = record.key else { return }
            try apply(key, record.value)
            restored += 1
        } nextOffset: { next = $0 }
        if next == offset { break }
        offset = next
    }
    context.metrics.restoredRecords.increment(by: restored)
}
