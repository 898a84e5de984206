/// The body of a Kafka request or response.
public protocol KafkaMessage: KafkaCodable {
    /// The API key of the request/response pair this body belongs to.
    static var apiKey: Int16 { get }
}
