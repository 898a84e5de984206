import NIOCore

/// One column of a tuple in pgoutput's TupleData.
public enum TupleValue: Sendable, Equatable {
    case null
    /// A TOASTed value that did not change and was not sent.
    case unchangedToast
    /// The value in text format: a slice of the received message, not a copy.
    case text(ByteBuffer)
}

/// A column of a Relation message.
public struct RelationColumn: Sendable, Equatable {
    /// Part of the replica identity key.
    public var isKey: Bool
    public var name: String
    public var typeOID: UInt32
    public var typeModifier: Int32

    public init(isKey: Bool, name: String, typeOID: UInt32, typeModifier: Int32) {
        self.isKey = isKey
        self.name = name
        self.typeOID = typeOID
        self.typeModifier = typeModifier
    }
}

public struct RelationMessage: Sendable, Equatable {
    public var relationID: UInt32
    public var namespace: String
    public var name: String
    /// `d` default, `n` nothing, `f` full, `i` index.
    public var replicaIdentity: UInt8
    public var columns: [RelationColumn]
}

/// The messages of the pgoutput logical decoding plugin, protocol version 1.
public enum PgOutputMessage: Sendable, Equatable {
    case begin(finalLSN: LSN, commitTimeMicros: Int64, xid: UInt32)
    case commit(flags: UInt8, commitLSN: LSN, endLSN: LSN, commitTimeMicros: Int64)
    case origin(commitLSN: LSN, name: String)
    case relation(RelationMessage)
    case type(oid: UInt32, namespace: String, name: String)
    case insert(relationID: UInt32, new: [TupleValue])
    /// `oldKind` is `K` (old key columns, the key changed), `O` (old row, REPLICA IDENTITY FULL) or nil.
    case update(relationID: UInt32, oldKind: UInt8?, old: [TupleValue]?, new: [TupleValue])
    case delete(relationID: UInt32, oldKind: UInt8, old: [TupleValue])
    case truncate(options: UInt8, relationIDs: [UInt32])
    case message(transactional: Bool, lsn: LSN, prefix: String, content: [UInt8])

    /// Timestamps in pgoutput count microseconds from 2000-01-01.
    public static func unixMillis(fromPostgresMicros micros: Int64) -> Int64 { (micros + postgresEpochOffsetMicros) / 1000 }

