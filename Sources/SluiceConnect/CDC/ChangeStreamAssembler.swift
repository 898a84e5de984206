import Foundation

/// Turns pgoutput messages into change events: a pure state machine (no I/O) that knows the
/// relations announced so far, the open transaction, and how each change becomes events:
/// insert → c; update → u, or, when the key changed, d + tombstone + c; delete → d + tombstone;
/// truncate → t per table.
struct ChangeStreamAssembler {
    struct Transaction {
        var commitLSN: LSN
        var xid: UInt32
        var commitTimeMs: Int64
        var nextSequence: Int64 = 0
    }

    enum Outcome: Equatable {
        case none
        /// Events were added for the open transaction.
        case events
        /// The transaction ended; everything before `endLSN` has been delivered.
        case committed(endLSN: LSN)
    }

    /// Captured tables by "schema.name".
    let tables: [String: CapturedTable]
    var types: PgTypeRegistry
    var encoder: ChangeEventEncoder
    private(set) var relations: [UInt32: RelationShape] = [:]
    private(set) var transaction: Transaction?

    init(tables: [CapturedTable], types: PgTypeRegistry, encoder: ChangeEventEncoder) {
        self.tables = Dictionary(tables.map { ("\($0.schema).\($0.name)", $0) }, uniquingKeysWith: { first, _ in first })
        self.types = types
        self.encoder = encoder
    }

    var isInTransaction: Bool { self.transaction != nil }

    /// Handles one message; appends the events it yields to `events`.
    mutating func receive(_ message: PgOutputMessage, walStart: LSN, nowMs: Int64, into events: inout [ChangeEvent]) throws(CDCError) -> Outcome {
        switch message {
        case .begin(let finalLSN, let commitTime, let xid):
            self.transaction = Transaction(commitLSN: finalLSN, xid: xid, commitTimeMs: PgOutputMessage.unixMillis(fromPostgresMicros: commitTime))
            return .none
        case .commit(_, _, let endLSN, _):
            guard self.transaction != nil else { throw CDCError(.protocolViolation, "pgoutput Commit without Begin") }
            self.transaction = nil
            return .committed(endLSN: endLSN)
        case .origin, .message:
            return .none
        case .type:
            // A user type (enum, domain): its values come as text; unknown types become strings.
            return .none
        case .relation(let relation):
            let key = relation.namespace.isEmpty ? "pg_catalog.\(relation.name)" : "\(relation.namespace).\(relation.name)"
            guard let table = self.tables[key] else { return .none }
            self.relations[relation.relationID] = RelationShape(
                table: table, columnNames: relation.columns.map(\.name), typeOIDs: relation.columns.map(\.typeOID),
                types: self.types)
            return .none
        case .insert(let id, let new):
            guard let shape = self.relations[id] else { return .none }
            try self.emit(op: "c", before: nil, after: new, keyRow: new, shape: shape, walStart: walStart, nowMs: nowMs, into: &events)
            return .events
        case .update(let id, let oldKind, let old, var new):
            guard let shape = self.relations[id] else { return .none }
            if let old, oldKind == UInt8(ascii: "O") {
                // REPLICA IDENTITY FULL: unchanged TOASTed values are in the old row.
                for index in new.indices where new[index] == .unchangedToast && index < old.count { new[index] = old[index] }
            }
            if let old, self.encoder.keysDiffer(old, new, shape: shape), !shape.keyIndices.isEmpty {
                try self.emit(op: "d", before: old, after: nil, keyRow: old, shape: shape, walStart: walStart, nowMs: nowMs, into: &events)
                try self.emitTombstone(keyRow: old, shape: shape, into: &events)
                try self.emit(op: "c", before: nil, after: new, keyRow: new, shape: shape, walStart: walStart, nowMs: nowMs, into: &events)
            } else {
                let before = oldKind == UInt8(ascii: "O") ? old : nil
                try self.emit(op: "u", before: before, after: new, keyRow: new, shape: shape, walStart: walStart, nowMs: nowMs, into: &events)
            }
            return .events
        case .delete(let id, _, let old):
            guard let shape = self.relations[id] else { return .none }
            try self.emit(op: "d", before: old, after: nil, keyRow: old, shape: shape, walStart: walStart, nowMs: nowMs, into: &events)
            try self.emitTombstone(keyRow: old, shape: shape, into: &events)
            return .events
        case .truncate(_, let ids):
            var any = false
            for id in ids {
                guard let shape = self.relations[id], var transaction = self.transaction else { continue }
                let source = SourceInfo(schema: shape.table.schema, table: shape.table.name, txId: transaction.xid, lsn: walStart,
                                        commitTimeMs: transaction.commitTimeMs, snapshot: "false")
                let value = try self.encoder.value(op: "t", before: nil, after: nil, shape: shape, source: source, nowMs: nowMs)
                events.append(ChangeEvent(topic: shape.table.topic, key: nil, value: value,
                                          position: EventPosition(lsn: transaction.commitLSN, sequence: transaction.nextSequence),
                                          timestampMs: transaction.commitTimeMs))
                transaction.nextSequence += 1
                self.transaction = transaction
                any = true
            }
            return any ? .events : .none
        }
    }

    private mutating func emit(op: String, before: [TupleValue]?, after: [TupleValue]?, keyRow: [TupleValue], shape: RelationShape,
                               walStart: LSN, nowMs: Int64, into events: inout [ChangeEvent]) throws(CDCError) {
        guard var transaction = self.transaction else { throw CDCError(.protocolViolation, "a pgoutput change outside a transaction") }
        guard keyRow.count == shape.columnNames.count else {
            throw CDCError(.protocolViolation, "a row of \(shape.table.schema).\(shape.table.name) has \(keyRow.count) columns, its relation \(shape.columnNames.count)")
        }
        let source = SourceInfo(schema: shape.table.schema, table: shape.table.name, txId: transaction.xid, lsn: walStart,
                                commitTimeMs: transaction.commitTimeMs, snapshot: "false")
        let value = try self.encoder.value(op: op, before: before, after: after, shape: shape, source: source, nowMs: nowMs)
        events.append(ChangeEvent(topic: shape.table.topic, key: try self.encoder.key(keyRow, shape: shape), value: value,
                                  position: EventPosition(lsn: transaction.commitLSN, sequence: transaction.nextSequence),
                                  timestampMs: transaction.commitTimeMs))
        transaction.nextSequence += 1
        self.transaction = transaction
    }

    private mutating func emitTombstone(keyRow: [TupleValue], shape: RelationShape, into events: inout [ChangeEvent]) throws(CDCError) {
        guard var transaction = self.transaction, let key = try self.encoder.key(keyRow, shape: shape) else { return }
        events.append(ChangeEvent(topic: shape.table.topic, key: key, value: nil,
                                  position: EventPosition(lsn: transaction.commitLSN, sequence: transaction.nextSequence),
                                  timestampMs: transaction.commitTimeMs))
        transaction.nextSequence += 1
        self.transaction = transaction
    }
}
