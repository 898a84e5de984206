import Foundation
import NIOCore
import SluiceJSON
import Testing
@testable import SluiceConnect

/// pgoutput messages built byte by byte, as the protocol documentation lays them out.
struct PgOutputBytes {
    var buffer = ByteBuffer()

    init(_ kind: Character) { self.buffer.writeInteger(UInt8(ascii: kind.unicodeScalars.first!)) }

    mutating func int8(_ value: UInt8) { self.buffer.writeInteger(value) }
    mutating func int16(_ value: Int16) { self.buffer.writeInteger(value) }
    mutating func int32(_ value: UInt32) { self.buffer.writeInteger(value) }
    mutating func int64(_ value: UInt64) { self.buffer.writeInteger(value) }
    mutating func string(_ value: String) {
        self.buffer.writeString(value)
        self.buffer.writeInteger(UInt8(0))
    }

    /// TupleData: nil is 'n', "\u{0}" stands for 'u' (unchanged TOAST), anything else is 't'.
    mutating func tuple(_ values: [String?]) {
        self.int16(Int16(values.count))
        for value in values {
            switch value {
            case nil: self.int8(UInt8(ascii: "n"))
            case "\u{0}": self.int8(UInt8(ascii: "u"))
            case let text?:
                self.int8(UInt8(ascii: "t"))
                self.int32(UInt32(text.utf8.count))
                self.buffer.writeString(text)
            }
        }
    }
}

@Suite struct PgOutputDecoderTests {
    static func begin(lsn: UInt64, xid: UInt32) -> PgOutputBytes {
        var message = PgOutputBytes("B")
        message.int64(lsn)
        message.int64(1_000_000)
        message.int32(xid)
        return message
    }

    static func relation() -> PgOutputBytes {
        var message = PgOutputBytes("R")
        message.int32(16_384)
        message.string("public")
        message.string("items")
        message.int8(UInt8(ascii: "d"))
        message.int16(3)
        for (flags, name, type) in [(UInt8(1), "id", UInt32(23)), (0, "name", 25), (0, "doc", 3802)] {
            message.int8(flags)
            message.string(name)
            message.int32(type)
            message.int32(UInt32(bitPattern: -1))
        }
        return message
    }

