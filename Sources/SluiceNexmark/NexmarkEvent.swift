/// One event of the Nexmark stream: a new person, a new auction or a bid.
public enum NexmarkEvent: Sendable, Hashable {
    case person(Person)
    case auction(Auction)
    case bid(Bid)

    public var kind: NexmarkEventKind {
        switch self {
        case .person: .person
        case .auction: .auction
        case .bid: .bid
        }
    }

    /// Event time, epoch milliseconds: the record timestamp when the event is written to a topic.
    public var dateTime: Int64 {
        switch self {
        case .person(let person): person.dateTime
        case .auction(let auction): auction.dateTime
        case .bid(let bid): bid.dateTime
        }
    }
}
