import NIOCore
import Testing
@testable import SluiceBroker

/// The connection's flow without a socket: request order, the bound on requests in flight, reads
/// held and resumed, and how a connection ends.
@Suite struct ConnectionFlowTests {
    private static func frame(_ byte: UInt8) -> ByteBuffer { ByteBuffer(bytes: [byte]) }

    /// Reads frames 0..<count and starts as many as the flow lets start, none decided: their numbers.
    private static func readAndStart(_ count: UInt8, _ flow: inout ConnectionFlow) -> [ConnectionFlow.RequestNumber] {
        for byte in UInt8(0)..<count { flow.frameRead(Self.frame(byte)) }
        var numbers: [ConnectionFlow.RequestNumber] = []
        while flow.nextFrameToStart() != nil { numbers.append(flow.started(nil)) }
        return numbers
    }

    /// The frames written until the flow has nothing more to give, and whether it then closes.
    private static func drain(_ flow: inout ConnectionFlow) -> (written: [UInt8], close: String??) {
        var written: [UInt8] = []
        while let output = flow.nextOutput() {
            switch output {
            case .write(let frame): written.append(frame.getInteger(at: frame.readerIndex)!)
            case .close(let reason): return (written, .some(reason))
            }
        }
        return (written, nil)
    }

    @Test func responsesLeaveInRequestOrderWhateverOrderTheyAreDecidedIn() {
        var flow = ConnectionFlow(requestsInFlightMax: 8)
        let numbers = Self.readAndStart(5, &flow)
        #expect(numbers.count == 5)
        flow.decide(numbers[3], .ready(Self.frame(3)))
        flow.decide(numbers[1], .ready(Self.frame(1)))
        #expect(Self.drain(&flow).written == [])
        flow.decide(numbers[0], .ready(Self.frame(0)))
        #expect(Self.drain(&flow).written == [0, 1])
        flow.decide(numbers[2], .none)  // acks=0: nothing written, the next one goes out
        #expect(Self.drain(&flow).written == [3])
        flow.decide(numbers[4], .ready(Self.frame(4)))
        let last = Self.drain(&flow)
        #expect(last.written == [4])
        #expect(last.close == nil)
        #expect(flow.requestsInFlight == 0)
    }

    @Test func atMostTheBoundIsStartedAndTheNextStartsOnceTheFirstResponseLeaves() {
        var flow = ConnectionFlow(requestsInFlightMax: 2)
        var numbers = Self.readAndStart(3, &flow)
        #expect(numbers.count == 2)
        #expect(flow.requestsInFlight == 2)
        #expect(!flow.wantsRead)
        flow.decide(numbers[1], .ready(Self.frame(1)))
        #expect(flow.nextFrameToStart() == nil, "the second response cannot leave before the first")
        flow.decide(numbers[0], .ready(Self.frame(0)))
        #expect(Self.drain(&flow).written == [0, 1])
        let third = flow.nextFrameToStart()
        #expect(third?.getInteger(at: 0, as: UInt8.self) == 2)
        numbers.append(flow.started(nil))
        #expect(flow.wantsRead, "one in flight, none waiting: read again")
    }

    @Test func aFullSocketHoldsResponsesAndReads() {
        var flow = ConnectionFlow(requestsInFlightMax: 4)
        flow.frameRead(Self.frame(0))
        _ = flow.nextFrameToStart()
        _ = flow.started(.ready(Self.frame(0)))
        flow.isWritable = false
        #expect(flow.nextOutput() == nil)
        #expect(!flow.wantsRead)
        flow.isWritable = true
        #expect(Self.drain(&flow).written == [0])
        #expect(flow.wantsRead)
    }

    /// A request refused at once (a malformed header, say): the frames read after it never start,
    /// so that no produce behind it appends data whose answer the closing connection would drop.
    @Test func aRequestRefusedAtOnceClosesAfterTheEarlierResponsesAndNothingAfterItStarts() {
        var flow = ConnectionFlow(requestsInFlightMax: 8)
        for byte in UInt8(0)..<3 { flow.frameRead(Self.frame(byte)) }
        _ = flow.nextFrameToStart()
        let first = flow.started(nil)
        _ = flow.nextFrameToStart()
        _ = flow.started(.close(reason: "malformed"))
        #expect(flow.nextFrameToStart() == nil)
        #expect(!flow.wantsRead)
        flow.decide(first, .ready(Self.frame(0)))
        let result = Self.drain(&flow)
        #expect(result.written == [0])
        #expect(result.close == .some("malformed"))
        #expect(flow.isClosing)
        #expect(flow.nextOutput() == nil, "nothing after the close")
    }

    @Test func theInputEndingClosesOnceEverythingReadIsAnswered() {
        var flow = ConnectionFlow(requestsInFlightMax: 1)
        flow.frameRead(Self.frame(0))
        flow.frameRead(Self.frame(1))
        _ = flow.nextFrameToStart()
        let first = flow.started(nil)
        flow.endInput()
        #expect(!flow.wantsRead)
        flow.frameRead(Self.frame(9))  // after the end: dropped
        #expect(Self.drain(&flow).close == nil, "the first is unanswered and the second waits")
        flow.decide(first, .ready(Self.frame(0)))
        #expect(Self.drain(&flow).written == [0])
        let second = flow.nextFrameToStart()
        #expect(second?.getInteger(at: 0, as: UInt8.self) == 1)
        let number = flow.started(nil)
        #expect(flow.nextFrameToStart() == nil, "the frame read after the end never starts")
        flow.decide(number, .ready(Self.frame(1)))
        let last = Self.drain(&flow)
        #expect(last.written == [1])
        #expect(last.close == .some(nil))
    }

    @Test func aClosedConnectionIgnoresLateResponses() {
        var flow = ConnectionFlow(requestsInFlightMax: 4)
        flow.frameRead(Self.frame(0))
        _ = flow.nextFrameToStart()
        let number = flow.started(nil)
        flow.close()
        flow.decide(number, .ready(Self.frame(0)))
        #expect(flow.nextOutput() == nil)
    }

    /// connections.max.idle.ms: idle once nothing moved for the limit, unless the broker still owes
    /// an answer, which restarts the wait from now.
    @Test func aConnectionIsIdleOnlyWhenNothingMovedAndNothingIsOwed() {
        var flow = ConnectionFlow(requestsInFlightMax: 4)
        let limit = TimeAmount.milliseconds(100)
        let last = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(flow.idleVerdict(lastActivity: last, now: last + .milliseconds(40), limit: limit) == .checkAt(last + limit))
        #expect(flow.idleVerdict(lastActivity: last, now: last + limit, limit: limit) == .idle)
        flow.frameRead(Self.frame(0))
        flow.frameRead(Self.frame(1))
        _ = flow.nextFrameToStart()
        let owed = flow.started(nil)
        _ = flow.nextFrameToStart()
        _ = flow.started(.ready(Self.frame(1)))
        #expect(flow.awaitsBroker)
        let late = last + .seconds(5)
        #expect(flow.idleVerdict(lastActivity: last, now: late, limit: limit) == .checkAt(late + limit))
        var closing = flow
        closing.close()
        #expect(closing.idleVerdict(lastActivity: last, now: late, limit: limit) == .idle, "a closing connection owes nothing more")
        flow.decide(owed, .ready(Self.frame(0)))
        #expect(!flow.awaitsBroker, "answered, even if not written yet")
        #expect(flow.idleVerdict(lastActivity: last, now: late, limit: limit) == .idle)
    }
}
