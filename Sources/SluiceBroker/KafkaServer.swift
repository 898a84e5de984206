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
    /// between, so the connection's writer is the only one to wake up.
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
}

/// A response decided later, on whatever thread decides it (`fulfill`, once), and awaited by the
/// connection's writer (`response`, once).
final class ResponseSlot: Sendable {
    private let state = NIOLockedValueBox<(response: PendingResponse?, writer: CheckedContinuation<PendingResponse, Never>?, fulfilled: Bool)>((nil, nil, false))

    func fulfill(_ response: PendingResponse) {
        let writer = self.state.withLockedValue { state -> CheckedContinuation<PendingResponse, Never>? in
            precondition(!state.fulfilled, "a response slot is fulfilled once")
            state.fulfilled = true
            guard let writer = state.writer else {
                state.response = response
                return nil
            }
            state.writer = nil
            return writer
        }
        writer?.resume(returning: response)
    }

    var response: PendingResponse {
        get async {
            if let response = self.state.withLockedValue({ $0.response }) { return response }
            return await withCheckedContinuation { (writer: CheckedContinuation<PendingResponse, Never>) in
                let response = self.state.withLockedValue { state -> PendingResponse? in
                    if let response = state.response { return response }
                    state.writer = writer
                    return nil
                }
                if let response { writer.resume(returning: response) }
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
    /// Called in arrival order for each frame of a connection, on the connection's reader task, so
    /// that the synchronous part (appends) keeps the client's order; slow parts go in `.later`.
    func start(frame: ByteBuffer, connection: ConnectionContext) -> PendingResponse
}

/// The Kafka listener: a SwiftNIO server whose connections each read size-prefixed frames, start
/// them in order, keep at most `requestsInFlightMax` in flight and write responses in request order.
final class KafkaServer: Sendable {
    /// Requests started but not answered on one connection before the server stops reading it.
    static let requestsInFlightMax = 64

    let host: String
    let port: Int
    private let processor: any RequestProcessor
    private let logger: Logger
    private let frameBytesMax: Int
    /// The listening channel and the open connections, for a graceful stop.
    private let channels = NIOLockedValueBox<(server: (any Channel)?, connections: [UInt64: any Channel], draining: Bool)>((nil, [:], false))

    init(host: String, port: Int, processor: any RequestProcessor, frameBytesMax: Int, logger: Logger) {
        self.host = host
        self.port = port
        self.processor = processor
        self.frameBytesMax = frameBytesMax
        self.logger = logger
    }

    /// Binds, calls `onListening` with the bound address, and serves until cancelled.
    func run(onListening: @Sendable (SocketAddress) -> Void) async throws {
        let frameBytesMax = self.frameBytesMax
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: KafkaFrameReadAllocator.maxMessagesPerRead)
            .bind(host: self.host, port: self.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Reads of up to a megabyte, and the rest of a large request read straight into its buffer.
                    let reader = KafkaFrameReader(frameBytesMax: frameBytesMax)
                    try channel.syncOptions!.setOption(.recvAllocator, value: KafkaFrameReadAllocator(
                        reader: reader, adaptive: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 64 * 1024, maximum: 1024 * 1024)))
                    try channel.pipeline.syncOperations.addHandler(KafkaFrameHandler(reader: reader))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let alreadyDraining = self.channels.withLockedValue { state -> Bool in
            state.server = server.channel
            return state.draining
        }
        if alreadyDraining { server.channel.close(promise: nil) }
        if let address = server.channel.localAddress { onListening(address) }
        var connectionId: UInt64 = 0
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    connectionId += 1
                    let context = ConnectionContext(id: connectionId, remoteAddress: connection.channel.remoteAddress?.description ?? "unknown")
                    let id = connectionId
                    let accepted = self.channels.withLockedValue { state -> Bool in
                        guard !state.draining else { return false }
                        state.connections[id] = connection.channel
                        return true
                    }
                    guard accepted else {
                        connection.channel.close(promise: nil)
                        continue
                    }
                    group.addTask {
                        await self.serve(connection, context: context)
                        self.channels.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
                    }
                }
            }
        }
    }

    /// Stops accepting connections and stops reading new requests on the open ones; requests already
    /// read are answered, then each connection closes and `run` returns.
    func drain() {
        let (server, connections) = self.channels.withLockedValue { state -> ((any Channel)?, [any Channel]) in
            state.draining = true
            return (state.server, Array(state.connections.values))
        }
        server?.close(promise: nil)
        for channel in connections {
            // Half-close: the reader sees the end of the stream, the writer still answers.
            channel.close(mode: .input, promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>, context: ConnectionContext) async {
        let queue = BoundedQueue<PendingResponse>(capacity: Self.requestsInFlightMax)
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let channel = connection.channel
                    group.addTask {
                        // Writer: answers in request order. On failure it stops the reader too.
                        do {
                            while let pending = await queue.pop() {
                                switch await pending.decided() {
                                case .none, .later, .awaiting:
                                    continue
                                case .ready(let frame):
                                    try await outbound.write(frame)
                                case .close(let reason):
                                    throw ConnectionClosed(reason: reason)
                                }
                            }
                        } catch {
                            queue.finish()
                            channel.close(promise: nil)
                            throw error
                        }
                    }
                    do {
                        for try await frame in inbound {
                            let pending = self.processor.start(frame: frame, connection: context)
                            await queue.push(pending)
                            if case .close = pending { break }
                        }
                    } catch let error as IOError where error.errnoCode == ECONNRESET || error.errnoCode == EPIPE {
                        // The client went away: an ordinary end of a connection.
                        self.logger.debug("connection from \(context.remoteAddress) reset by the client")
                    } catch {
                        // Bad input (a malformed or oversize frame): logged once, this connection closes.
                        self.logger.warning("closing connection from \(context.remoteAddress): \(error)")
                    }
                    queue.finish()
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch let closed as ConnectionClosed {
            self.logger.warning("closing connection from \(context.remoteAddress): \(closed.reason)")
        } catch {
            self.logger.debug("connection from \(context.remoteAddress) ended: \(error)")
        }
    }
}

struct ConnectionClosed: Error {
    var reason: String
}
