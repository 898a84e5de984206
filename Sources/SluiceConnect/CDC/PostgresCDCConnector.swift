import Foundation
import Logging
import NIOCore
import SluiceLog

/// Captures row changes of PostgreSQL tables into the log: creates the publication and the slot
/// when absent, takes an initial snapshot consistent with the slot, then streams the slot's
/// changes, confirming an LSN to PostgreSQL only once every change before it is synced in the log.
/// A lost connection is retried with exponential backoff; a restart resumes from the slot and skips
/// what the log already holds (see `CDCLogWriter`).
public final class PostgresCDCConnector: @unchecked Sendable {
    /// What the connector reports as it goes (for a progress display or a test).
    public enum Progress: Sendable {
        /// Rows of `table` written so far, and the catalog's estimate of its size (pg_class.reltuples; -1 unknown).
        case snapshotTable(table: String, rowCount: Int, estimatedRowCount: Int)
        case snapshotDone(consistentPoint: LSN, rowCount: Int)
        case streaming(slot: String)
        case confirmed(LSN)
        case reconnecting(attempt: Int, delay: Duration, reason: String)
    }

    public let configuration: PostgresCDCConfiguration
    let log: Log
    let writer: CDCLogWriter
    private let onProgress: (@Sendable (Progress) -> Void)?
    /// Called after each sync with the commit times (ms since the epoch) of the transactions it made durable.
    private let onDurable: (@Sendable ([Int64]) -> Void)?
    private let logger = Logger(label: "sluice.cdc.postgres")
    private let lock = NSLock()
    private var confirmed = LSN.zero
    private var failedAttemptCount = 0

    public init(configuration: PostgresCDCConfiguration, log: Log, onProgress: (@Sendable (Progress) -> Void)? = nil,
                onDurable: (@Sendable ([Int64]) -> Void)? = nil) {
        self.configuration = configuration
        self.log = log
        self.writer = CDCLogWriter(log: log, name: configuration.slot)
        self.onProgress = onProgress
        self.onDurable = onDurable
    }

    /// Where the writer's flushes (their fsyncs) run: off Swift's cooperative pool, whose few
    /// threads a broker running this connector (`sluice serve --connect-config`) needs.
    private let syncQueue = DispatchQueue(label: "sluice.cdc.sync")

    /// The writer's flush, on `syncQueue`; the connector does nothing else with the writer meanwhile.
    private func flushWriter() async throws(CDCError) {
        let result: Result<Void, CDCError> = await withCheckedContinuation { continuation in
            self.syncQueue.async { [self] in
                continuation.resume(returning: Result { () throws(CDCError) in try self.writer.flush() })
            }
        }
        try result.get()
    }

    /// The last LSN confirmed to PostgreSQL (everything before it is durable in the log).
    public var confirmedLSN: LSN { self.lock.withLock { self.confirmed } }

    /// Runs until cancelled (or, in snapshot mode initial_only, until the snapshot is done).
    public func run() async throws(CDCError) {
        try self.configuration.validate()
        var delay = self.configuration.reconnectDelayMin
        while true {
            do {
                try await self.session()
                try await self.flushWriter()
                return
            } catch where error.code == .connectionLost {
                try await self.flushWriter()
                if Task.isCancelled { return }
                let attempt = self.lock.withLock { () -> Int in
                    self.failedAttemptCount += 1
                    return self.failedAttemptCount
                }
                if attempt == 1 { delay = self.configuration.reconnectDelayMin }
                guard attempt <= self.configuration.reconnectAttemptCountMax else {
                    throw CDCError(.connectionLost, "gave up after \(attempt - 1) reconnection attempts: \(error.message)", underlying: error)
                }
                self.onProgress?(.reconnecting(attempt: attempt, delay: delay, reason: error.message))
                self.logger.warning("connection lost (\(error.message)); reconnecting in \(delay)")
                do { try await Task.sleep(for: delay) } catch { return }
                delay = min(delay * 2, self.configuration.reconnectDelayMax)
            }
        }
    }

