import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// What arrives from the server: a message, or the end of one read from the socket (a hint that
/// nothing more is buffered right now, used to group writes to the log).
enum PgInbound: Sendable {
    case message(PgBackendMessage)
    case readComplete
}

/// Marks the end of each socket read in the inbound stream, and counts what it passes on so that
/// the reader can tell whether more is already queued.
final class ReadCompleteMarker: ChannelInboundHandler, Sendable {
    typealias InboundIn = PgBackendMessage
    typealias InboundOut = PgInbound

    /// Elements passed to the inbound stream so far.
    let deliveredCount = Atomic<Int>(0)

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.deliveredCount.add(1, ordering: .releasing)
        context.fireChannelRead(Self.wrapInboundOut(.message(Self.unwrapInboundIn(data))))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.deliveredCount.add(1, ordering: .releasing)
        context.fireChannelRead(Self.wrapInboundOut(.readComplete))
        context.fireChannelReadComplete()
    }
}

/// The result of a simple query: the last result set's columns and text rows.
public struct PgQueryResult: Sendable {
    public var columns: [PgColumnDescription] = []
    public var rows: [[String?]] = []
    public var commandTags: [String] = []
}

/// One connection to PostgreSQL over SwiftNIO: startup and authentication, simple queries, and the
/// replication sub-protocol's CopyBoth stream. A thin shell: one task uses it at a time.
public final class PgConnection {
    let channel: NIOAsyncChannel<PgInbound, ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<PgInbound>.AsyncIterator
    private let marker: ReadCompleteMarker
    private var consumedCount = 0
    public private(set) var parameters: [String: String] = [:]
    public let config: PgConnectionConfig
    private var sendBuffer = ByteBuffer()

    private init(channel: NIOAsyncChannel<PgInbound, ByteBuffer>, marker: ReadCompleteMarker, config: PgConnectionConfig) {
        self.channel = channel
        self.marker = marker
        self.inbound = channel.inbound.makeAsyncIterator()
        self.config = config
    }

    /// Messages buffered between the event loop and the reading task: reading from the socket pauses
    /// above the high mark (a bounded queue), resumes below the low one.
    public static let inboundMessageCountMax = 4_096
    static let channelConfiguration = NIOAsyncChannel<PgInbound, ByteBuffer>.Configuration(
        backPressureStrategy: .init(lowWatermark: PgConnection.inboundMessageCountMax / 4, highWatermark: PgConnection.inboundMessageCountMax))

