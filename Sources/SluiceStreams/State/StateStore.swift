import NIOCore
import SluiceCore
import SluiceLog

/// A task's state that survives restarts: kept in memory, every change written to a compacted
/// changelog topic, with local snapshots so that a restart replays only the changelog's tail.
///
/// The interface deals in encoded entries so that an on-disk store can stand in later.
protocol StateStore: AnyObject {
    var name: String { get }
    /// The changelog topic; the task's partition of it holds this task's entries.
    var changelogTopic: String { get }
    /// Entries held.
    var entryCount: Int { get }
    /// Loads the snapshot (if any) and replays the changelog after it.
    func restore(_ context: TaskContext) throws
    /// Writes changed entries to the changelog (through the thread's producer, so within the transaction).
    func flush(_ context: TaskContext)
    /// Writes a local snapshot of what the changelog holds up to `changelogOffset`.
    func snapshot(_ context: TaskContext, changelogOffset: Int64) throws
}

/// A key-value store: latest value per key (aggregations without windows, tables).
final class KeyValueStore<Key: Hashable, Value>: StateStore {
    let name: String
    let changelogTopic: String
    private(set) var entries: [Key: Value] = [:]
    private var dirty: Set<Key> = []
    let keySerde: Serde<Key>
    let valueSerde: Serde<Value>

    init(name: String, changelogTopic: String, keySerde: Serde<Key>, valueSerde: Serde<Value>) {
        self.name = name
        self.changelogTopic = changelogTopic
        self.keySerde = keySerde
        self.valueSerde = valueSerde
    }

    subscript(key: Key) -> Value? {
        get { self.entries[key] }
        set {
            self.entries[key] = newValue
            self.dirty.insert(key)
        }
    }

    var entryCount: Int { self.entries.count }

    func flush(_ context: TaskContext) {
        guard !self.dirty.isEmpty else { return }
        let partition = context.taskId.partition
        for key in self.dirty {
            let value = self.entries[key].map { self.valueSerde.serialize($0) ?? [] }
            context.send(topic: self.changelogTopic, partition: partition, key: self.keySerde.serialize(key) ?? [], value: value,
                         timestamp: context.processingTimeMs)
        }
        context.metrics.changelogRecords.increment(by: self.dirty.count)
        self.dirty.removeAll(keepingCapacity: true)
    }

    func restore(_ context: TaskContext) throws {
        self.entries.removeAll()
        self.dirty.removeAll()
        try restoreChangelog(context, store: self.name, topic: self.changelogTopic) { key, value in
            let decoded = try self.keySerde.deserialize(key)
            if let value {
                self.entries[decoded] = try self.valueSerde.deserialize(value)
            } else {
                self.entries.removeValue(forKey: decoded)
            }
        }
    }

    func snapshot(_ context: TaskContext, changelogOffset: Int64) throws {
        let file = StoreSnapshotFile(directory: context.stateDirectory, task: context.taskId, store: self.name)
        try file.write(changelogOffset: changelogOffset, entries: self.entries.map { (self.keySerde.serialize($0.key) ?? [], self.valueSerde.serialize($0.value) ?? []) })
    }
}

/// Calls `body` for each data record of a fetch at or after `offset`, skipping control batches and,
/// under read_committed, aborted transactions; reports where to read next.
func forEachRecord(in fetched: FetchResult, from offset: Int64, isolation: IsolationLevel, _ body: (Record) throws -> Void,
                   nextOffset: (Int64) -> Void) throws {
    var batches = RecordBatchSequence(fetched.records)
    while let batch = try batches.next() {
        nextOffset(batch.nextOffset)
        if batch.isControl { continue }
        if isolation == .readCommitted && fetched.isAborted(batch) { continue }
        var reader = try batch.recordReader()
        while let record = try reader.next() {
            if record.offset >= offset { try body(record) }
        }
    }
}
