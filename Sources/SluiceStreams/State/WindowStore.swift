import NIOCore
import SluiceCore
import SluiceLog

/// The state of aligned windows (tumbling, hopping, cumulate, global): per window, per key, the
/// window's state. Windows are kept in order of end, so that the watermark fires and expires them
/// from the front.
@usableFromInline
final class WindowStore<Key: Hashable, Accumulator>: StateStore {
    let name: String
    @usableFromInline let changelogTopic: String
    @usableFromInline let keySerde: Serde<Key>
    @usableFromInline let accumulatorSerde: Serde<Accumulator>

    /// One window's entries. A class, so that an update finds it with one lookup and changes it in place.
    @usableFromInline
    final class Bucket {
        @usableFromInline var entries: [HashedKey<Key>: WindowState<Accumulator>] = [:]
        /// Keys changed since the last flush, each once (`WindowState.isDirty` says whether it is listed).
        @usableFromInline var dirtyKeys: [HashedKey<Key>] = []
        @usableFromInline init() {}
    }

    /// Windows with state, ascending by (end, start).
    @usableFromInline var windows: [Window] = []
    @usableFromInline var buckets: [Window: Bucket] = [:]
    /// Buckets with changes since the last flush.
    @usableFromInline var dirtyBuckets: [(Window, Bucket)] = []
    @usableFromInline var dirtyBucketSet: Set<Window> = []
    /// Keys of windows dropped since the last flush: tombstones to write.
    @usableFromInline var removed: [(Window, [HashedKey<Key>])] = []
    @usableFromInline var entryCount = 0

    /// `flushEntries(_:)` specialised in the pipeline's module, when the DSL made one.
    let flushSpecialized: ((WindowStore, TaskContext) -> Void)?

    @usableFromInline
    init(name: String, changelogTopic: String, keySerde: Serde<Key>, accumulatorSerde: Serde<Accumulator>,
         flushSpecialized: ((WindowStore, TaskContext) -> Void)? = nil) {
        self.name = name
        self.changelogTopic = changelogTopic
        self.keySerde = keySerde
        self.accumulatorSerde = accumulatorSerde
        self.flushSpecialized = flushSpecialized
    }

    @inlinable
    subscript(window: Window, key: HashedKey<Key>) -> WindowState<Accumulator>? {
        self.buckets[window]?.entries[key]
    }

    /// The buckets used last (a record's windows are mostly the previous record's): found by comparing
    /// a few windows rather than hashing.
    @usableFromInline var recentWindows: [Window] = []
    @usableFromInline var recentBuckets: [Bucket] = []
    @usableFromInline static var recentCountMax: Int { 8 }

    @inlinable
    func bucket(_ window: Window) -> Bucket {
        for index in self.recentWindows.indices where self.recentWindows[index] == window { return self.recentBuckets[index] }
        let bucket: Bucket
        if let existing = self.buckets[window] {
            bucket = existing
        } else {
            bucket = Bucket()
            self.buckets[window] = bucket
            self.insertWindow(window)
        }
        if self.recentWindows.count >= Self.recentCountMax {
            self.recentWindows.removeFirst()
            self.recentBuckets.removeFirst()
        }
        self.recentWindows.append(window)
        self.recentBuckets.append(bucket)
        return bucket
    }

    /// Updates (or creates) the state of `key` in `window`.
    @inlinable @inline(__always)
    func update(_ window: Window, _ key: HashedKey<Key>, initial: () -> Accumulator, _ body: (inout WindowState<Accumulator>) -> Void) {
        let bucket = self.bucket(window)
        let before = bucket.entries.count
        var needsListing = false
        bucket.entries[key, default: WindowState(accumulator: initial(), pendingCount: 0)].withDirtyFlag { state in
            body(&state)
            if !state.isDirty {
                state.isDirty = true
                needsListing = true
            }
        }
        if bucket.entries.count != before { self.entryCount += 1 }
        if needsListing {
            bucket.dirtyKeys.append(key)
            if self.dirtyBucketSet.insert(window).inserted { self.dirtyBuckets.append((window, bucket)) }
        }
    }

    /// Resets the pending count of an entry after an emission; written with the next flush.
    @inlinable
    func markEmitted(_ window: Window, _ key: HashedKey<Key>) {
        guard let bucket = self.buckets[window], let index = bucket.entries.index(forKey: key) else { return }
        self.markEmitted(window, bucket, at: index)
    }

    /// Hands `body` each entry of `window` with pending records, and marks it emitted. In place: iterating a
    /// copy of the entries while marking them made the first mark copy the whole window.
    @inlinable
    func emitPending(in window: Window, _ body: (HashedKey<Key>, WindowState<Accumulator>) -> Void) {
        guard let bucket = self.buckets[window] else { return }
        var index = bucket.entries.startIndex
        while index != bucket.entries.endIndex {
            if bucket.entries.values[index].pendingCount > 0 {
                body(bucket.entries.keys[index], bucket.entries.values[index])
                self.markEmitted(window, bucket, at: index)
            }
            bucket.entries.formIndex(after: &index)
        }
    }

