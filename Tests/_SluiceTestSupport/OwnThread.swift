import Foundation

/// Runs blocking work (a child process's end, a `system` call, a sleep that must not yield) on a
/// thread of its own and awaits it there.
///
/// The tests run as tasks on Swift's cooperative pool, which has one thread per core for each
/// priority: two at the tests' default priority on the CI machine. A test that blocks one of them
/// (waiting for a child, running psql, sleeping) takes it from every other task at that priority,
/// and two such tests starve the rest, among them the broker under test in this process, for as
/// long as they block.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.start()
    }
}

/// `onOwnThread` for work that cannot fail.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread { continuation.resume(returning: work()) }
        thread.start()
    }
}

/// `shell`, on a thread of its own.
public func shell(_ command: String) async -> Int32 {
    await onOwnThread { shell(command) }
}

/// Looks at `condition` every `interval` until it holds or `timeout` has passed, and once more after
/// the deadline: on a loaded machine one pause between two looks can outlast the whole timeout.
/// Returns whether the condition held. Each pause is a `Task.sleep`, which holds no thread.
public func eventually(timeout: Duration, every interval: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        let late = ContinuousClock.now >= deadline
        if try await condition() { return true }
        if late { return false }
        try? await Task.sleep(for: interval)
    }
}