    private func session() async throws(CDCError) {
        let sql = try await PgConnection.connect(self.configuration.connection, replication: false)
        do throws(CDCError) {
            try await self.session(sql: sql)
        } catch {
            await sql.close()
            throw error
        }
        await sql.close()
    }

    private func session(sql: PgConnection) async throws(CDCError) {
        let configuration = self.configuration
        let walLevel = try await sql.query("SHOW wal_level").rows.first?.first ?? nil
        guard walLevel == "logical" else {
            throw CDCError(.walLevelNotLogical, "wal_level is '\(walLevel ?? "?")'; logical decoding needs wal_level = logical (postgresql.conf, then restart)")
        }
        let tables = try await self.describeTables(sql: sql)
        try self.writer.prepare(topics: tables.map(\.topic))
        let types = try await self.loadTypes(sql: sql)
        try await self.ensurePublication(sql: sql, tables: tables)
        let slotRow = try await sql.query("SELECT plugin FROM pg_replication_slots WHERE slot_name = \(configuration.slot.sqlLiteral)").rows.first
        if let plugin = slotRow?.first ?? nil, plugin != "pgoutput" {
            throw CDCError(.invalidConfiguration, "slot \(configuration.slot) uses plugin \(plugin), not pgoutput")
        }
        var slotExists = slotRow != nil
        var state = try ConnectorState.read(log: self.log, slot: configuration.slot)
        let tableNames = tables.map { "\($0.schema).\($0.name)" }

        let replication = try await PgConnection.connect(configuration.connection, replication: true)
        do throws(CDCError) {
            let wantsSnapshot = configuration.snapshotMode != .never
            if wantsSnapshot && state?.snapshot != .done && state?.snapshot != .skipped {
                // No finished snapshot: start one from scratch, on a new slot, over empty topics.
                if slotExists {
                    try await replication.query("DROP_REPLICATION_SLOT \(configuration.slot) WAIT")
                    slotExists = false
                }
                for table in tables { try self.writer.deleteTopic(table.topic) }
                try ConnectorState(slot: configuration.slot, snapshot: .started, consistentPoint: nil, tables: tableNames).write(log: self.log)
                let created = try await replication.query("CREATE_REPLICATION_SLOT \(configuration.slot) LOGICAL pgoutput EXPORT_SNAPSHOT")
                guard let row = created.rows.first, row.count >= 3, let pointText = row[1], let point = LSN(pointText), let snapshotName = row[2] else {
                    throw CDCError(.protocolViolation, "CREATE_REPLICATION_SLOT returned no consistent point and snapshot")
                }
                let rowCount = try await self.snapshot(sql: sql, snapshotName: snapshotName, consistentPoint: point, tables: tables, types: types)
                let done = ConnectorState(slot: configuration.slot, snapshot: .done, consistentPoint: point.description, tables: tableNames)
                try done.write(log: self.log)
                state = done
                self.onProgress?(.snapshotDone(consistentPoint: point, rowCount: rowCount))
            } else if !slotExists {
                // A state with a consistent point had its slot created; without one (a crash between
                // writing the state and creating the slot) it had none yet.
                if state != nil && (state?.snapshot != .skipped || state?.consistentPoint != nil) {
                    throw CDCError(.slotMissing, "replication slot \(configuration.slot) was dropped: changes since the last confirmed LSN are lost. Delete the topic \(ConnectorState.topic(slot: configuration.slot)) and the table topics to start over with a new snapshot")
                }
                // The state before the slot and again after it with the slot's consistent point: a slot
                // that exists is then always known to be this connector's.
                try ConnectorState(slot: configuration.slot, snapshot: .skipped, consistentPoint: nil, tables: tableNames).write(log: self.log)
                let created = try await replication.query("CREATE_REPLICATION_SLOT \(configuration.slot) LOGICAL pgoutput NOEXPORT_SNAPSHOT")
                let point = created.rows.first.flatMap { $0.count >= 2 ? $0[1] : nil } ?? nil
                let skipped = ConnectorState(slot: configuration.slot, snapshot: .skipped, consistentPoint: point ?? "0/0", tables: tableNames)
                try skipped.write(log: self.log)
                state = skipped
            } else if state == nil || state?.consistentPoint == nil {
                // Streaming from a slot this connector found (mode never): remember it, so that a
                // later loss of the slot is reported, not silently replaced.
                let skipped = ConnectorState(slot: configuration.slot, snapshot: state?.snapshot ?? .skipped,
                                             consistentPoint: "0/0", tables: tableNames)
                try skipped.write(log: self.log)
                state = skipped
            }
            if configuration.snapshotMode == .initialOnly {
                await replication.close()
                return
            }
            try await self.stream(replication: replication, tables: tables, types: types, database: sql.config.database)
        } catch {
            await replication.close()
            throw error
        }
        await replication.close()
    }

