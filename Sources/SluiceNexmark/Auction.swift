/// An item put up for auction by a seller. Field names are the reference's, as they appear in the
/// JSON form.
public struct Auction: Sendable, Hashable {
    /// From 1000 (`NexmarkGenerator.firstAuctionId`) upward, one per auction event, in stream order.
    public var id: Int64
    public var itemName: String
    public var description: String
    /// Cents.
    public var initialBid: Int64
    /// Cents, at least `initialBid`.
    public var reserve: Int64
    /// Event time, epoch milliseconds.
    public var dateTime: Int64
    /// When the auction closes, epoch milliseconds; after `dateTime`.
    public var expires: Int64
    /// A person id.
    public var seller: Int64
    /// From 10 (`NexmarkGenerator.firstCategoryId`), one of a few.
    public var category: Int64
    /// Random letters that pad the auction toward `NexmarkConfig.averageAuctionByteCount`.
    public var extra: String

    public init(
        id: Int64, itemName: String, description: String, initialBid: Int64, reserve: Int64, dateTime: Int64,
        expires: Int64, seller: Int64, category: Int64, extra: String
    ) {
        self.id = id
        self.itemName = itemName
        self.description = description
        self.initialBid = initialBid
        self.reserve = reserve
        self.dateTime = dateTime
        self.expires = expires
        self.seller = seller
        self.category = category
        self.extra = extra
    }
}
