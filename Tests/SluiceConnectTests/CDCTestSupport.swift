import Foundation
import NIOCore
import SluiceConnect
import SluiceCore
import SluiceLog
import Testing
import _SluiceTestSupport

/// One event as read back from a table topic.
struct LoggedEvent: @unchecked Sendable {
    var offset: Int64
    var key: [String: Any]?
    var keyText: String?
    var value: [String: Any]?
    var lsn: UInt64
    var sequence: Int64

    var op: String? { self.value?["op"] as? String }
    var after: [String: Any]? { self.value?["after"] as? [String: Any] }
    var before: [String: Any]? { self.value?["before"] as? [String: Any] }
}

/// Every record of a topic, decoded.
func readEvents(_ log: Log, _ topic: String) throws -> [LoggedEvent] {
    guard log.topicNames.contains(topic) else { return [] }
    let partition = try log.partition(TopicPartition(topic, 0))
    var offset = partition.startOffset
    var events: [LoggedEvent] = []
    while offset < partition.logEndOffset {
        let (records, next) = try partition.readRecords(from: offset, maxBytes: 4 * 1024 * 1024, isolation: .readCommitted)
        guard next > offset else { break }
        for record in records {
            var lsn: UInt64 = 0
            var sequence: Int64 = 0
            for header in record.headers {
                let text = header.value.map { String(decoding: $0.readableBytesView, as: UTF8.self) } ?? ""
                if header.key == "pg.lsn" { lsn = UInt64(text) ?? 0 }
                if header.key == "pg.seq" { sequence = Int64(text) ?? 0 }
            }
            let keyBytes = record.key.map { Data($0.readableBytesView) }
            events.append(LoggedEvent(
                offset: record.offset,
                key: try keyBytes.flatMap { try JSONSerialization.jsonObject(with: $0) as? [String: Any] },
                keyText: keyBytes.map { String(decoding: $0, as: UTF8.self) },
                value: try record.value.flatMap { try JSONSerialization.jsonObject(with: Data($0.readableBytesView)) as? [String: Any] },
                lsn: lsn, sequence: sequence))
        }
        offset = next
    }
    return events
}

/// The table a topic describes: key text → the last `after` row (deleted keys removed).
func replay(_ events: [LoggedEvent]) -> [String: [String: Any]] {
    var rows: [String: [String: Any]] = [:]
    for event in events {
        guard let key = event.keyText else { continue }
        switch event.op {
        case "r", "c", "u": rows[key] = event.after
        case "d": rows[key] = nil
        default: break
        }
    }
    return rows
}

/// Positions strictly increase within a topic: no event is there twice, and they are in commit order.
/// Snapshot rows share one position (the slot's consistent point, sequence -1).
func positionsStrictlyIncrease(_ events: [LoggedEvent]) -> Bool {
    zip(events, events.dropFirst()).allSatisfy { earlier, later in
        (earlier.lsn, earlier.sequence) < (later.lsn, later.sequence)
            || (earlier.sequence == -1 && later.sequence == -1 && earlier.lsn == later.lsn)
    }
}

/// Flags set from the connector's progress callback.
final class ProgressFlags: @unchecked Sendable {
    private let lock = NSLock()
    private var streamingCount = 0
    private var reconnects = 0
    private var snapshotChunks = 0

    func record(_ progress: PostgresCDCConnector.Progress) {
        self.lock.withLock {
            switch progress {
            case .streaming: self.streamingCount += 1
            case .reconnecting: self.reconnects += 1
            case .snapshotTable: self.snapshotChunks += 1
            default: break
            }
        }
    }

    var streamingSessions: Int { self.lock.withLock { self.streamingCount } }
    var reconnectCount: Int { self.lock.withLock { self.reconnects } }
    var snapshotChunkCount: Int { self.lock.withLock { self.snapshotChunks } }

    /// Waits without holding a thread of the tests' pool (`eventually`).
    func waitForStreaming(sessions: Int = 1, timeout: Duration = .seconds(60)) async -> Bool {
        await eventually(timeout: timeout, every: .milliseconds(20)) { self.streamingSessions >= sessions }
    }
}

/// A connector running in this process over its own log, until `stop()`.
final class RunningConnector: @unchecked Sendable {
    let log: Log
    let connector: PostgresCDCConnector
    let flags = ProgressFlags()
    private var task: Task<Void, any Error>?

    init(dataDirectory: String, configuration: PostgresCDCConfiguration) throws {
        self.log = try Log(directory: dataDirectory)
        let flags = self.flags
        self.connector = PostgresCDCConnector(configuration: configuration, log: self.log, onProgress: { flags.record($0) })
        let connector = self.connector
        // Above the tests' own priority: each priority has its own threads in Swift's pool (one per
        // core each), and CPU-bound tests running beside this one at the default priority would
        // otherwise hold the connector for as long as they run.
        self.task = Task(priority: .high) { try await connector.run() }
    }

    /// Stops the connector; returns its error, if it failed.
    @discardableResult
    func stop() async -> (any Error)? {
        self.task?.cancel()
        var failure: (any Error)?
        do { try await self.task?.value } catch { failure = error }
        try? self.log.close()
        return failure
    }

    /// Waits for the connector to end by itself (an error, or initial_only).
    func result() async -> (any Error)? {
        do {
            try await self.task?.value
            return nil
        } catch {
            return error
        }
    }
}

func configuration(_ server: PostgresServer, tables: [String], slot: String = "sluice", mode: PostgresCDCConfiguration.SnapshotMode = .initial) -> PostgresCDCConfiguration {
    var configuration = PostgresCDCConfiguration(connection: server.connection(), publication: "sluice_pub", slot: slot, tables: tables,
                                                 snapshotMode: mode, topicPrefix: "pg")
    configuration.reconnectDelayMax = .seconds(1)
    return configuration
}
