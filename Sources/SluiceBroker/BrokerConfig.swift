import SluiceCore
import SluiceLog

/// Settings of `sluice serve`.
public struct BrokerConfig: Sendable {
    /// The address the Kafka listener binds.
    public var listenHost = "127.0.0.1"
    public var listenPort = 9092
    /// What Metadata tells clients to connect to; the listen address when nil.
    public var advertisedHost: String?
    public var advertisedPort: Int?
    /// The one node's id.
    public var nodeId: Int32 = 0
    /// Whether Metadata and Produce create unknown topics (Kafka's auto.create.topics.enable).
    public var autoCreateTopics = true
    /// Partitions of auto-created topics (num.partitions).
    public var defaultPartitionCount: Int32 = 1
    /// group.initial.rebalance.delay.ms.
    public var groupInitialRebalanceDelayMs: Int64 = 3_000
    /// transaction.max.timeout.ms.
    public var transactionTimeoutMsMax: Int32 = 900_000
    /// The largest request frame accepted (socket.request.max.bytes).
    public var frameBytesMax = 100 * 1024 * 1024
    /// Fetch responses are cut at this many bytes whatever the client asks (fetch.max.bytes).
    public var fetchResponseBytesMax: Int32 = 55 * 1024 * 1024
    /// A connection that moves no bytes for this long, with no request the broker still works on,
    /// is closed (connections.max.idle.ms): a client gone silent, or one that never reads its
    /// responses, holds nothing for ever. Nil: never closed for being idle.
    public var connectionsMaxIdleMs: Int64? = 600_000
    public var log = LogOptions()

    public init() {}

    public var advertised: (host: String, port: Int) {
        (self.advertisedHost ?? self.listenHost, self.advertisedPort ?? self.listenPort)
    }
}
