/// Where an event sits in the stream of changes: the commit LSN of its transaction and its index
/// in that transaction (snapshot rows: the slot's consistent point and -1). Strictly increasing
/// within a topic, so that a restarted connector recognises what the log already holds.
public struct EventPosition: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var lsn: LSN
    public var sequence: Int64

    public init(lsn: LSN, sequence: Int64) {
        self.lsn = lsn
        self.sequence = sequence
    }

    public static func < (lhs: EventPosition, rhs: EventPosition) -> Bool {
        (lhs.lsn, lhs.sequence) < (rhs.lsn, rhs.sequence)
    }

    public var description: String { "\(self.lsn)#\(self.sequence)" }

    /// Record header names carrying the position.
    public static let lsnHeader = "pg.lsn"
    public static let sequenceHeader = "pg.seq"
}

/// One record for the log: a Debezium-envelope change event (or a tombstone, `value == nil`).
public struct ChangeEvent: Sendable {
    public var topic: String
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var position: EventPosition
    /// The commit time (snapshot rows: the read time), milliseconds since the epoch.
    public var timestampMs: Int64

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, position: EventPosition, timestampMs: Int64) {
        self.topic = topic
        self.key = key
        self.value = value
        self.position = position
        self.timestampMs = timestampMs
    }
}

/// A captured table as the catalog describes it.
public struct CapturedTable: Sendable, Hashable {
    public var schema: String
    public var name: String
    public var topic: String
    /// Primary-key column names in key order; empty for a table captured through REPLICA IDENTITY FULL.
    public var primaryKey: [String]

    public init(schema: String, name: String, topic: String, primaryKey: [String]) {
        self.schema = schema
        self.name = name
        self.topic = topic
        self.primaryKey = primaryKey
    }
}

/// A table's current shape: from a Relation message while streaming, from a RowDescription in the snapshot.
struct RelationShape {
    var table: CapturedTable
    var columnNames: [String]
    var kinds: [PgValueKind]
    /// Indices of the key columns; empty: the events have no key.
    var keyIndices: [Int]

    /// The key columns are the catalog's primary key (not the Relation message's replica-identity
    /// flags: under REPLICA IDENTITY FULL every column is flagged).
    init(table: CapturedTable, columnNames: [String], typeOIDs: [UInt32], types: PgTypeRegistry) {
        self.table = table
        self.columnNames = columnNames
        self.kinds = typeOIDs.map { types.kind(of: $0) }
        self.keyIndices = table.primaryKey.compactMap { columnNames.firstIndex(of: $0) }
    }
}
