#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore

/// One client connection, on its event loop: starts each request frame in arrival order, writes the
/// responses in request order as they are decided, and holds reads while `ConnectionFlow` says so.
///
/// A response decided on another thread (an append lane, the flusher, a coordinator's task) comes
/// back with one hop onto the event loop, which writes it: no task sits between the socket and the
/// broker. What it does is `ConnectionFlow`'s; this class only moves bytes and events.
final class KafkaConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var flow: ConnectionFlow
    private let processor: any RequestProcessor
    private let connection: ConnectionContext
    private let logger: Logger
    /// Set while the handler is in a pipeline.
    private var context: ChannelHandlerContext?
    /// A read the channel asked for while the flow wanted none, made once it wants one.
    private var readHeld = false
    /// The last write, which a close waits for so that the responses before it are sent.
    private var lastWrite: EventLoopFuture<Void>?
    /// Set while `advance` runs: a write can call back into the handler (writability changes), and
    /// the call then only asks the running `advance` for another round.
    private var isAdvancing = false
    private var advanceAgain = false
    /// connections.max.idle.ms; nil: never closed for being idle.
    private let idleLimit: TimeAmount?
    /// When bytes last moved: a frame read, a write the socket took, the socket taking writes again.
    private var lastActivity = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?
    /// Bytes written and not yet taken by the socket at the last write or idle check: fewer at the
    /// next check means the client reads (one large response drains without the socket turning
    /// writable again until it is nearly sent).
    private var bufferedAtLastCheck: Int?

    init(processor: any RequestProcessor, connection: ConnectionContext, requestsInFlightMax: Int,
         idleLimit: TimeAmount?, logger: Logger) {
        self.flow = ConnectionFlow(requestsInFlightMax: requestsInFlightMax)
        self.processor = processor
        self.connection = connection
        self.idleLimit = idleLimit
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.flow.isWritable = context.channel.isWritable
        if let limit = self.idleLimit { self.scheduleIdleCheck(at: .now() + limit, context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.cancelIdleCheck()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.noteActivity()
        self.flow.frameRead(Self.unwrapInboundIn(data))
        self.advance(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.flow.close()
        self.cancelIdleCheck()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        self.flow.isWritable = context.channel.isWritable
        if self.flow.isWritable { self.noteActivity() }
        self.advance(context)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client half-closed, or a drain closed the input: answer what was read, then close.
            self.flow.endInput()
            self.advance(context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? IOError, error.errnoCode == ECONNRESET || error.errnoCode == EPIPE {
            // The client went away: an ordinary end of a connection.
            self.logger.debug("connection from \(self.connection.remoteAddress) reset by the client")
            context.close(promise: nil)
            return
        }
        // Bad input (a malformed or oversize frame): logged once; the requests before it are
        // answered, then the connection closes.
        self.logger.warning("closing connection from \(self.connection.remoteAddress): \(error)")
        self.flow.endInput()
        self.advance(context)
    }

    func read(context: ChannelHandlerContext) {
        if self.flow.wantsRead {
            context.read()
        } else {
            self.readHeld = true
        }
    }

    /// Starts what may start, writes what may be written, and reads again if the flow wants to.
    private func advance(_ context: ChannelHandlerContext) {
        guard !self.isAdvancing else {
            self.advanceAgain = true
            return
        }
        self.isAdvancing = true
        defer { self.isAdvancing = false }
        var wrote = false
        var progressed = true
        while progressed || self.advanceAgain {
            progressed = false
            self.advanceAgain = false
            while let frame = self.flow.nextFrameToStart() {
                self.start(frame, context)
                progressed = true
            }
            while let output = self.flow.nextOutput() {
                progressed = true
                switch output {
                case .write(let frame):
                    // The future is kept before the write, which may call back into `advance`.
                    let written = context.eventLoop.makePromise(of: Void.self)
                    self.lastWrite = written.futureResult
                    wrote = true
                    context.write(Self.wrapOutboundOut(frame), promise: written)
                case .close(let reason):
                    if let reason { self.logger.warning("closing connection from \(self.connection.remoteAddress): \(reason)") }
                    if wrote { context.flush() }
                    self.close(context)
                    return
                }
            }
        }
        if wrote {
            // Written into a socket that takes more: the client reads. Writes piling up behind a
            // full socket are no activity, so that a client that never reads is found idle.
            if context.channel.isWritable { self.noteActivity() }
            context.flush()
            if self.idleLimit != nil { self.bufferedAtLastCheck = Self.bufferedBytes(context) }
        }
        if self.readHeld, self.flow.wantsRead {
            self.readHeld = false
            context.read()
        }
    }

    private func start(_ frame: ByteBuffer, _ context: ChannelHandlerContext) {
        let pending = self.processor.start(frame: frame, connection: self.connection)
        if let decided = pending.decidedNow {
            _ = self.flow.started(decided)
            return
        }
        let number = self.flow.started(nil)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        pending.whenDecided { decided in
            eventLoop.execute { handler.value.decide(number, decided) }
        }
    }

    private func decide(_ number: ConnectionFlow.RequestNumber, _ decided: ConnectionFlow.Decided) {
        guard let context = self.context else { return }
        self.flow.decide(number, decided)
        self.advance(context)
    }

    /// Bytes moved now; the idle clock is kept only when there is an idle limit.
    private func noteActivity() {
        if self.idleLimit != nil { self.lastActivity = .now() }
    }

    private func cancelIdleCheck() {
        self.idleCheck?.cancel()
        self.idleCheck = nil
    }

    /// Bytes written that the socket has not taken yet.
    private static func bufferedBytes(_ context: ChannelHandlerContext) -> Int? {
        try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)
    }

    private func scheduleIdleCheck(at deadline: NIODeadline, _ context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.idleCheck = context.eventLoop.scheduleTask(deadline: deadline) { handler.value.checkIdle() }
    }

    /// Closes the connection if nothing moved for the idle limit and the broker owes it nothing
    /// (Kafka's connections.max.idle.ms); otherwise looks again when it next could be.
    private func checkIdle() {
        self.idleCheck = nil
        guard let context = self.context, let limit = self.idleLimit else { return }
        let now = NIODeadline.now()
        let buffered = Self.bufferedBytes(context)
        if let buffered, let before = self.bufferedAtLastCheck, buffered < before { self.lastActivity = now }
        self.bufferedAtLastCheck = buffered
        switch self.flow.idleVerdict(lastActivity: self.lastActivity, now: now, limit: limit) {
        case .checkAt(let deadline):
            self.scheduleIdleCheck(at: deadline, context)
        case .idle:
            // An ordinary end of a connection, as in Kafka: not worth more than a debug line.
            self.logger.debug("closing connection from \(self.connection.remoteAddress): idle for \(limit.nanoseconds / 1_000_000) ms (connections.max.idle.ms)")
            // Writes still waiting for a client that does not read are dropped with the connection,
            // and so is a close waiting for them to be sent.
            self.flow.close()
            context.close(promise: nil)
        }
    }

    /// Closes once the writes before are sent (a close fails writes still pending).
    private func close(_ context: ChannelHandlerContext) {
        guard let lastWrite = self.lastWrite else { return context.close(promise: nil) }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        lastWrite.whenComplete { _ in bound.value.close(promise: nil) }
    }
}
