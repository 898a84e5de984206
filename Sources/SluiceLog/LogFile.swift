#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSluiceFile
import NIOCore
import SluiceCore

/// A file descriptor with the few positioned operations the log needs. Closed on deinit, so a
/// reader holding a segment keeps reading even after the segment was deleted or replaced.
final class LogFile: @unchecked Sendable {
    let path: String
    let descriptor: Int32

    /// Opens (or creates) `path` for reading and writing.
    init(path: String, create: Bool) throws(SluiceError) {
        self.path = path
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw ioError("cannot open \(path)") }
        self.descriptor = fd
    }

    deinit { close(self.descriptor) }

    private func status() throws(SluiceError) -> stat {
        var info = stat()
        guard fstat(self.descriptor, &info) == 0 else { throw ioError("cannot stat \(self.path)") }
        return info
    }

    /// The file's size on disk.
    func size() throws(SluiceError) -> Int64 {
        Int64(try self.status().st_size)
    }

    /// The file's last modification, in milliseconds since the epoch.
    func modificationTimeMillis() throws(SluiceError) -> Int64 {
        let modified = try self.status().st_mtim
        return Int64(modified.tv_sec) * 1000 + Int64(modified.tv_nsec) / 1_000_000
    }

    /// Bytes of disk blocks the file holds (reserved ones included).
    func allocatedBytes() throws(SluiceError) -> Int64 {
        Int64(try self.status().st_blocks) * 512
    }

    /// Writes all of `bytes` at `position`. On failure the caller truncates back.
    func write(_ bytes: UnsafeRawBufferPointer, at position: Int64) throws(SluiceError) {
        var written = 0
        while written < bytes.count {
            let result = pwrite(self.descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(position) + off_t(written))
            if result < 0 {
                if errno == EINTR { continue }
                throw ioError("cannot write \(bytes.count) bytes at byte \(position) of \(self.path)")
            }
            written += result
        }
    }

    /// Writes `prefix` then `rest` at `position` with one pwritev: how a batch is stored with its
    /// rewritten header without copying the batch.
    func write(prefix: [UInt8], rest: UnsafeRawBufferPointer, at position: Int64) throws(SluiceError) {
        let total = prefix.count + rest.count
        let written: Int = prefix.withUnsafeBytes { head in
            var vectors = [
                iovec(iov_base: UnsafeMutableRawPointer(mutating: head.baseAddress), iov_len: head.count),
                iovec(iov_base: UnsafeMutableRawPointer(mutating: rest.baseAddress), iov_len: rest.count),
            ]
            while true {
                let result = pwritev(self.descriptor, &vectors, 2, off_t(position))
                if result < 0 && errno == EINTR { continue }
                return result
            }
        }
        guard written >= 0 else { throw ioError("cannot write \(total) bytes at byte \(position) of \(self.path)") }
        if written < total {
            // A short write: finish plainly.
            var bytes = prefix
            bytes.append(contentsOf: rest)
            try bytes.withUnsafeBytes { raw in Result { () throws(SluiceError) in
                try self.write(UnsafeRawBufferPointer(rebasing: raw[written...]), at: position + Int64(written))
            } }.get()
        }
    }

    func write(_ buffer: ByteBuffer, at position: Int64) throws(SluiceError) {
        try buffer.withUnsafeReadableBytes { raw in Result { () throws(SluiceError) in try self.write(raw, at: position) } }.get()
    }

    func write(_ bytes: [UInt8], at position: Int64) throws(SluiceError) {
        try bytes.withUnsafeBytes { raw in Result { () throws(SluiceError) in try self.write(raw, at: position) } }.get()
    }

    /// Reads up to `byteCount` bytes at `position` into a new buffer; fewer at end of file.
    func read(at position: Int64, byteCount: Int) throws(SluiceError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: byteCount)
        try self.read(at: position, byteCount: byteCount, into: &buffer)
        return buffer
    }

    /// Appends up to `byteCount` bytes read at `position` to `buffer`.
    func read(at position: Int64, byteCount: Int, into buffer: inout ByteBuffer) throws(SluiceError) {
        guard byteCount > 0 else { return }
        let fd = self.descriptor
        var failure: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: byteCount) { raw in
            var total = 0
            while total < byteCount {
                let result = pread(fd, raw.baseAddress! + total, byteCount - total, off_t(position) + off_t(total))
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if result == 0 { break }
                total += result
            }
            return total
        }
        if failure != 0 {
            throw SluiceError(.ioFailure, "cannot read \(byteCount) bytes at byte \(position) of \(self.path)", underlying: Errno(failure))
        }
    }

    /// Flushes the file's data (and the metadata needed to read it) to the device.
    func sync() throws(SluiceError) {
        #if canImport(Darwin)
        let result = fsync(self.descriptor)
        #else
        let result = fdatasync(self.descriptor)
        #endif
        guard result == 0 else { throw ioError("cannot sync \(self.path)") }
    }

    /// The largest unit in which the page cache may keep file data (a PMD-sized folio on Linux).
    static let folioBytesMax: Int64 = 2 * 1024 * 1024

    /// Where to start dropping a range that follows one dropped up to `position`: the kernel keeps a
    /// page, or a large folio of pages, that a range covers only in part, so a range starts on a
    /// folio boundary at least a folio before, to take what the previous range left.
    static func folioAlignedStart(before position: Int64) -> Int64 {
        max(0, position - Self.folioBytesMax) / Self.folioBytesMax * Self.folioBytesMax
    }

    /// Tells the kernel that the synced bytes in `start..<end` will not be read soon: their pages
    /// leave the page cache. Only a hint: a failure changes nothing but memory use.
    func dropCachedPages(from start: Int64, upTo end: Int64) {
        #if os(Linux)
        _ = posix_fadvise(self.descriptor, off_t(start), off_t(end - start), POSIX_FADV_DONTNEED)
        #endif
    }

    /// Reserves disk blocks for `byteCount` bytes at `position` without changing the file's size.
    /// Writes into reserved blocks skip the filesystem's per-page delayed allocation (on ext4 about a
    /// fifth of the CPU a buffered write costs). False where unsupported or when the disk is full:
    /// writes then allocate as they go, as without it.
    func preallocate(from position: Int64, byteCount: Int64) -> Bool {
        csluice_preallocate_keeping_size(self.descriptor, position, byteCount) == 0
    }

    /// Sets the size; also frees blocks reserved past it, even when the size does not change.
    func truncate(to size: Int64) throws(SluiceError) {
        guard ftruncate(self.descriptor, off_t(size)) == 0 else { throw ioError("cannot truncate \(self.path) to \(size) bytes") }
    }
}