    @Test func decodesEveryMessageKind() throws {
        #expect(try PgOutputMessage.decode(Self.begin(lsn: 0x1234, xid: 77).buffer) == .begin(finalLSN: LSN(0x1234), commitTimeMicros: 1_000_000, xid: 77))

        var commit = PgOutputBytes("C")
        commit.int8(0)
        commit.int64(0x1234)
        commit.int64(0x1300)
        commit.int64(5)
        #expect(try PgOutputMessage.decode(commit.buffer) == .commit(flags: 0, commitLSN: LSN(0x1234), endLSN: LSN(0x1300), commitTimeMicros: 5))

        guard case .relation(let relation) = try PgOutputMessage.decode(Self.relation().buffer) else {
            Issue.record("expected a Relation")
            return
        }
        #expect(relation.namespace == "public")
        #expect(relation.name == "items")
        #expect(relation.columns.map(\.name) == ["id", "name", "doc"])
        #expect(relation.columns.map(\.isKey) == [true, false, false])
        #expect(relation.columns[2].typeOID == 3802)

        var insert = PgOutputBytes("I")
        insert.int32(16_384)
        insert.int8(UInt8(ascii: "N"))
        insert.tuple(["1", nil, "\u{0}"])
        #expect(try PgOutputMessage.decode(insert.buffer) == .insert(relationID: 16_384, new: [.text(ByteBuffer(string: "1")), .null, .unchangedToast]))

        var update = PgOutputBytes("U")
        update.int32(16_384)
        update.int8(UInt8(ascii: "K"))
        update.tuple(["1", nil, nil])
        update.int8(UInt8(ascii: "N"))
        update.tuple(["2", "b", "{}"])
        #expect(try PgOutputMessage.decode(update.buffer) == .update(
            relationID: 16_384, oldKind: UInt8(ascii: "K"), old: [.text(ByteBuffer(string: "1")), .null, .null],
            new: [.text(ByteBuffer(string: "2")), .text(ByteBuffer(string: "b")), .text(ByteBuffer(string: "{}"))]))

        var plainUpdate = PgOutputBytes("U")
        plainUpdate.int32(16_384)
        plainUpdate.int8(UInt8(ascii: "N"))
        plainUpdate.tuple(["2"])
        #expect(try PgOutputMessage.decode(plainUpdate.buffer) == .update(relationID: 16_384, oldKind: nil, old: nil, new: [.text(ByteBuffer(string: "2"))]))

        var delete = PgOutputBytes("D")
        delete.int32(16_384)
        delete.int8(UInt8(ascii: "O"))
        delete.tuple(["2", "b", nil])
        #expect(try PgOutputMessage.decode(delete.buffer) == .delete(relationID: 16_384, oldKind: UInt8(ascii: "O"),
                                                                     old: [.text(ByteBuffer(string: "2")), .text(ByteBuffer(string: "b")), .null]))

        var truncate = PgOutputBytes("T")
        truncate.int32(2)
        truncate.int8(1)
        truncate.int32(16_384)
        truncate.int32(16_390)
        #expect(try PgOutputMessage.decode(truncate.buffer) == .truncate(options: 1, relationIDs: [16_384, 16_390]))

        var origin = PgOutputBytes("O")
        origin.int64(9)
        origin.string("upstream")
        #expect(try PgOutputMessage.decode(origin.buffer) == .origin(commitLSN: LSN(9), name: "upstream"))

        var type = PgOutputBytes("Y")
        type.int32(90_000)
        type.string("public")
        type.string("mood")
        #expect(try PgOutputMessage.decode(type.buffer) == .type(oid: 90_000, namespace: "public", name: "mood"))

        var logical = PgOutputBytes("M")
        logical.int8(1)
        logical.int64(10)
        logical.string("app")
        logical.int32(2)
        logical.buffer.writeBytes([0x68, 0x69])
        #expect(try PgOutputMessage.decode(logical.buffer) == .message(transactional: true, lsn: LSN(10), prefix: "app", content: [0x68, 0x69]))
    }

    @Test func rejectsTruncatedMessages() {
        var insert = PgOutputBytes("I")
        insert.int32(16_384)
        insert.int8(UInt8(ascii: "N"))
        insert.int16(2)
        insert.int8(UInt8(ascii: "t"))
        insert.int32(10)
        #expect(throws: CDCError.self) { try PgOutputMessage.decode(insert.buffer) }
        #expect(throws: CDCError.self) { try PgOutputMessage.decode(ByteBuffer(bytes: [UInt8(ascii: "Z")])) }
    }

    @Test func replicationMessages() throws {
        var keepalive = ByteBuffer()
        keepalive.writeInteger(UInt8(ascii: "k"))
        keepalive.writeInteger(UInt64(0x50))
        keepalive.writeInteger(Int64(3))
        keepalive.writeInteger(UInt8(1))
        guard case .primaryKeepalive(let end, _, let reply) = try ReplicationMessage.decode(keepalive) else {
            Issue.record("expected a keepalive")
            return
        }
        #expect(end == LSN(0x50))
        #expect(reply)
        let status = ReplicationMessage.standbyStatusUpdate(written: LSN(1), flushed: LSN(2), applied: LSN(3), nowMicrosSinceUnixEpoch: postgresEpochOffsetMicros + 7)
        #expect(status.count == 34)
        #expect(status[0] == UInt8(ascii: "r"))
        #expect(Array(status[9..<17]) == [0, 0, 0, 0, 0, 0, 0, 2])
        #expect(Array(status[25..<33]) == [0, 0, 0, 0, 0, 0, 0, 7])
    }

    static func json(_ bytes: [UInt8]?) throws -> [String: Any]? {
        guard let bytes else { return nil }
        return try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }

    @Test func assemblerTurnsAKeyChangeIntoDeleteTombstoneCreate() throws {
        let table = CapturedTable(schema: "public", name: "items", topic: "pg.public.items", primaryKey: ["id"])
        var assembler = ChangeStreamAssembler(tables: [table], types: PgTypeRegistry(), encoder: ChangeEventEncoder(name: "pg", database: "db"))
        var events: [ChangeEvent] = []
        #expect(try assembler.receive(try PgOutputMessage.decode(Self.relation().buffer), walStart: LSN(1), nowMs: 0, into: &events) == .none)
        _ = try assembler.receive(try PgOutputMessage.decode(Self.begin(lsn: 0x99, xid: 5).buffer), walStart: LSN(1), nowMs: 0, into: &events)
        var update = PgOutputBytes("U")
        update.int32(16_384)
        update.int8(UInt8(ascii: "K"))
        update.tuple(["1", nil, nil])
        update.int8(UInt8(ascii: "N"))
        update.tuple(["2", "b", "\u{0}"])
        #expect(try assembler.receive(try PgOutputMessage.decode(update.buffer), walStart: LSN(2), nowMs: 0, into: &events) == .events)
        #expect(events.count == 3)
        #expect(events.map(\.position.sequence) == [0, 1, 2])
        #expect(events.allSatisfy { $0.position.lsn == LSN(0x99) && $0.topic == "pg.public.items" })
        #expect(String(decoding: events[0].key!, as: UTF8.self) == #"{"id":1}"#)
        #expect(try Self.json(events[0].value)?["op"] as? String == "d")
        #expect(events[1].value == nil)
        #expect(String(decoding: events[1].key!, as: UTF8.self) == #"{"id":1}"#)
        let create = try #require(try Self.json(events[2].value))
        #expect(create["op"] as? String == "c")
        #expect(String(decoding: events[2].key!, as: UTF8.self) == #"{"id":2}"#)
        let after = try #require(create["after"] as? [String: Any])
        #expect(after["doc"] as? String == ChangeEventEncoder.unavailableValuePlaceholder)
        let source = try #require(create["source"] as? [String: Any])
        #expect(source["txId"] as? Int == 5)
        #expect(source["table"] as? String == "items")
        #expect(source["connector"] as? String == "postgresql")
        var commit = PgOutputBytes("C")
        commit.int8(0)
        commit.int64(0x99)
        commit.int64(0xA0)
        commit.int64(5)
        #expect(try assembler.receive(try PgOutputMessage.decode(commit.buffer), walStart: LSN(3), nowMs: 0, into: &events) == .committed(endLSN: LSN(0xA0)))
        #expect(!assembler.isInTransaction)
    }
}