    // MARK: Catalog

    /// The catalog's row estimate per table topic, for snapshot progress.
    private var estimatedRowCounts: [String: Int] = [:]

    private func describeTables(sql: PgConnection) async throws(CDCError) -> [CapturedTable] {
        var tables: [CapturedTable] = []
        for (schema, name) in self.configuration.qualifiedTables {
            let result = try await sql.query("""
                SELECT c.relreplident, c.reltuples::bigint, coalesce((SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i \
                CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
                WHERE i.indrelid = c.oid AND i.indisprimary), '{}') \
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                WHERE n.nspname = \(schema.sqlLiteral) AND c.relname = \(name.sqlLiteral) AND c.relkind IN ('r', 'p')
                """)
            guard let row = result.rows.first else {
                throw CDCError(.missingTable, "table \(schema).\(name) does not exist in database \(sql.config.database)")
            }
            var primaryKey: [String] = []
            if case .array(let names) = try PgArrayElement.parse(row[2] ?? "{}") {
                primaryKey = names.compactMap { if case .text(let text) = $0 { text } else { nil } }
            }
            if primaryKey.isEmpty && row[0] != "f" {
                throw CDCError(.noPrimaryKey, "table \(schema).\(name) has no primary key: add one, or run ALTER TABLE \(schema).\(name) REPLICA IDENTITY FULL (its events then have no key)")
            }
            tables.append(CapturedTable(schema: schema, name: name, topic: self.configuration.topic(schema: schema, table: name), primaryKey: primaryKey))
            estimatedRowCounts[tables.last!.topic] = row[1].flatMap { Int($0) } ?? -1
        }
        return tables
    }

    private func loadTypes(sql: PgConnection) async throws(CDCError) -> PgTypeRegistry {
        var types = PgTypeRegistry()
        let arrays = try await sql.query("SELECT oid, typelem FROM pg_type WHERE typcategory = 'A' AND typelem <> 0")
        for row in arrays.rows {
            guard let oid = row[0].flatMap({ UInt32($0) }), let element = row[1].flatMap({ UInt32($0) }) else { continue }
            if types.kinds[oid] == nil { types.addArray(oid: oid, elementOID: element) }
        }
        return types
    }

    private func ensurePublication(sql: PgConnection, tables: [CapturedTable]) async throws(CDCError) {
        let name = self.configuration.publication
        let list = tables.map { "\($0.schema.sqlIdentifier).\($0.name.sqlIdentifier)" }.joined(separator: ", ")
        let existing = try await sql.query("SELECT puballtables FROM pg_publication WHERE pubname = \(name.sqlLiteral)")
        guard let row = existing.rows.first else {
            try await sql.query("CREATE PUBLICATION \(name.sqlIdentifier) FOR TABLE \(list)")
            return
        }
        if row.first == "t" { return }
        let published = try await sql.query("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = \(name.sqlLiteral)")
        let present = Set(published.rows.map { "\($0[0] ?? "").\($0[1] ?? "")" })
        for table in tables where !present.contains("\(table.schema).\(table.name)") {
            try await sql.query("ALTER PUBLICATION \(name.sqlIdentifier) ADD TABLE \(table.schema.sqlIdentifier).\(table.name.sqlIdentifier)")
        }
    }

