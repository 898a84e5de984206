import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SluiceCore
import SluiceKafkaProtocol

/// One connection to a Kafka broker (Sluice's or any other): requests go out in order (they may
/// be pipelined) and responses are matched to them in order, at the highest version both sides
/// support. A small client for the command-line tool and tests, not a full producer or consumer.
public final class KafkaConnection: Sendable {
    private struct State {
        var correlationId: Int32 = 0
        var waiting: [(correlationId: Int32, promise: EventLoopPromise<ByteBuffer>)] = []
        var failure: (any Error)?
        var brokerVersions: [Int16: ClosedRange<Int16>] = [:]
    }

    private let channel: any Channel
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let state = NIOLockedValueBox(State())
    /// Serialises writes so that correlation ids go out in the order they were taken.
    private let writeLock = NIOAsyncWriteSerializer()
    public let clientId: String

    /// The largest response accepted.
    public static let responseBytesMax = 256 * 1024 * 1024

    /// Connects and negotiates versions with ApiVersions.
    public init(host: String, port: Int, clientId: String = "sluice") async throws {
        self.clientId = clientId
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(KafkaFrameHandler(frameBytesMax: Self.responseBytesMax))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        self.channel = channel.channel
        self.outbound = channel.outbound
        let inbound = channel.inbound
        let state = self.state
        Task {
            do {
                for try await frame in inbound {
                    let waiter = state.withLockedValue { state in state.waiting.isEmpty ? nil : state.waiting.removeFirst().promise }
                    waiter?.succeed(frame)
                }
                Self.fail(state, SluiceError(.closed, "the broker closed the connection"))
            } catch {
                Self.fail(state, error)
            }
        }
        let versions = try await self.send(ApiVersionsRequest(clientSoftwareName: "sluice", clientSoftwareVersion: "0.1"), version: 3, as: ApiVersionsResponse.self)
        guard versions.errorCode == 0 else {
            throw SluiceError(.invalidRequest, "the broker refused ApiVersions with error \(KafkaErrorCode(rawValue: versions.errorCode))")
        }
        self.state.withLockedValue { state in
            for api in versions.apiKeys { state.brokerVersions[api.apiKey] = api.minVersion...api.maxVersion }
        }
    }

    private static func fail(_ state: NIOLockedValueBox<State>, _ error: any Error) {
        let waiters = state.withLockedValue { state -> [EventLoopPromise<ByteBuffer>] in
            state.failure = error
            defer { state.waiting.removeAll() }
            return state.waiting.map(\.promise)
        }
        for waiter in waiters { waiter.fail(error) }
    }

    /// The highest version of `api` both sides support.
    public func version(of api: ApiKey) throws -> Int16 {
        guard let broker = self.state.withLockedValue({ $0.brokerVersions[api.rawValue] }) else {
            throw SluiceError(.invalidRequest, "the broker does not support \(api.name)")
        }
        let ours = api.validVersions
        let highest = min(ours.upperBound, broker.upperBound)
        guard highest >= max(ours.lowerBound, broker.lowerBound) else {
            throw SluiceError(.invalidRequest, "no common version of \(api.name): ours \(ours), the broker's \(broker)")
        }
        return highest
    }

    /// Sends a request at the negotiated version and returns its response.
    public func send<Request: KafkaMessage, Response: KafkaMessage>(_ request: Request, as: Response.Type) async throws -> Response {
        guard let api = ApiKey(rawValue: Request.apiKey) else { throw SluiceError(.invalidRequest, "unknown API key \(Request.apiKey)") }
        return try await self.send(request, version: try self.version(of: api), as: Response.self)
    }

    /// Sends a request at `version` and returns its response.
    public func send<Request: KafkaMessage, Response: KafkaMessage>(_ request: Request, version: Int16, as: Response.Type) async throws -> Response {
        guard let api = ApiKey(rawValue: Request.apiKey) else { throw SluiceError(.invalidRequest, "unknown API key \(Request.apiKey)") }
        // Responses come in request order: the promise is queued before its request is written.
        let promise = self.channel.eventLoop.makePromise(of: ByteBuffer.self)
        try await self.writeLock.run { () async throws -> Void in
            let (correlationId, failure) = self.state.withLockedValue { state -> (Int32, (any Error)?) in
                state.correlationId &+= 1
                if state.failure == nil { state.waiting.append((state.correlationId, promise)) }
                return (state.correlationId, state.failure)
            }
            if let failure {
                promise.fail(failure)
                return
            }
            var buffer = ByteBufferAllocator().buffer(capacity: 256)
            do {
                try KafkaRequestFrame.write(request, version: version, correlationId: correlationId, clientId: self.clientId, into: &buffer)
                try await self.outbound.write(buffer)
            } catch {
                // The connection's order is broken: fail everything outstanding.
                Self.fail(self.state, error)
                await self.close()
            }
        }
        let frame = try await promise.futureResult.get()
        let response = try KafkaResponseFrame(parsing: frame, headerVersion: api.responseHeaderVersion(for: version))
        return try Response(decoding: response.body, version: version)
    }

    /// Sends a request whose response never comes (a produce with acks=0).
    public func sendWithoutResponse<Request: KafkaMessage>(_ request: Request) async throws {
        guard let api = ApiKey(rawValue: Request.apiKey) else { throw SluiceError(.invalidRequest, "unknown API key \(Request.apiKey)") }
        try await self.writeLock.run { () async throws -> Void in
            let correlationId = self.state.withLockedValue { state -> Int32 in
                state.correlationId &+= 1
                return state.correlationId
            }
            var buffer = ByteBufferAllocator().buffer(capacity: 256)
            try KafkaRequestFrame.write(request, version: try self.version(of: api), correlationId: correlationId, clientId: self.clientId, into: &buffer)
            try await self.outbound.write(buffer)
        }
    }

    public func close() async {
        self.outbound.finish()
        try? await self.channel.close()
    }

    deinit {
        self.outbound.finish()
        self.channel.close(promise: nil)
    }
}

/// Runs async bodies one at a time, in call order.
final class NIOAsyncWriteSerializer: Sendable {
    private let state = NIOLockedValueBox<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = self.state.withLockedValue { state -> Bool in
                if state.busy {
                    state.waiting.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if proceed { continuation.resume() }
        }
        defer {
            let next = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                if state.waiting.isEmpty {
                    state.busy = false
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}

extension KafkaErrorCode {
    /// Throws a SluiceError naming the operation when this is an error.
    public func check(_ operation: @autoclosure () -> String) throws {
        guard self != .noError else { return }
        throw SluiceError(.invalidRequest, "\(operation()) failed: \(self.name)")
    }
}
