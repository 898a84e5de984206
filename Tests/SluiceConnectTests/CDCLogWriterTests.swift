import Foundation
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

    /// A decision naming records that did not survive the crash (here: never written to t.b) is not
    /// followed: the transaction's surviving part in t.a is aborted, not committed alone.
    @Test(arguments: [false, true])
    func aDecisionIsFollowedOnlyWhenAllItsRecordsSurvived(allSurvived: Bool) throws {
        let directory = TemporaryDirectory(prefix: "cdc-decision")
        defer { directory.remove() }
        do {
            let log = try Log(directory: directory.path)
            let writer = CDCLogWriter(log: log, name: "test")
            try writer.prepare(topics: ["t.a", "t.b"])
            // Create both topics with a committed transaction each.
            try writer.append(Self.event("t.a", lsn: 100, sequence: 0))
            try writer.append(Self.event("t.b", lsn: 100, sequence: 1))
            try writer.flush()
            // By hand, what a crash between the appends and the syncs can leave: t.a's batch, the decision.
            let a = try log.partition(TopicPartition("t.a", 0))
            var batch = RecordBatchBuilder()
            batch.isTransactional = true
            batch.producerId = writer.producerId
            batch.producerEpoch = writer.epoch
            batch.baseSequence = 1
            batch.append(ProducerRecord(key: Array(#"{"id":2}"#.utf8), value: Array("{}".utf8),
                                        headers: [("pg.lsn", Array("200".utf8)), ("pg.seq", Array("0".utf8))], timestamp: 0))
            let appended = try a.append(try batch.build())
            let bEnd = try log.partition(TopicPartition("t.b", 0)).logEndOffset
            let decision = CDCLogWriter.Decision(epoch: writer.epoch, partitions: [
                .init(topic: "t.a", firstOffset: appended.baseOffset, lastOffset: appended.lastOffset),
                .init(topic: "t.b", firstOffset: bEnd - (allSurvived ? 2 : 0), lastOffset: bEnd - (allSurvived ? 2 : 0)),
            ])
            var record = RecordBatchBuilder()
            record.append(ProducerRecord(key: Array("decision".utf8), value: Array(try JSONEncoder().encode(decision)), timestamp: 0))
            _ = try log.partition(TopicPartition(writer.decisionTopic, 0)).append(try record.build())
            log.abandon()
        }
        let log = try Log(directory: directory.path)
        defer { try? log.close() }
        let writer = CDCLogWriter(log: log, name: "test")
        try writer.prepare(topics: ["t.a", "t.b"])
        let positions = try readEvents(log, "t.a").map(\.lsn)
        #expect(positions == (allSurvived ? [100, 200] : [100]))
    }

    /// A flush's commit markers are written after its sync; until a later sync covers them, later
    /// decisions keep naming their transactions, so a crash that loses such a marker still commits
    /// what the slot was told is durable.
    @Test func decisionsCarryTransactionsWhoseMarkersAreNotSyncedYet() throws {
        let directory = TemporaryDirectory(prefix: "cdc-carry")
        defer { directory.remove() }
        let log = try Log(directory: directory.path)
        defer { try? log.close() }
        let writer = CDCLogWriter(log: log, name: "test")
        try writer.prepare(topics: ["t.a", "t.b"])
        try writer.append(Self.event("t.a", lsn: 100, sequence: 0))
        try writer.append(Self.event("t.b", lsn: 100, sequence: 1))
        try writer.flush()
        let first = try #require(try writer.lastDecision())
        let bEntry = try #require(first.partitions.first { $0.topic == "t.b" })
        // The next transaction touches t.a only: t.b's marker was synced by nothing since.
        try writer.append(Self.event("t.a", lsn: 200, sequence: 0))
        try writer.flush()
        let second = try #require(try writer.lastDecision())
        #expect(second.partitions.map(\.topic).sorted() == ["t.a", "t.b"])
        #expect(second.partitions.first { $0.topic == "t.b" } == bEntry)
        // That flush synced t.b too: the one after no longer carries it.
        try writer.append(Self.event("t.a", lsn: 300, sequence: 0))
        try writer.flush()
        #expect(try writer.lastDecision()?.partitions.map(\.topic) == ["t.a"])
    }
}
