import Foundation
import SluiceJSON

/// What the `source` block of an event says.
struct SourceInfo {
    var schema: String
    var table: String
    var txId: UInt32?
    var lsn: LSN
    var commitTimeMs: Int64
    /// "true" for snapshot rows, "false" for streamed changes.
    var snapshot: String
}

/// Encodes rows as Debezium-envelope JSON events and keys.
struct ChangeEventEncoder {
    /// The connector's logical name (`source.name`), the topic prefix.
    let name: String
    let database: String
    static let version = "sluice-0.1"
    /// What stands for an unchanged TOASTed value that the server did not send (Debezium's marker).
    static let unavailableValuePlaceholder = "__debezium_unavailable_value"
    /// Reused for every event: its storage grows to the largest event and stays.
    private var writer = JSONWriter(reservingCapacity: 1024)

    init(name: String, database: String) {
        self.name = name
        self.database = database
    }

    mutating func key(_ row: [TupleValue], shape: RelationShape) throws(CDCError) -> [UInt8]? {
        guard !shape.keyIndices.isEmpty else { return nil }
        self.writer.reset()
        self.writer.beginObject()
        for index in shape.keyIndices {
            self.writer.key(shape.columnNames[index])
            try Self.write(row[index], kind: shape.kinds[index], to: &self.writer)
        }
        self.writer.endObject()
        return self.writer.bytes
    }

    func keysDiffer(_ old: [TupleValue], _ new: [TupleValue], shape: RelationShape) -> Bool {
        shape.keyIndices.contains { index in
            if case .unchangedToast = new[index] { return false }
            return old[index] != new[index]
        }
    }

    mutating func value(op: String, before: [TupleValue]?, after: [TupleValue]?, shape: RelationShape, source: SourceInfo, nowMs: Int64) throws(CDCError) -> [UInt8] {
        self.writer.reset()
        try Self.envelope(op: op, before: before, after: after, shape: shape, source: source, nowMs: nowMs,
                          name: self.name, database: self.database, to: &self.writer)
        return self.writer.bytes
    }

    private static func envelope(op: String, before: [TupleValue]?, after: [TupleValue]?, shape: RelationShape, source: SourceInfo,
                                 nowMs: Int64, name: String, database: String, to writer: inout JSONWriter) throws(CDCError) {
        writer.beginObject()
        writer.key("before")
        try Self.row(before, shape: shape, to: &writer)
        writer.key("after")
        try Self.row(after, shape: shape, to: &writer)
        writer.key("source")
        writer.beginObject()
        writer.key("version"); writer.string(Self.version)
        writer.key("connector"); writer.string("postgresql")
        writer.key("name"); writer.string(name)
        writer.key("ts_ms"); writer.int64(source.commitTimeMs)
        writer.key("snapshot"); writer.string(source.snapshot)
        writer.key("db"); writer.string(database)
        writer.key("schema"); writer.string(source.schema)
        writer.key("table"); writer.string(source.table)
        writer.key("txId")
        if let txId = source.txId { writer.int64(Int64(txId)) } else { writer.null() }
        writer.key("lsn"); writer.uint64(source.lsn.rawValue)
        writer.endObject()
        writer.key("op"); writer.string(op)
        writer.key("ts_ms"); writer.int64(nowMs)
        writer.endObject()
    }

    private static func row(_ row: [TupleValue]?, shape: RelationShape, to writer: inout JSONWriter) throws(CDCError) {
        guard let row else { return writer.null() }
        guard row.count == shape.columnNames.count else {
            throw CDCError(.protocolViolation, "a row of \(shape.table.schema).\(shape.table.name) has \(row.count) columns, its relation \(shape.columnNames.count)")
        }
        writer.beginObject()
        for index in 0..<row.count {
            writer.key(shape.columnNames[index])
            try Self.write(row[index], kind: shape.kinds[index], to: &writer)
        }
        writer.endObject()
    }

    private static func write(_ value: TupleValue, kind: PgValueKind, to writer: inout JSONWriter) throws(CDCError) {
        switch value {
        case .null: writer.null()
        case .unchangedToast: writer.string(Self.unavailableValuePlaceholder)
        case .text(let bytes): try PgValueConverter.write(bytes, kind: kind, to: &writer)
        }
    }
}