    public static func decode(_ buffer: ByteBuffer) throws(CDCError) -> PgOutputMessage {
        var body = buffer
        guard let kind = body.readInteger(as: UInt8.self) else { throw CDCError(.protocolViolation, "empty pgoutput message") }
        func truncated() -> CDCError { CDCError(.protocolViolation, "truncated pgoutput message '\(Character(Unicode.Scalar(kind)))'") }
        switch kind {
        case UInt8(ascii: "B"):
            guard let lsn = body.readInteger(as: UInt64.self), let time = body.readInteger(as: Int64.self),
                  let xid = body.readInteger(as: UInt32.self) else { throw truncated() }
            return .begin(finalLSN: LSN(lsn), commitTimeMicros: time, xid: xid)
        case UInt8(ascii: "C"):
            guard let flags = body.readInteger(as: UInt8.self), let commit = body.readInteger(as: UInt64.self),
                  let end = body.readInteger(as: UInt64.self), let time = body.readInteger(as: Int64.self) else { throw truncated() }
            return .commit(flags: flags, commitLSN: LSN(commit), endLSN: LSN(end), commitTimeMicros: time)
        case UInt8(ascii: "O"):
            guard let lsn = body.readInteger(as: UInt64.self), let name = body.readNullTerminated() else { throw truncated() }
            return .origin(commitLSN: LSN(lsn), name: name)
        case UInt8(ascii: "R"):
            guard let id = body.readInteger(as: UInt32.self), let namespace = body.readNullTerminated(), let name = body.readNullTerminated(),
                  let identity = body.readInteger(as: UInt8.self), let count = body.readInteger(as: Int16.self), count >= 0 else { throw truncated() }
            var columns: [RelationColumn] = []
            for _ in 0..<count {
                guard let flags = body.readInteger(as: UInt8.self), let columnName = body.readNullTerminated(),
                      let type = body.readInteger(as: UInt32.self), let modifier = body.readInteger(as: Int32.self) else { throw truncated() }
                columns.append(RelationColumn(isKey: flags & 1 != 0, name: columnName, typeOID: type, typeModifier: modifier))
            }
            return .relation(RelationMessage(relationID: id, namespace: namespace, name: name, replicaIdentity: identity, columns: columns))
        case UInt8(ascii: "Y"):
            guard let oid = body.readInteger(as: UInt32.self), let namespace = body.readNullTerminated(),
                  let name = body.readNullTerminated() else { throw truncated() }
            return .type(oid: oid, namespace: namespace, name: name)
        case UInt8(ascii: "I"):
            guard let id = body.readInteger(as: UInt32.self), body.readInteger(as: UInt8.self) == UInt8(ascii: "N") else { throw truncated() }
            return .insert(relationID: id, new: try Self.tuple(&body))
        case UInt8(ascii: "U"):
            guard let id = body.readInteger(as: UInt32.self), var marker = body.readInteger(as: UInt8.self) else { throw truncated() }
            var oldKind: UInt8?
            var old: [TupleValue]?
            if marker == UInt8(ascii: "K") || marker == UInt8(ascii: "O") {
                oldKind = marker
                old = try Self.tuple(&body)
                guard let next = body.readInteger(as: UInt8.self) else { throw truncated() }
                marker = next
            }
            guard marker == UInt8(ascii: "N") else { throw CDCError(.protocolViolation, "pgoutput Update without a new tuple") }
            return .update(relationID: id, oldKind: oldKind, old: old, new: try Self.tuple(&body))
        case UInt8(ascii: "D"):
            guard let id = body.readInteger(as: UInt32.self), let marker = body.readInteger(as: UInt8.self),
                  marker == UInt8(ascii: "K") || marker == UInt8(ascii: "O") else { throw truncated() }
            return .delete(relationID: id, oldKind: marker, old: try Self.tuple(&body))
        case UInt8(ascii: "T"):
            guard let count = body.readInteger(as: Int32.self), count >= 0, let options = body.readInteger(as: UInt8.self) else { throw truncated() }
            var ids: [UInt32] = []
            for _ in 0..<count {
                guard let id = body.readInteger(as: UInt32.self) else { throw truncated() }
                ids.append(id)
            }
            return .truncate(options: options, relationIDs: ids)
        case UInt8(ascii: "M"):
            guard let flags = body.readInteger(as: UInt8.self), let lsn = body.readInteger(as: UInt64.self),
                  let prefix = body.readNullTerminated(), let length = body.readInteger(as: Int32.self), length >= 0,
                  let content = body.readBytes(length: Int(length)) else { throw truncated() }
            return .message(transactional: flags & 1 != 0, lsn: LSN(lsn), prefix: prefix, content: content)
        default:
            throw CDCError(.protocolViolation, "unknown pgoutput message '\(Character(Unicode.Scalar(kind)))'")
        }
    }

    static func tuple(_ body: inout ByteBuffer) throws(CDCError) -> [TupleValue] {
        guard let count = body.readInteger(as: Int16.self), count >= 0 else { throw CDCError(.protocolViolation, "truncated TupleData") }
        var values: [TupleValue] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let kind = body.readInteger(as: UInt8.self) else { throw CDCError(.protocolViolation, "truncated TupleData") }
            switch kind {
            case UInt8(ascii: "n"): values.append(.null)
            case UInt8(ascii: "u"): values.append(.unchangedToast)
            case UInt8(ascii: "t"):
                guard let length = body.readInteger(as: Int32.self), length >= 0,
                      let bytes = body.readSlice(length: Int(length)) else { throw CDCError(.protocolViolation, "truncated TupleData") }
                values.append(.text(bytes))
            default:
                throw CDCError(.protocolViolation, "TupleData column kind '\(Character(Unicode.Scalar(kind)))' (binary is not requested)")
            }
        }
        return values
    }
}