    // MARK: Snapshot

    /// Reads every table inside the slot's exported snapshot, in chunks through a cursor, and writes
    /// the rows as `r` events. Returns the number of rows.
    private func snapshot(sql: PgConnection, snapshotName: String, consistentPoint: LSN, tables: [CapturedTable], types: PgTypeRegistry) async throws(CDCError) -> Int {
        var encoder = ChangeEventEncoder(name: self.configuration.topicPrefix, database: sql.config.database)
        try await sql.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try await sql.query("SET TRANSACTION SNAPSHOT \(snapshotName.sqlLiteral)")
        var total = 0
        for table in tables {
            try await sql.query("DECLARE sluice_snapshot NO SCROLL CURSOR FOR SELECT * FROM \(table.schema.sqlIdentifier).\(table.name.sqlIdentifier)")
            var rowCount = 0
            while true {
                let chunk = try await sql.query("FETCH FORWARD \(self.configuration.snapshotChunkRowCount) FROM sluice_snapshot")
                if chunk.rows.isEmpty { break }
                let shape = RelationShape(table: table, columnNames: chunk.columns.map(\.name), typeOIDs: chunk.columns.map(\.typeOID),
                                          types: types)
                let nowMs = currentTimeMillis()
                for row in chunk.rows {
                    let tuple = row.map { value -> TupleValue in value.map { .text(ByteBuffer(string: $0)) } ?? .null }
                    let source = SourceInfo(schema: table.schema, table: table.name, txId: nil, lsn: consistentPoint, commitTimeMs: nowMs, snapshot: "true")
                    let value = try encoder.value(op: "r", before: nil, after: tuple, shape: shape, source: source, nowMs: nowMs)
                    let event = ChangeEvent(topic: table.topic, key: try encoder.key(tuple, shape: shape), value: value,
                                            position: EventPosition(lsn: consistentPoint, sequence: -1), timestampMs: nowMs)
                    try self.writer.append(event, deduplicate: false)
                }
                rowCount += chunk.rows.count
                self.onProgress?(.snapshotTable(table: "\(table.schema).\(table.name)", rowCount: rowCount,
                                                estimatedRowCount: self.estimatedRowCounts[table.topic] ?? -1))
            }
            try await sql.query("CLOSE sluice_snapshot")
            try await self.flushWriter()
            total += rowCount
        }
        try await sql.query("COMMIT")
        return total
    }

    // MARK: Streaming

