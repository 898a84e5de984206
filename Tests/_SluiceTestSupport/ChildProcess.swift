import Foundation

/// The `sluice` executable built beside the test bundle (or `SLUICE_BINARY`).
public func sluiceExecutablePath() -> String {
    if let explicit = ProcessInfo.processInfo.environment["SLUICE_BINARY"] { return explicit }
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
    // On Linux the test runner sits in .build/<config>/; on Darwin inside an .xctest bundle.
    while !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("sluice").path) && directory.path != "/" {
        directory = directory.deletingLastPathComponent()
    }
    return directory.appendingPathComponent("sluice").path
}

/// A child process whose stdout lines are collected as they arrive.
///
/// Each of its pipes is drained by a thread of its own with blocking reads, not by FileHandle's
/// readability handlers: those are dispatch sources, and a pipe closed while its source is still
/// registered (the handle released before the cancellation ran) crashes libdispatch's event loop,
/// which this suite's many child processes made happen.
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let output: PipeDrain
    private let errors: PipeDrain

    public init(_ executable: String, _ arguments: [String]) throws {
        let output = Pipe()
        let errors = Pipe()
        self.process.executableURL = URL(fileURLWithPath: executable)
        self.process.arguments = arguments
        self.process.standardOutput = output
        self.process.standardError = errors
        self.process.standardInput = FileHandle.nullDevice
        // Process.run closes our copies of the write ends, so the reads end when the child's do.
        try self.process.run()
        self.output = PipeDrain(output.fileHandleForReading)
        self.errors = PipeDrain(errors.fileHandleForReading)
    }

    /// Complete lines printed so far.
    public var lines: [String] {
        let text = String(decoding: self.output.bytes, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The last element is a partial line (or empty after a trailing newline).
        lines.removeLast()
        return lines
    }

    public var standardError: String { String(decoding: self.errors.bytes, as: UTF8.self) }

    public func kill(signal: Int32 = SIGKILL) {
        Foundation.kill(self.process.processIdentifier, signal)
    }

    /// Waits for the process to end and for its pipes to be drained to their end.
    @discardableResult
    public func wait() -> Int32 {
        self.process.waitUntilExit()
        self.output.waitForEnd()
        self.errors.waitForEnd()
        return self.process.terminationStatus
    }

    /// `wait()` from a task, on a thread of its own (`onOwnThread`).
    @discardableResult
    public func wait() async -> Int32 {
        await onOwnThread { self.wait() }
    }

    /// Sends `signal` once `delay` has passed, timed on a thread of its own so that the moment holds
    /// whatever the pool's other tasks do, and waits for the end.
    @discardableResult
    public func kill(after delay: Duration, signal: Int32 = SIGKILL) async -> Int32 {
        let microseconds = delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000
        return await onOwnThread {
            usleep(useconds_t(microseconds))
            self.kill(signal: signal)
            return self.wait()
        }
    }

    /// Waits until a printed line satisfies `predicate`, up to `timeout`, or the process ends
    /// (`eventually`): it holds no thread.
    public func waitForLine(timeout: Duration = .seconds(30), _ predicate: (String) -> Bool) async -> Bool {
        _ = await eventually(timeout: timeout, every: .milliseconds(5)) {
            self.lines.contains(where: predicate) || !self.process.isRunning
        }
        return self.lines.contains(where: predicate)
    }
}

/// Runs a command to completion and returns its exit status and output.
public func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let child = try ChildProcess(executable, arguments)
    let status = child.wait()
    return (status, child.lines.joined(separator: "\n"), child.standardError)
}

/// `runProcess` from a task, on a thread of its own (`onOwnThread`).
public func runProcess(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
    try await onOwnThread { try runProcess(executable, arguments) }
}

/// Reads a pipe to its end on a thread of its own, keeping what it read. The thread holds the file
/// handle, so the descriptor stays open (and is not reused) until the reads end.
final class PipeDrain: @unchecked Sendable {
    private let condition = NSCondition()
    private var data: [UInt8] = []
    private var ended = false

    /// Bytes read per read call.
    static let readBytesMax = 64 * 1024

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            let descriptor = handle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: Self.readBytesMax)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    self.condition.withLock { self.data.append(contentsOf: buffer[0..<count]) }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            try? handle.close()
            self.condition.withLock {
                self.ended = true
                self.condition.broadcast()
            }
        }
        thread.start()
    }

    var bytes: [UInt8] { self.condition.withLock { self.data } }

    func waitForEnd() {
        self.condition.withLock {
            while !self.ended { self.condition.wait() }
        }
    }
}
