#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain mutex for small critical sections on hot paths (no actors there, STYLE.md).
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(self.mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(self.mutex)
        self.mutex.deallocate()
    }

    @inline(__always) func lock() { pthread_mutex_lock(self.mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(self.mutex) }

    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        self.lock()
        defer { self.unlock() }
        return try body()
    }

    /// Waits on `condition`, releasing this lock meanwhile; `timeoutNanoseconds` nil waits forever.
    func wait(on condition: Condition, timeoutNanoseconds: Int64? = nil) {
        if let timeoutNanoseconds {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let total = Int64(now.tv_nsec) + timeoutNanoseconds
            var deadline = timespec(tv_sec: now.tv_sec + Int(total / 1_000_000_000), tv_nsec: Int(total % 1_000_000_000))
            pthread_cond_timedwait(condition.condition, self.mutex, &deadline)
        } else {
            pthread_cond_wait(condition.condition, self.mutex)
        }
    }
}

/// A condition variable used with `Lock`.
final class Condition: @unchecked Sendable {
    fileprivate let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() { pthread_cond_init(self.condition, nil) }

    deinit {
        pthread_cond_destroy(self.condition)
        self.condition.deallocate()
    }

    func signal() { pthread_cond_signal(self.condition) }
    func broadcast() { pthread_cond_broadcast(self.condition) }
}

/// Wall-clock milliseconds since the epoch, as record timestamps count.
public func currentTimeMillis() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