    /// Connects and authenticates. With `replication`, the connection speaks the replication
    /// sub-protocol (`replication=database`). Session settings fix the text formats the value
    /// converter expects: UTC ISO timestamps, shortest exact floats, UTF-8, hex bytea.
    public static func connect(_ config: PgConnectionConfig, replication: Bool) async throws(CDCError) -> PgConnection {
        let channel: NIOAsyncChannel<PgInbound, ByteBuffer>
        let marker = ReadCompleteMarker()
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .connect(host: config.host, port: config.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PgMessageDecoder()))
                        try channel.pipeline.syncOperations.addHandler(marker)
                        return try NIOAsyncChannel<PgInbound, ByteBuffer>(wrappingChannelSynchronously: channel, configuration: Self.channelConfiguration)
                    }
                }
        } catch {
            throw CDCError(.connectionLost, "cannot connect to PostgreSQL at \(config.host):\(config.port)", underlying: error)
        }
        let connection = PgConnection(channel: channel, marker: marker, config: config)
        do {
            try await connection.startup(replication: replication)
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    private func startup(replication: Bool) async throws(CDCError) {
        var parameters: [(String, String)] = [
            ("user", self.config.user), ("database", self.config.database), ("application_name", self.config.applicationName),
            ("client_encoding", "UTF8"), ("DateStyle", "ISO, YMD"), ("TimeZone", "UTC"), ("IntervalStyle", "iso_8601"),
            ("extra_float_digits", "1"), ("bytea_output", "hex"),
        ]
        if replication { parameters.append(("replication", "database")) }
        try await self.send(.startup(parameters: parameters))
        var machine = PgStartupStateMachine(user: self.config.user, password: self.config.password)
        while true {
            switch try machine.receive(try await self.nextMessage()) {
            case .send(let message): try await self.send(message)
            case .wait: continue
            case .ready:
                self.parameters = machine.parameters
                return
            }
        }
    }

    /// Sends one message.
    public func send(_ message: PgFrontendMessage) async throws(CDCError) {
        self.sendBuffer.clear()
        message.encode(into: &self.sendBuffer)
        do {
            try await self.channel.outbound.write(self.sendBuffer)
        } catch {
            throw CDCError(.connectionLost, "cannot write to PostgreSQL", underlying: error)
        }
    }

    /// The next inbound element (message or read-complete mark).
    func nextInbound() async throws(CDCError) -> PgInbound {
        let element: PgInbound?
        do {
            element = try await self.inbound.next()
        } catch let error as CDCError {
            throw error
        } catch is CancellationError {
            throw CDCError(.connectionLost, "cancelled")
        } catch {
            throw CDCError(.connectionLost, "the connection to PostgreSQL failed", underlying: error)
        }
        guard let element else { throw CDCError(.connectionLost, "PostgreSQL closed the connection") }
        self.consumedCount += 1
        return element
    }

    /// Whether more inbound elements are already queued: a reader at a read-complete mark can put off
    /// work (a sync) that the next mark will do for more data at once.
    var hasQueuedInbound: Bool {
        self.marker.deliveredCount.load(ordering: .acquiring) > self.consumedCount
    }

    /// The next message, skipping read-complete marks.
    public func nextMessage() async throws(CDCError) -> PgBackendMessage {
        while true {
            if case .message(let message) = try await self.nextInbound() { return message }
        }
    }

    /// Runs a simple query (one or more statements) and returns the last result set. A server
    /// error is thrown once the server is ready again, so the connection stays usable.
    @discardableResult
    public func query(_ sql: String) async throws(CDCError) -> PgQueryResult {
        try await self.send(.query(sql))
        var result = PgQueryResult()
        var failure: PgErrorFields?
        while true {
            switch try await self.nextMessage() {
            case .rowDescription(let columns):
                result.columns = columns
                result.rows = []
            case .dataRow(let values):
                result.rows.append(values.map { $0.map { String(decoding: $0, as: UTF8.self) } })
            case .commandComplete(let tag):
                result.commandTags.append(tag)
            case .errorResponse(let fields):
                failure = failure ?? fields
            case .readyForQuery:
                if let failure { throw Self.error(failure, doing: sql) }
                return result
            case .copyOutResponse, .copyInResponse, .copyBothResponse:
                throw CDCError(.protocolViolation, "the query '\(sql)' started a COPY; use the replication API for that")
            default:
                continue
            }
        }
    }

    /// A server error as a CDCError with a code where the SQLSTATE says what went wrong.
    static func error(_ fields: PgErrorFields, doing what: String) -> CDCError {
        let code: CDCError.Code
        switch fields.sqlState {
        case "28P01", "28000": code = .authenticationFailed
        // Shutdown, startup, a lost link, a slot still held by a walsender that has not noticed its client died: retried.
        case "57P01", "57P02", "57P03", "08006", "08003", "55006": code = .connectionLost
        default: code = .serverError
        }
        return CDCError(code, "\(fields) (running: \(what.prefix(200)))", sqlState: fields.sqlState)
    }

    /// Sends Terminate and closes the channel.
    public func close() async {
        try? await self.send(.terminate)
        try? await self.channel.channel.close()
    }
}

extension String {
    /// An SQL string literal: quotes doubled.
    var sqlLiteral: String { "'" + self.replacingOccurrences(of: "'", with: "''") + "'" }
    /// An SQL identifier: double quotes doubled.
    var sqlIdentifier: String { "\"" + self.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
