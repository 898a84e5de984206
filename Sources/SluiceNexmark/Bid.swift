/// A bid by a person on an auction. Field names are the reference's, as they appear in the JSON form.
public struct Bid: Sendable, Hashable {
    /// An auction id.
    public var auction: Int64
    /// A person id.
    public var bidder: Int64
    /// Cents.
    public var price: Int64
    /// Where the bid came from: one of four hot channels, or `channel-N`.
    public var channel: String
    public var url: String
    /// Event time, epoch milliseconds.
    public var dateTime: Int64
    /// Random letters that pad the bid toward `NexmarkConfig.averageBidByteCount`.
    public var extra: String

    public init(
        auction: Int64, bidder: Int64, price: Int64, channel: String, url: String, dateTime: Int64, extra: String
    ) {
        self.auction = auction
        self.bidder = bidder
        self.price = price
        self.channel = channel
        self.url = url
        self.dateTime = dateTime
        self.extra = extra
    }
}
