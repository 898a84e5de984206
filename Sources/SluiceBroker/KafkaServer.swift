#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SluiceCore
import SluiceKafkaProtocol

/// What a request handler gives back for one request, in arrival order.
enum PendingResponse: Sendable {
    /// No response (a produce with acks=0).
    case none
    /// The response frame, ready now.
    case ready(ByteBuffer)
    /// What the task decides once it finishes: `.ready`, `.none` or `.close`.
    case later(Task<PendingResponse, Never>)
    /// What some thread puts in the slot later: `.ready`, `.none` or `.close`. No task runs in
    /// between: the connection's event loop is the only one to wake up.
    case awaiting(ResponseSlot)
    /// The request cannot be answered: close the connection after the earlier responses.
    case close(reason: String)
}

extension PendingResponse {
    /// What the response comes to once decided: `.ready`, `.none` or `.close`.
    func decided() async -> PendingResponse {
        switch self {
        case .later(let task): return await task.value.decided()
        case .awaiting(let slot): return await slot.response.decided()
        case .none, .ready, .close: return self
        }
    }

    /// Calls `body` with the decided response: now if it is decided, or else on the thread that
    /// decides it (a slot's) or on the task's executor once the task ends.
    func whenDecided(_ body: @escaping @Sendable (ConnectionFlow.Decided) -> Void) {
        switch self {
        case .awaiting(let slot): slot.whenFulfilled { $0.whenDecided(body) }
        case .later(let task): Task { await task.value.whenDecided(body) }
        case .none, .ready, .close: body(self.decidedNow!)
        }
    }

    /// The response if it is decided already.
    var decidedNow: ConnectionFlow.Decided? {
        switch self {
        case .none: return ConnectionFlow.Decided.none
        case .ready(let frame): return .ready(frame)
        case .close(let reason): return .close(reason: reason)
        case .awaiting, .later: return nil
        }
    }
}

/// A response decided later, on whatever thread decides it (`fulfill`, once), and taken by one
/// reader (`whenFulfilled` or `response`, once), which runs on the thread that fulfils it.
final class ResponseSlot: Sendable {
    private typealias Reader = @Sendable (PendingResponse) -> Void
    private let state = NIOLockedValueBox<(response: PendingResponse?, reader: Reader?, fulfilled: Bool)>((nil, nil, false))

    func fulfill(_ response: PendingResponse) {
        let reader = self.state.withLockedValue { state -> Reader? in
            precondition(!state.fulfilled, "a response slot is fulfilled once")
            state.fulfilled = true
            guard let reader = state.reader else {
                state.response = response
                return nil
            }
            state.reader = nil
            return reader
        }
        reader?(response)
    }

    /// Calls `reader` with the response: now, if it is in, or else on the thread that fulfils the slot.
    func whenFulfilled(_ reader: @escaping @Sendable (PendingResponse) -> Void) {
        let response = self.state.withLockedValue { state -> PendingResponse? in
            precondition(state.reader == nil, "a response slot has one reader")
            if let response = state.response { return response }
            state.reader = reader
            return nil
        }
        if let response { reader(response) }
    }

    var response: PendingResponse {
        get async {
            await withCheckedContinuation { (continuation: CheckedContinuation<PendingResponse, Never>) in
                self.whenFulfilled { continuation.resume(returning: $0) }
            }
        }
    }
}

/// Facts about a client connection that handlers and logs use.
struct ConnectionContext: Sendable {
    var id: UInt64
    var remoteAddress: String
}

/// The part of the broker that turns one request frame into a pending response.
protocol RequestProcessor: Sendable {
    /// Called in arrival order for each frame of a connection, on the connection's event loop, so
    /// that the synchronous part (enqueueing appends) keeps the client's order; it must not block,
    /// and slow parts go in `.later` or `.awaiting`.
    func start(frame: ByteBuffer, connection: ConnectionContext) -> PendingResponse
}

