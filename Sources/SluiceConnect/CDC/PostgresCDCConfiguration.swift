/// What `sluice cdc postgres` captures and how.
public struct PostgresCDCConfiguration: Sendable {
    public enum SnapshotMode: String, Sendable, CaseIterable {
        /// Snapshot the tables once (consistent with the slot), then stream.
        case initial
        /// Stream only, from the slot's creation on.
        case never
        /// Snapshot, then stop.
        case initialOnly = "initial_only"
    }

    public var connection: PgConnectionConfig
    public var publication: String
    public var slot: String
    /// `schema.table` or `table` (schema public).
    public var tables: [String]
    public var snapshotMode: SnapshotMode = .initial
    /// Topic names are `<topicPrefix>.<schema>.<table>`; also `source.name` in events.
    public var topicPrefix: String

    /// Rows fetched per cursor round trip in the snapshot: bounds the memory a chunk takes.
    public var snapshotChunkRowCount = 10_000
    /// Events buffered before a flush is forced inside a long transaction or a fast stream.
    public var flushEventCountMax = 50_000
    /// Bytes of keys and values of an open transaction's events held before they are written, as
    /// for `flushEventCountMax`: rows can be large (up to `CDCLogWriter.eventBytesMax` each).
    public var flushBytesMax = 64 * 1024 * 1024
    /// The longest time between two syncs while changes keep arriving (syncs otherwise wait until
    /// everything received so far is processed, to cover as much as possible at once).
    public var flushIntervalMax: Duration = .milliseconds(20)
    /// First and longest pause between reconnection attempts (doubling in between).
    public var reconnectDelayMin: Duration = .milliseconds(100)
    public var reconnectDelayMax: Duration = .seconds(5)
    /// Consecutive failed reconnection attempts before giving up.
    public var reconnectAttemptCountMax = 60

    public init(connection: PgConnectionConfig, publication: String, slot: String, tables: [String], snapshotMode: SnapshotMode = .initial, topicPrefix: String) {
        self.connection = connection
        self.publication = publication
        self.slot = slot
        self.tables = tables
        self.snapshotMode = snapshotMode
        self.topicPrefix = topicPrefix
    }

    /// Checks names before anything connects.
    public func validate() throws(CDCError) {
        guard !self.slot.isEmpty, self.slot.utf8.count <= 63, self.slot.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }) else {
            throw CDCError(.invalidConfiguration, "slot name '\(self.slot)' must have 1 to 63 lower-case letters, digits or underscores")
        }
        guard !self.publication.isEmpty else { throw CDCError(.invalidConfiguration, "the publication name is empty") }
        guard !self.tables.isEmpty else { throw CDCError(.invalidConfiguration, "no tables to capture") }
        guard !self.topicPrefix.isEmpty else { throw CDCError(.invalidConfiguration, "the topic prefix is empty") }
        for table in self.tables {
            let parts = table.split(separator: ".", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
                throw CDCError(.invalidConfiguration, "table '\(table)' is not schema.table")
            }
        }
    }

    /// The (schema, table) pairs.
    var qualifiedTables: [(schema: String, name: String)] {
        self.tables.map { table in
            let parts = table.split(separator: ".").map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : ("public", parts[0])
        }
    }

    /// `<prefix>.<schema>.<table>`, with characters a topic name cannot hold replaced by `_`.
    func topic(schema: String, table: String) -> String {
        let raw = "\(self.topicPrefix).\(schema).\(table)"
        return String(raw.map { character -> Character in
            character.isASCII && (character.isLetter || character.isNumber || character == "." || character == "_" || character == "-") ? character : "_"
        })
    }
}
