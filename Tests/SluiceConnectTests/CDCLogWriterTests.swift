import NIOCore
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport
@testable import SluiceConnect

@Suite struct CDCLogWriterTests {
    static func event(_ topic: String, lsn: UInt64, sequence: Int64, value: String? = "{}") -> ChangeEvent {
        ChangeEvent(topic: topic, key: Array(#"{"id":1}"#.utf8), value: value.map { Array($0.utf8) },
                    position: EventPosition(lsn: LSN(lsn), sequence: sequence), timestampMs: 0)
    }

    @Test func aRestartedWriterDropsWhatTheLogHolds() throws {
        let directory = TemporaryDirectory(prefix: "cdc-writer")
        defer { directory.remove() }
        do {
            let log = try Log(directory: directory.path)
            let writer = CDCLogWriter(log: log, name: "test")
            try writer.prepare(topics: ["t.a", "t.b"])
            for sequence in 0..<3 { #expect(try writer.append(Self.event("t.a", lsn: 100, sequence: Int64(sequence)))) }
            #expect(try writer.append(Self.event("t.b", lsn: 100, sequence: 3, value: nil)))
            try writer.flush()
            // Half of the next transaction reached the log before a crash.
            #expect(try writer.append(Self.event("t.a", lsn: 200, sequence: 0)))
            try writer.flush()
            // A large event is appended at once, in a log transaction that the crash leaves undecided.
            #expect(try writer.append(Self.event("t.b", lsn: 200, sequence: 1, value: "\"" + String(repeating: "x", count: 600_000) + "\"")))
            log.abandon()
        }
        let log = try Log(directory: directory.path)
        defer { try? log.close() }
        let writer = CDCLogWriter(log: log, name: "test")
        try writer.prepare(topics: ["t.a", "t.b"])
        #expect(writer.epoch == 1)
        // PostgreSQL resends both transactions: only what is missing is written.
        var taken: [Bool] = []
        for (topic, lsn, sequence) in [("t.a", 100, 0), ("t.a", 100, 1), ("t.a", 100, 2), ("t.b", 100, 3), ("t.a", 200, 0), ("t.b", 200, 1), ("t.a", 200, 2)] {
            taken.append(try writer.append(Self.event(topic, lsn: UInt64(lsn), sequence: Int64(sequence))))
        }
        #expect(taken == [false, false, false, false, false, true, true])
        #expect(writer.skippedEventCount == 5)
        try writer.flush()
        let a = try readEvents(log, "t.a")
        #expect(a.map { EventPosition(lsn: LSN($0.lsn), sequence: $0.sequence) } == [100, 100, 100, 200, 200].enumerated().map { index, lsn in
            EventPosition(lsn: LSN(UInt64(lsn)), sequence: [0, 1, 2, 0, 2][index])
        })
        let b = try readEvents(log, "t.b")
        #expect(b.count == 2, "the undecided large event was aborted; its resent copy committed")
        #expect(b.last?.value != nil)
        #expect(b.first?.value == nil, "a tombstone keeps its null value")
    }

    @Test func connectorStateRoundTrips() throws {
        let directory = TemporaryDirectory(prefix: "cdc-state")
        defer { directory.remove() }
        let log = try Log(directory: directory.path)
        defer { try? log.close() }
        #expect(try ConnectorState.read(log: log, slot: "s") == nil)
        try ConnectorState(slot: "s", snapshot: .started, consistentPoint: nil, tables: ["public.a"]).write(log: log)
        let done = ConnectorState(slot: "s", snapshot: .done, consistentPoint: "0/16B3748", tables: ["public.a"])
        try done.write(log: log)
        #expect(try ConnectorState.read(log: log, slot: "s") == done)
    }
}