/// The Kafka listener: a SwiftNIO server whose connections each read size-prefixed frames, start
/// them in order, keep at most `requestsInFlightMax` in flight and write responses in request order
/// (`KafkaConnectionHandler`).
final class KafkaServer: Sendable {
    /// Requests started but not answered on one connection before the server stops reading it.
    static let requestsInFlightMax = 64

    let host: String
    let port: Int
    private let processor: any RequestProcessor
    private let logger: Logger
    private let frameBytesMax: Int
    /// connections.max.idle.ms (`KafkaConnectionHandler`); nil: never.
    private let connectionIdleLimit: TimeAmount?
    /// The listening channel and the open connections, for a graceful stop.
    private let channels = NIOLockedValueBox<(server: (any Channel)?, connections: [UInt64: any Channel], lastId: UInt64, draining: Bool)>((nil, [:], 0, false))

    init(host: String, port: Int, processor: any RequestProcessor, frameBytesMax: Int, connectionIdleLimit: TimeAmount?, logger: Logger) {
        self.host = host
        self.port = port
        self.processor = processor
        self.frameBytesMax = frameBytesMax
        self.connectionIdleLimit = connectionIdleLimit
        self.logger = logger
    }

    /// Binds, calls `onListening` with the bound address, and serves until drained (`drain`, then
    /// every connection closed) or cancelled (which closes every connection at once).
    func run(onListening: @Sendable (SocketAddress) -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: KafkaFrameReadAllocator.maxMessagesPerRead)
            .bind(host: self.host, port: self.port) { channel in
                channel.eventLoop.makeCompletedFuture { () throws -> any Channel in
                    try self.setUp(channel)
                    return channel
                }
            }
        let alreadyDraining = self.channels.withLockedValue { state -> Bool in
            state.server = server.channel
            return state.draining
        }
        if alreadyDraining { server.channel.close(promise: nil) }
        if let address = server.channel.localAddress { onListening(address) }
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { try? await connection.closeFuture.get() }
                    }
                }
            }
        } onCancel: {
            for connection in self.stopAccepting() { connection.close(promise: nil) }
        }
    }

    /// A new connection's pipeline: frames in (read straight into their buffers when large), the
    /// connection's handler after. Refused while draining.
    private func setUp(_ channel: any Channel) throws {
        let id = self.channels.withLockedValue { state -> UInt64? in
            guard !state.draining else { return nil }
            state.lastId += 1
            state.connections[state.lastId] = channel
            return state.lastId
        }
        guard let id else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { _ in
            self.channels.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
        }
        let context = ConnectionContext(id: id, remoteAddress: channel.remoteAddress?.description ?? "unknown")
        // Reads of up to a megabyte, and the rest of a large request read straight into its buffer.
        let reader = KafkaFrameReader(frameBytesMax: self.frameBytesMax)
        try channel.syncOptions!.setOption(.recvAllocator, value: KafkaFrameReadAllocator(
            reader: reader, adaptive: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 64 * 1024, maximum: 1024 * 1024)))
        try channel.pipeline.syncOperations.addHandlers([
            KafkaFrameHandler(reader: reader),
            KafkaConnectionHandler(processor: self.processor, connection: context,
                                   requestsInFlightMax: Self.requestsInFlightMax, idleLimit: self.connectionIdleLimit,
                                   logger: self.logger),
        ])
    }

    /// Stops accepting connections and stops reading new requests on the open ones; requests already
    /// read are answered, then each connection closes and `run` returns.
    func drain() {
        for channel in self.stopAccepting() {
            // Half-close: the handler sees the input end and still answers what it read.
            channel.close(mode: .input, promise: nil)
        }
    }

    /// Closes the listener and refuses connections from now on: the open ones, for the caller to close.
    private func stopAccepting() -> [any Channel] {
        let (server, connections) = self.channels.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            state.draining = true
            return (state.server, Array(state.connections.values))
        }
        server?.close(promise: nil)
        return connections
    }
}
