import Foundation
import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog

#if canImport(Glibc)
import Glibc
#endif

/// `sluice serve`: the log, the broker and its listener, until SIGTERM or SIGINT, then a graceful
/// stop: stop accepting, let in-flight requests finish, sync, mark the log's shutdown clean.
public enum BrokerService {
    /// How long a graceful stop waits for in-flight requests.
    static let drainTimeout: Duration = .seconds(10)

    /// `services` run beside the broker over the same log (connectors, say); one that throws stops the
    /// broker with its error, and all are cancelled at shutdown.
    public static func run(dataDirectory: String, config: BrokerConfig, logger: Logger,
                           services: [@Sendable (Log) async throws -> Void] = [],
                           onListening: @escaping @Sendable (String) -> Void) async throws {
        let log = try Log(directory: dataDirectory, options: config.log)
        for report in log.recoveryReports { logger.warning("recovery truncated corrupt data: \(report)") }
        let clusterId = try Self.clusterId(dataDirectory)
        let broker = try await Broker(log: log, config: config, clusterId: clusterId, logger: logger)
        let server = KafkaServer(host: config.listenHost, port: config.listenPort, processor: broker, frameBytesMax: config.frameBytesMax,
                                 connectionIdleLimit: config.connectionsMaxIdleMs.map { .milliseconds($0) }, logger: logger)
        let signals = SignalWaiter(signals: [SIGTERM, SIGINT])
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await server.run { address in onListening("\(config.listenHost):\(address.port ?? config.listenPort)") }
                    throw ShutdownRequested()  // the server drained
                }
                group.addTask { await broker.runTimers() }
                for service in services {
                    group.addTask {
                        try await service(log)
                        // A service that finished (a one-off snapshot) leaves the broker running.
                        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
                    }
                }
                group.addTask {
                    let signal = await signals.wait()
                    logger.info("received signal \(signal): draining connections")
                    server.drain()
                    try await Task.sleep(for: Self.drainTimeout)
                    logger.warning("connections did not drain within \(Self.drainTimeout); closing them")
                    throw ShutdownRequested()
                }
                _ = try await group.next()
                group.cancelAll()
            }
        } catch is ShutdownRequested {
        } catch {
            try? log.close()
            throw error
        }
        try log.close()
        logger.info("log closed cleanly")
    }

    struct ShutdownRequested: Error {}

    /// The cluster id, made once and kept in the data directory (as Kafka's meta.properties).
    static func clusterId(_ directory: String) throws -> String {
        let path = directory + "/cluster-id"
        if let fd = fopen(path, "r") {
            defer { fclose(fd) }
            var buffer = [CChar](repeating: 0, count: 64)
            if fgets(&buffer, 64, fd) != nil {
                let id = String(cString: buffer).trimmingCharacters(in: " \n")
                if !id.isEmpty { return id }
            }
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let id = String((0..<22).map { _ in alphabet.randomElement()! })
        guard let fd = fopen(path, "w") else { throw SluiceError(.ioFailure, "cannot write \(path)") }
        fputs(id + "\n", fd)
        fflush(fd)
        fsync(fileno(fd))
        fclose(fd)
        return id
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}

/// Waits for one of a few signals: their default action is replaced by a Dispatch signal source,
/// so that a SIGTERM starts a graceful stop instead of killing the process.
public final class SignalWaiter: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let queue = DispatchQueue(label: "sluice.signals")
    private let lock = NSLock()
    private var receivedSignal: Int32?
    private var waiter: CheckedContinuation<Int32, Never>?

    public init(signals: [Int32]) {
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: self.queue)
            sources.append(source)
        }
        self.sources = sources
        for (source, number) in zip(sources, signals) {
            source.setEventHandler { [weak self] in self?.deliver(number) }
            source.resume()
        }
    }

    private func deliver(_ number: Int32) {
        let waiter: CheckedContinuation<Int32, Never>? = self.lock.withLock {
            if self.receivedSignal == nil { self.receivedSignal = number }
            defer { self.waiter = nil }
            return self.waiter
        }
        waiter?.resume(returning: number)
    }

    /// The first signal received, if any: for loops that poll rather than await.
    public var received: Int32? { self.lock.withLock { self.receivedSignal } }

    public func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let ready: Int32? = self.lock.withLock {
                if let received = self.receivedSignal { return received }
                self.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
