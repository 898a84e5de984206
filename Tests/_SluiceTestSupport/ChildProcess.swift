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
public final class ChildProcess: @unchecked Sendable {
    public let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    private let lock = NSLock()
    private var buffered = Data()
    private var errorText = Data()

    public init(_ executable: String, _ arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: executable)
        self.process.arguments = arguments
        self.process.standardOutput = self.output
        self.process.standardError = self.errors
        self.process.standardInput = FileHandle.nullDevice
        self.output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.buffered.append(data) }
        }
        self.errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.errorText.append(data) }
        }
        try self.process.run()
    }

    /// Complete lines printed so far.
    public var lines: [String] {
        self.lock.withLock {
            let text = String(decoding: self.buffered, as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            // The last element is a partial line (or empty after a trailing newline).
            lines.removeLast()
            return lines
        }
    }

    public var standardError: String { self.lock.withLock { String(decoding: self.errorText, as: UTF8.self) } }

    public func kill(signal: Int32 = SIGKILL) {
        Foundation.kill(self.process.processIdentifier, signal)
    }

    /// Waits for the process to end, then drains what it printed.
    @discardableResult
    public func wait() -> Int32 {
        self.process.waitUntilExit()
        // Let the readability handlers deliver the last bytes.
        let rest = self.output.fileHandleForReading.readDataToEndOfFile()
        let restErrors = self.errors.fileHandleForReading.readDataToEndOfFile()
        self.output.fileHandleForReading.readabilityHandler = nil
        self.errors.fileHandleForReading.readabilityHandler = nil
        self.lock.withLock {
            self.buffered.append(rest)
            self.errorText.append(restErrors)
        }
        return self.process.terminationStatus
    }

    /// Waits until a printed line satisfies `predicate`, up to `timeout`.
    public func waitForLine(timeout: Duration = .seconds(30), _ predicate: (String) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if self.lines.contains(where: predicate) { return true }
            if !self.process.isRunning { return self.lines.contains(where: predicate) }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }
}

/// Runs a command to completion and returns its exit status and output.
public func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String, errors: String) {
    let child = try ChildProcess(executable, arguments)
    let status = child.wait()
    return (status, child.lines.joined(separator: "\n"), child.standardError)
}
