import NIOCore

/// What one connection does with its requests and responses, without I/O: frames read wait until
/// fewer than `requestsInFlightMax` requests are started and unanswered; responses leave in request
/// order, each once it is decided and the socket takes more; reading stops while anything waits.
///
/// `KafkaConnectionHandler` drives it on the channel's event loop: `frameRead`, `nextFrameToStart`
/// and `started` as requests come, `decide` as their answers do, `nextOutput` for what to write.
struct ConnectionFlow {
    /// A response once decided.
    enum Decided: Sendable {
        /// No response (a produce with acks=0).
        case none
        /// The response frame.
        case ready(ByteBuffer)
        /// The request cannot be answered: close the connection after the earlier responses.
        case close(reason: String)
    }

    /// What the connection does next.
    enum Output {
        /// Writes a response frame.
        case write(ByteBuffer)
        /// Closes the connection once what was written is sent: a request could not be answered
        /// (`reason`), or the input ended and every request read was answered (nil).
        case close(reason: String?)
    }

    /// The position of a started request among the connection's requests.
    typealias RequestNumber = UInt64

    let requestsInFlightMax: Int
    /// The started requests' responses in request order, from `firstNumber` on; nil while undecided.
    private var responses = CircularBuffer<Decided?>()
    private var firstNumber: RequestNumber = 0
    /// Frames read but not started yet, in order.
    private var waitingFrames = CircularBuffer<ByteBuffer>()
    /// No more frames come: the client or a drain closed the input, or a frame was malformed.
    private(set) var inputEnded = false
    /// The connection closes: nothing more is started or written.
    private(set) var isClosing = false
    /// The socket takes more writes.
    var isWritable = true

    init(requestsInFlightMax: Int) {
        precondition(requestsInFlightMax > 0)
        self.requestsInFlightMax = requestsInFlightMax
    }

    /// Started requests not answered yet.
    var requestsInFlight: Int { self.responses.count }

    /// Whether the broker still works on a started request (its response undecided): a long poll,
    /// a join waiting for the group, an append waiting for its sync. The connection is not idle
    /// then, however long the client stays silent.
    var awaitsBroker: Bool {
        self.responses.contains { response in
            guard case .some = response else { return true }
            return false
        }
    }

    /// Whether to read more from the socket: nothing waits to start or to be written.
    var wantsRead: Bool {
        !self.inputEnded && !self.isClosing && self.isWritable && self.waitingFrames.isEmpty
            && self.responses.count < self.requestsInFlightMax
    }

    mutating func frameRead(_ frame: ByteBuffer) {
        guard !self.inputEnded, !self.isClosing else { return }
        self.waitingFrames.append(frame)
    }

    mutating func endInput() {
        self.inputEnded = true
    }

    /// The connection closed: nothing more is started or written.
    mutating func close() {
        self.isClosing = true
    }

    /// The next frame to start, if there is room for it; `started` must follow.
    mutating func nextFrameToStart() -> ByteBuffer? {
        guard !self.isClosing, self.responses.count < self.requestsInFlightMax else { return nil }
        return self.waitingFrames.popFirst()
    }

    /// A request started: its response, if decided already, or nil and the number for `decide`.
    /// One that cannot be answered ends the input: the frames after it are never started.
    mutating func started(_ decided: Decided?) -> RequestNumber {
        if case .close = decided {
            self.inputEnded = true
            self.waitingFrames.removeAll()
        }
        self.responses.append(decided)
        return self.firstNumber + RequestNumber(self.responses.count - 1)
    }

    /// The response of a started request, decided.
    mutating func decide(_ number: RequestNumber, _ decided: Decided) {
        guard !self.isClosing, number >= self.firstNumber else { return }
        let offset = Int(number - self.firstNumber)
        precondition(offset < self.responses.count, "a response decided for a request never started")
        let index = self.responses.index(self.responses.startIndex, offsetBy: offset)
        precondition(self.responses[index] == nil, "a response decided twice")
        self.responses[index] = decided
    }

    /// What to do next, or nil while the first response is undecided (or the socket is full).
    mutating func nextOutput() -> Output? {
        guard !self.isClosing else { return nil }
        while self.isWritable, let first = self.responses.first, let decided = first {
            self.responses.removeFirst()
            self.firstNumber += 1
            switch decided {
            case .none:
                continue
            case .ready(let frame):
                return .write(frame)
            case .close(let reason):
                self.isClosing = true
                return .close(reason: reason)
            }
        }
        if self.inputEnded, self.responses.isEmpty, self.waitingFrames.isEmpty {
            self.isClosing = true
            return .close(reason: nil)
        }
        return nil
    }
}

extension ConnectionFlow {
    /// What an idle check finds (connections.max.idle.ms).
    enum IdleVerdict: Equatable {
        /// Nothing moved for the limit and the broker owes nothing: close.
        case idle
        /// Look again then.
        case checkAt(NIODeadline)
    }

    /// Whether a connection whose bytes last moved at `lastActivity` is idle at `now`: no activity
    /// for `limit`, and no request the broker still works on (the wait then counts from `now`). A
    /// closing connection owes nothing more: one whose last answers its client never reads is
    /// idle too, rather than waiting for ever to send them before it closes.
    func idleVerdict(lastActivity: NIODeadline, now: NIODeadline, limit: TimeAmount) -> IdleVerdict {
        if self.awaitsBroker && !self.isClosing { return .checkAt(now + limit) }
        let expiry = lastActivity + limit
        return now >= expiry ? .idle : .checkAt(expiry)
    }
}
