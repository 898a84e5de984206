#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SluiceCore

/// An exclusive `flock` on `<data-dir>/.lock`, held for the life of the log so that two processes
/// never write the same data directory. The holder's pid is written into the file for the error.
final class DirectoryLock: @unchecked Sendable {
    private let descriptor: Int32

    init(directory: String) throws(SluiceError) {
        let path = directory + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("cannot open \(path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, 32, 0)
            close(fd)
            let holder = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).trimmingWhitespace : "another process"
            throw SluiceError(.directoryLocked, "data directory \(directory) is in use by process \(holder); stop it or choose another --data-dir")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        self.descriptor = fd
    }

    private var isReleased = false

    /// Gives the directory up; another process may open it from now on.
    func release() {
        guard !self.isReleased else { return }
        self.isReleased = true
        flock(self.descriptor, LOCK_UN)
        close(self.descriptor)
    }

    deinit { self.release() }
}

extension String {
    var trimmingWhitespace: String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
