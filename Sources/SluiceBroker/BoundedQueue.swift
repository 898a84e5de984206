import NIOConcurrencyHelpers

/// A FIFO queue of at most `capacity` elements between one producing and one consuming task:
/// `push` suspends while the queue is full, `pop` while it is empty. The connection handler uses it
/// to bound the requests in flight on one connection.
final class BoundedQueue<Element: Sendable>: @unchecked Sendable {
    private struct State {
        var elements: [Element] = []
        var head = 0
        var isFinished = false
        var pushWaiter: CheckedContinuation<Void, Never>?
        var popWaiter: CheckedContinuation<Element?, Never>?
        var count: Int { self.elements.count - self.head }
    }

    let capacity: Int
    private let state = NIOLockedValueBox(State())

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    /// Adds an element, waiting while the queue is full.
    func push(_ element: Element) async {
        while true {
            let pushed: Bool = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let resume: (CheckedContinuation<Element?, Never>?, Bool) = self.state.withLockedValue { state in
                    if let waiter = state.popWaiter {
                        state.popWaiter = nil
                        return (waiter, true)
                    }
                    if state.count < self.capacity || state.isFinished {
                        state.elements.append(element)
                        return (nil, true)
                    }
                    return (nil, false)
                }
                if let waiter = resume.0 {
                    waiter.resume(returning: element)
                }
                continuation.resume(returning: resume.1)
            }
            if pushed { return }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = self.state.withLockedValue { state -> Bool in
                    if state.count < self.capacity || state.isFinished { return true }
                    state.pushWaiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// The oldest element, waiting while the queue is empty; nil once finished and drained.
    func pop() async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let result: (Element?, Bool, CheckedContinuation<Void, Never>?) = self.state.withLockedValue { state in
                if state.count > 0 {
                    let element = state.elements[state.head]
                    state.head += 1
                    if state.head > 64 && state.head * 2 > state.elements.count {
                        state.elements.removeFirst(state.head)
                        state.head = 0
                    }
                    let waiter = state.pushWaiter
                    state.pushWaiter = nil
                    return (element, true, waiter)
                }
                if state.isFinished { return (nil, true, nil) }
                state.popWaiter = continuation
                return (nil, false, nil)
            }
            result.2?.resume()
            if result.1 { continuation.resume(returning: result.0) }
        }
    }

    /// No more pushes: `pop` returns what is left, then nil.
    func finish() {
        let waiters = self.state.withLockedValue { state -> (CheckedContinuation<Element?, Never>?, CheckedContinuation<Void, Never>?) in
            state.isFinished = true
            defer {
                state.popWaiter = nil
                state.pushWaiter = nil
            }
            return (state.count == 0 ? state.popWaiter : nil, state.pushWaiter)
        }
        waiters.0?.resume(returning: nil)
        waiters.1?.resume()
    }
}