    @inlinable
    func markEmitted(_ window: Window, _ bucket: Bucket, at index: Dictionary<HashedKey<Key>, WindowState<Accumulator>>.Index) {
        bucket.entries.values[index].pendingCount = 0
        guard !bucket.entries.values[index].isDirty else { return }
        bucket.entries.values[index].isDirty = true
        bucket.dirtyKeys.append(bucket.entries.keys[index])
        if self.dirtyBucketSet.insert(window).inserted { self.dirtyBuckets.append((window, bucket)) }
    }

    /// Drops a whole window (expired), writing tombstones for its keys.
    @usableFromInline
    func removeWindow(_ window: Window) {
        guard let bucket = self.buckets.removeValue(forKey: window) else { return }
        if let index = self.recentWindows.firstIndex(of: window) {
            self.recentWindows.remove(at: index)
            self.recentBuckets.remove(at: index)
        }
        self.entryCount -= bucket.entries.count
        self.removed.append((window, Array(bucket.entries.keys)))
        bucket.dirtyKeys.removeAll()
        if let index = self.windows.firstIndex(of: window) { self.windows.remove(at: index) }
    }

    @usableFromInline
    func insertWindow(_ window: Window) {
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
        if let flushSpecialized { flushSpecialized(self, context) } else { self.flushEntries(context) }
    }

    /// `flush(_:)`'s work, specialised in the pipeline's module when the DSL made a closure for it: as generic
    /// code it looked up type metadata for every entry.
    @inlinable
    final func flushEntries(_ context: TaskContext) {
        guard let slot = context.ownPartitionSlot(of: self.changelogTopic) else { return }
        let timestamp = context.processingTimeMs
        var written = 0
        for (window, bucket) in self.dirtyBuckets where self.buckets[window] === bucket {
            for key in bucket.dirtyKeys {
                // One lookup per entry: the flag is cleared and the state read through its index.
                guard let index = bucket.entries.index(forKey: key) else { continue }
                bucket.entries.values[index].isDirty = false
                let value = WindowCodec.encodeValue(bucket.entries.values[index], self.accumulatorSerde)
                context.send(slot: slot, key: WindowCodec.encodeKey(key.key, window, self.keySerde), value: value, timestamp: timestamp)
                written += 1
            }
            bucket.dirtyKeys.removeAll(keepingCapacity: true)
        }
        self.dirtyBuckets.removeAll(keepingCapacity: true)
        self.dirtyBucketSet.removeAll(keepingCapacity: true)
        for (window, keys) in self.removed {
            for key in keys {
                context.send(slot: slot, key: WindowCodec.encodeKey(key.key, window, self.keySerde), value: nil, timestamp: timestamp)
            }
            written += keys.count
        }
        self.removed.removeAll(keepingCapacity: true)
        context.metrics.changelogRecords.increment(by: written)
    }

    func restore(_ context: TaskContext) throws {
        self.windows.removeAll()
        self.buckets.removeAll()
        self.recentWindows.removeAll()
        self.recentBuckets.removeAll()
        self.dirtyBuckets.removeAll()
        self.dirtyBucketSet.removeAll()
        self.removed.removeAll()
        self.entryCount = 0
        try restoreChangelog(context, store: self.name, topic: self.changelogTopic) { key, value in
            let windowed = try WindowCodec.decodeKey(key, self.keySerde)
            if let value {
                var state = try WindowCodec.decodeValue(value, self.accumulatorSerde)
                state.isDirty = false
                if self.bucket(windowed.window).entries.updateValue(state, forKey: HashedKey(windowed.key)) == nil { self.entryCount += 1 }
            } else if let bucket = self.buckets[windowed.window], bucket.entries.removeValue(forKey: HashedKey(windowed.key)) != nil {
                self.entryCount -= 1
                if bucket.entries.isEmpty {
                    self.recentWindows.removeAll()
                    self.recentBuckets.removeAll()
                    self.buckets.removeValue(forKey: windowed.window)
                    if let index = self.windows.firstIndex(of: windowed.window) { self.windows.remove(at: index) }
                }
            }
        }
    }

    func snapshot(_ context: TaskContext, changelogOffset: Int64) throws {
        let file = StoreSnapshotFile(directory: context.stateDirectory, task: context.taskId, store: self.name)
        var entries: [([UInt8], [UInt8])] = []
        entries.reserveCapacity(self.entryCount)
        for (window, bucket) in self.buckets {
            for (key, state) in bucket.entries {
                entries.append((WindowCodec.encodeKey(key.key, window, self.keySerde),
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