    private func stream(replication: PgConnection, tables: [CapturedTable], types: PgTypeRegistry, database: String) async throws(CDCError) {
        let configuration = self.configuration
        try await replication.send(.query(
            "START_REPLICATION SLOT \(configuration.slot) LOGICAL 0/0 (proto_version '1', publication_names \(configuration.publication.sqlIdentifier.sqlLiteral))"))
        streamStart: while true {
            switch try await replication.nextMessage() {
            case .copyBothResponse: break streamStart
            case .errorResponse(let fields):
                if fields.sqlState == "42704" {
                    throw CDCError(.slotMissing, "replication slot \(configuration.slot) does not exist: \(fields.message)", sqlState: fields.sqlState)
                }
                throw PgConnection.error(fields, doing: "START_REPLICATION")
            default: continue
            }
        }
        self.lock.withLock { self.failedAttemptCount = 0 }
        self.onProgress?(.streaming(slot: configuration.slot))

        let encoder = ChangeEventEncoder(name: configuration.topicPrefix, database: database)
        var assembler = ChangeStreamAssembler(tables: tables, types: types, encoder: encoder)
        var events: [ChangeEvent] = []
        // Key and value bytes of `events`, and how many of them are counted.
        var eventByteCount = 0
        var countedEventCount = 0
        /// The end of the last transaction received (or an idle keepalive's position).
        var received = self.confirmedLSN
        var commitTimesPending: [Int64] = []
        var lastFlush = ContinuousClock.now

        func flushAndConfirm(force: Bool) async throws(CDCError) {
            try await self.flushWriter()
            lastFlush = ContinuousClock.now
            // Everything received is durable now, the transactions committed at these times included.
            if !commitTimesPending.isEmpty {
                self.onDurable?(commitTimesPending)
                commitTimesPending.removeAll(keepingCapacity: true)
            }
            let confirmable = received
            let advanced = self.lock.withLock { () -> Bool in
                guard confirmable > self.confirmed else { return false }
                self.confirmed = confirmable
                return true
            }
            if advanced || force {
                let now = Int64(Date().timeIntervalSince1970 * 1_000_000)
                try await replication.send(.copyData(ReplicationMessage.standbyStatusUpdate(
                    written: confirmable, flushed: confirmable, applied: confirmable, nowMicrosSinceUnixEpoch: now)))
            }
            if advanced { self.onProgress?(.confirmed(confirmable)) }
        }

        while true {
            switch try await replication.nextInbound() {
            case .readComplete:
                // Group commit: one sync for everything already received; while a sync runs, more
                // arrives, and the next one covers all of it.
                // A reader that never catches up still syncs every flushIntervalMax.
                if (self.writer.hasUnsyncedData || received > self.confirmedLSN)
                    && (!replication.hasQueuedInbound || ContinuousClock.now - lastFlush >= configuration.flushIntervalMax) {
                    try await flushAndConfirm(force: false)
                }
            case .message(.copyData(let buffer)):
                switch try ReplicationMessage.decode(buffer) {
                case .xLogData(let walStart, _, _, let data):
                    let message = try PgOutputMessage.decode(data)
                    // The open transaction's events wait here until its commit, so that a log
                    // transaction holds whole PostgreSQL transactions; one larger than
                    // flushEventCountMax events or flushBytesMax bytes is split.
                    let outcome = try assembler.receive(message, walStart: walStart, nowMs: currentTimeMillis(), into: &events)
                    for event in events[countedEventCount...] { eventByteCount += (event.key?.count ?? 0) + (event.value?.count ?? 0) }
                    countedEventCount = events.count
                    if case .committed(let end) = outcome {
                        for event in events { try self.writer.append(event) }
                        events.removeAll(keepingCapacity: true)
                        (eventByteCount, countedEventCount) = (0, 0)
                        received = max(received, end)
                        if case .commit(_, _, _, let time) = message, self.onDurable != nil {
                            commitTimesPending.append(PgOutputMessage.unixMillis(fromPostgresMicros: time))
                        }
                    } else if events.count >= configuration.flushEventCountMax || eventByteCount >= configuration.flushBytesMax {
                        for event in events { try self.writer.append(event) }
                        events.removeAll(keepingCapacity: true)
                        (eventByteCount, countedEventCount) = (0, 0)
                        try await flushAndConfirm(force: false)
                    }
                    if self.writer.bufferedEventCount >= configuration.flushEventCountMax { try await flushAndConfirm(force: false) }
                case .primaryKeepalive(let walEnd, _, let replyRequested):
                    if !assembler.isInTransaction {
                        // Between transactions everything received is made durable by the flush below:
                        // the slot may advance to the server's position even when no captured table changed.
                        received = max(received, walEnd)
                    }
                    try await flushAndConfirm(force: replyRequested)
                }
            case .message(.errorResponse(let fields)):
                throw PgConnection.error(fields, doing: "streaming")
            case .message(.copyDone):
                throw CDCError(.connectionLost, "the server ended the replication stream")
            case .message:
                continue
            }
        }
    }
}
