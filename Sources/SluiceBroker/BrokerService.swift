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

    public static func run(dataDirectory: String, config: BrokerConfig, logger: Logger, onListening: @escaping @Sendable (String) -> Void) async throws {
        let log = try Log(directory: dataDirectory, options: config.log)
        for report in log.recoveryReports { logger.warning("recovery truncated corrupt data: \(report)") }
        let clusterId = try Self.clusterId(dataDirectory)
        let broker = try await Broker(log: log, config: config, clusterId: clusterId, logger: logger)
        let server = KafkaServer(host: config.listenHost, port: config.listenPort, processor: broker, frameBytesMax: config.frameBytesMax, logger: logger)
        let signals = SignalWaiter(signals: [SIGTERM, SIGINT])
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await server.run { address in onListening("\(config.listenHost):\(address.port ?? config.listenPort)") }
                }
                group.addTask { await broker.runTimers() }
                group.addTask {
                    let signal = await signals.wait()
                    logger.info("received signal \(signal): shutting down")
                    throw ShutdownRequested()
                }
                try await group.next()
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

/// Waits for one of a few signals without a handler that runs arbitrary code: the signals are
/// blocked and a thread waits for them with sigwait.
final class SignalWaiter: Sendable {
    private let signals: [Int32]

    init(signals: [Int32]) {
        self.signals = signals
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        // Block in this thread and every thread created after it, so that sigwait receives them.
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    func wait() async -> Int32 {
        let signals = self.signals
        return await withCheckedContinuation { continuation in
            let thread = Thread {
                var set = sigset_t()
                sigemptyset(&set)
                for signal in signals { sigaddset(&set, signal) }
                var received: Int32 = 0
                sigwait(&set, &received)
                continuation.resume(returning: received)
            }
            thread.start()
        }
    }
}
