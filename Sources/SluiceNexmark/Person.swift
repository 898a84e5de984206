/// A person who joins the auction site: a seller of auctions and a bidder in them. Field names are the
/// reference's, as they appear in the JSON form.
public struct Person: Sendable, Hashable {
    /// From 1000 (`NexmarkGenerator.firstPersonId`) upward, one per person event, in stream order.
    public var id: Int64
    public var name: String
    public var emailAddress: String
    /// Four groups of four digits.
    public var creditCard: String
    public var city: String
    /// A US state code; few are used, so that the queries filtering by state find matches.
    public var state: String
    /// Event time, epoch milliseconds.
    public var dateTime: Int64
    /// Random letters that pad the person toward `NexmarkConfig.averagePersonByteCount`.
    public var extra: String

    public init(
        id: Int64, name: String, emailAddress: String, creditCard: String, city: String, state: String,
        dateTime: Int64, extra: String
    ) {
        self.id = id
        self.name = name
        self.emailAddress = emailAddress
        self.creditCard = creditCard
        self.city = city
        self.state = state
        self.dateTime = dateTime
        self.extra = extra
    }
}
