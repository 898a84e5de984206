/// Named limits, checked where data enters. Units are in the names.
public enum Limits {
    /// The largest record batch accepted by the log or the codec (Kafka's message.max.bytes default is 1 MiB;
    /// this is the ceiling a topic may raise it to).
    public static let batchBytesMax = 64 * 1024 * 1024
    /// The most records one batch may claim to hold; protects decoders from absurd counts.
    public static let batchRecordCountMax = 1_000_000
    /// The largest decompressed payload of one batch.
    public static let decompressedBytesMax = 256 * 1024 * 1024
    /// The largest key, value or header accepted in a record.
    public static let recordFieldBytesMax = 64 * 1024 * 1024
    /// The most headers in one record.
    public static let recordHeaderCountMax = 10_000
}
