import Logging
import NIOCore
import SluiceCore
import SluiceKafkaProtocol
import SluiceLog
import Testing
import _SluiceTestSupport
@testable import SluiceBroker

/// A broker over a log in a temporary directory, driven through `Broker.start` without a socket:
/// the order of requests is then the test's own.
func withDirectBroker(_ prefix: String, topics: [String: Int32], durability: DurabilityPolicy? = nil,
                      _ body: (Exchange, Log) async throws -> Void) async throws {
    let directory = TemporaryDirectory(prefix: prefix)
    defer { directory.remove() }
    var options = LogOptions()
    if let durability { options.durability = durability }
    options.runsMaintenance = false
    let log = try Log(directory: directory.path, options: options)
    defer { try? log.close() }
    for (topic, partitionCount) in topics { try log.createTopic(topic, config: TopicConfig(partitionCount: partitionCount)) }
    let broker = try await Broker(log: log, config: BrokerConfig(), clusterId: "test", logger: Logger(label: "test"))
    try await body(Exchange(broker: broker), log)
}

/// Requests through `Broker.start` as one connection sends them.
struct Exchange {
    let broker: Broker
    let connection = ConnectionContext(id: 1, remoteAddress: "test")

    /// Starts a request (as the connection's reader does) without waiting for its answer.
    func start<Request: KafkaMessage>(_ request: Request, version: Int16, correlationId: Int32 = 1) throws -> PendingResponse {
        var frame = ByteBufferAllocator().buffer(capacity: 256)
        try KafkaRequestFrame.write(request, version: version, correlationId: correlationId, clientId: "test", into: &frame)
        frame.moveReaderIndex(forwardBy: 4)  // The size prefix, which the frame assembler strips.
        return self.broker.start(frame: frame, connection: self.connection)
    }

    /// The answer of a started request.
    func response<Response: KafkaMessage>(to pending: PendingResponse, apiKey: ApiKey, version: Int16, as: Response.Type) async throws -> Response {
        let pending = await pending.decided()
        guard case .ready(var answer) = pending else { throw SluiceError(.invalidRequest, "no response: \(pending)") }
        answer.moveReaderIndex(forwardBy: 4)  // The size prefix, written to the socket as it is.
        let parsed = try KafkaResponseFrame(parsing: answer, headerVersion: apiKey.responseHeaderVersion(for: version))
        return try Response(decoding: parsed.body, version: version)
    }

    func send<Request: KafkaMessage, Response: KafkaMessage>(_ request: Request, version: Int16, as: Response.Type) async throws -> Response {
        let apiKey = try #require(ApiKey(rawValue: Request.apiKey))
        return try await self.response(to: try self.start(request, version: version), apiKey: apiKey, version: version, as: Response.self)
    }
}