/// A SluiceError for the current errno; ENOSPC, EDQUOT and EFBIG become `.diskFull`.
func ioError(_ message: String) -> SluiceError {
    let code = errno
    if code == ENOSPC || code == EDQUOT || code == EFBIG {
        return SluiceError(.diskFull, "\(message): the disk is full", underlying: Errno(code))
    }
    return SluiceError(.ioFailure, message, underlying: Errno(code))
}

/// Small file-system operations of the log, all throwing SluiceError.
public enum FileSystem {
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func makeDirectory(_ path: String) throws(SluiceError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { throw ioError("cannot create directory \(prefix)") }
        }
    }

    /// The names in a directory, sorted, without `.` and `..`.
    public static func list(_ path: String) throws(SluiceError) -> [String] {
        guard let directory = opendir(path) else { throw ioError("cannot list \(path)") }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = entryName(entry)
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The name of a directory entry, read in place: `readdir` returns a record only as long as the
    /// name, so copying the whole `d_name` array could read past the end of its buffer.
    private static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
        let offset = MemoryLayout<dirent>.offset(of: \.d_name)!
        return String(cString: UnsafeRawPointer(entry).advanced(by: offset).assumingMemoryBound(to: CChar.self))
    }

    public static func remove(_ path: String) throws(SluiceError) {
        if unlink(path) != 0 && errno != ENOENT { throw ioError("cannot remove \(path)") }
    }

    public static func removeTree(_ path: String) throws(SluiceError) {
        if isDirectory(path) {
            for name in try list(path) { try removeTree(path + "/" + name) }
            if rmdir(path) != 0 && errno != ENOENT { throw ioError("cannot remove directory \(path)") }
        } else {
            try remove(path)
        }
    }

    public static func rename(_ from: String, _ to: String) throws(SluiceError) {
        guard Glibc.rename(from, to) == 0 else { throw ioError("cannot rename \(from) to \(to)") }
    }

    /// Makes a directory's entries (new, renamed or removed files) durable.
    static func syncDirectory(_ path: String) throws(SluiceError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open directory \(path)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw ioError("cannot sync directory \(path)") }
    }

    public static func readAll(_ path: String) throws(SluiceError) -> [UInt8] {
        let file = try LogFile(path: path, create: false)
        let size = try file.size()
        let buffer = try file.read(at: 0, byteCount: Int(size))
        return Array(buffer.readableBytesView)
    }

    /// Writes `bytes` to `path` atomically: a temporary file, fsync, rename, directory fsync.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(SluiceError) {
        let temporary = path + ".tmp"
        do {
            let file = try LogFile(path: temporary, create: true)
            try file.truncate(to: 0)
            try file.write(bytes, at: 0)
            try file.sync()
        }
        try rename(temporary, path)
        try syncDirectory(parent(of: path))
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }
}
