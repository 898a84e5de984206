import Dispatch
import Foundation
import NIOConcurrencyHelpers
import SluiceCore
import Testing
@testable import SluiceBroker

/// Where a partition's appends run: on the caller's thread when nothing waits in the lane and the
/// last append was quick, in the lane, in order, otherwise.
@Suite struct AppendLanesTests {
    private static let partition = TopicPartition("t", 0)

    /// Runs `work` through `runOrEnqueue`: whether it ran on this thread.
    private static func runOrEnqueue(_ lanes: AppendLanes, _ order: NIOLockedValueBox<[Int]>, _ number: Int,
                                     sleepingMicroseconds: UInt32 = 0) -> Bool {
        let caller = pthread_self()
        let ranHere = NIOLockedValueBox<Bool?>(nil)
        lanes.runOrEnqueue(Self.partition) {
            if sleepingMicroseconds > 0 { usleep(sleepingMicroseconds) }
            order.withLockedValue { $0.append(number) }
            ranHere.withLockedValue { $0 = pthread_equal(pthread_self(), caller) != 0 }
        }
        return ranHere.withLockedValue { $0 } ?? false
    }

    /// Waits until what the lane holds has run.
    private static func drain(_ lanes: AppendLanes) async {
        while !lanes.isIdle(Self.partition) { try? await Task.sleep(for: .milliseconds(1)) }
    }

    @Test func aLastAppendRunsHereOnlyWhenItsLaneIsIdleAndNoAppendWasSlowLately() async throws {
        // Limits far from what a loaded machine's scheduling delays reach.
        let lanes = AppendLanes(slowAppendNanoseconds: 50_000_000, slowBackoffNanoseconds: 1_000_000_000)
        let order = NIOLockedValueBox<[Int]>([])
        #expect(Self.runOrEnqueue(lanes, order, 1), "an idle lane: run on the caller's thread")
        // Work waiting in the lane: the next append queues behind it, in order.
        let gate = DispatchSemaphore(value: 0)
        lanes.enqueue(Self.partition) {
            gate.wait()
            order.withLockedValue { $0.append(2) }
        }
        #expect(!Self.runOrEnqueue(lanes, order, 3), "a busy lane: queued behind its work")
        gate.signal()
        await Self.drain(lanes)
        #expect(order.withLockedValue { $0 } == [1, 2, 3])
        // A slow append keeps the next ones, of any partition, off the caller's thread for a while.
        #expect(Self.runOrEnqueue(lanes, order, 4, sleepingMicroseconds: 100_000))
        #expect(!Self.runOrEnqueue(lanes, order, 5), "right after a slow append: off the caller's thread")
        await Self.drain(lanes)
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(Self.runOrEnqueue(lanes, order, 6), "the backoff over: back on the caller's thread")
        #expect(order.withLockedValue { $0 } == [1, 2, 3, 4, 5, 6])
    }

    /// A broker whose appends may sync before they return keeps every one in its lane.
    @Test func lanesThatMayNotRunOnCallersNeverDo() async {
        let lanes = AppendLanes(runsOnCallers: false)
        let order = NIOLockedValueBox<[Int]>([])
        #expect(!Self.runOrEnqueue(lanes, order, 1), "an idle lane, yet off the caller's thread")
        await Self.drain(lanes)
        #expect(order.withLockedValue { $0 } == [1])
    }
}
