import SluiceCore

/// The Nexmark event stream: people, auctions and bids at 1:3:46, with hot auctions, sellers and
/// bidders, reproducing the logic and distributions of Apache Beam's Nexmark generator (and its Flink
/// port's channels and URLs) with a pseudo-random generator of our own.
///
/// Event n is a pure function of the seed, the configuration and n (`event(at:)`), as in the
/// reference, which seeds each event's randomness with its event id. So a run can be split across
/// threads by event-number ranges and still give the same events, and iteration in any chunks gives
/// the same stream.
public struct NexmarkGenerator: Sendable, Sequence, IteratorProtocol {
    /// Events of each kind in every `proportionDenominator` consecutive events, in this order.
    public static let personProportion: Int64 = 1
    public static let auctionProportion: Int64 = 3
    public static let bidProportion: Int64 = 46
    public static let proportionDenominator = personProportion + auctionProportion + bidProportion

    /// Ids start above 0 so that the queries find matches even in small runs (reference).
    public static let firstPersonId: Int64 = 1_000
    public static let firstAuctionId: Int64 = 1_000
    public static let firstCategoryId: Int64 = 10
    /// Categories `firstCategoryId..<firstCategoryId + categoryCount`.
    public static let categoryCount = 5

    /// Hot auctions, sellers and bidders are the first of each group of this many recent ids
    /// (the reference's `HOT_AUCTION_RATIO`, `HOT_SELLER_RATIO`, `HOT_BIDDER_RATIO`).
    static let hotGroupSize: Int64 = 100

    public let seed: UInt64
    public let config: NexmarkConfig
    /// The event numbers this generator iterates over.
    public let eventNumbers: Range<Int64>
    /// The event number `next()` returns next.
    public private(set) var nextEventNumber: Int64

    let tables: NexmarkTables

    /// A generator of the events numbered `eventNumbers`, by default all from 0. The configuration must
    /// be valid (`NexmarkConfig.validate()`); an invalid one is a programmer error and traps.
    public init(
        seed: UInt64 = 42, config: NexmarkConfig = NexmarkConfig(), eventNumbers: Range<Int64> = 0..<Int64.max
    ) {
        do {
            try config.validate()
        } catch {
            preconditionFailure("invalid NexmarkConfig: \(error.message)")
        }
        precondition(eventNumbers.lowerBound >= 0, "event numbers start at 0")
        self.seed = seed
        self.config = config
        self.eventNumbers = eventNumbers
        self.nextEventNumber = eventNumbers.lowerBound
        self.tables = NexmarkTables(seed: seed)
    }

    private init(copying other: NexmarkGenerator, eventNumbers: Range<Int64>) {
        self.seed = other.seed
        self.config = other.config
        self.eventNumbers = eventNumbers
        self.nextEventNumber = eventNumbers.lowerBound
        self.tables = other.tables
    }

    /// A generator of another range of the same stream, sharing this one's tables: what a thread that
    /// generates part of a run uses.
    public func events(in eventNumbers: Range<Int64>) -> NexmarkGenerator {
        precondition(eventNumbers.lowerBound >= 0, "event numbers start at 0")
        return NexmarkGenerator(copying: self, eventNumbers: eventNumbers)
    }

    public mutating func next() -> NexmarkEvent? {
        guard self.nextEventNumber < self.eventNumbers.upperBound else { return nil }
        defer { self.nextEventNumber += 1 }
        return self.event(at: self.nextEventNumber)
    }

    /// The kind of event number `eventNumber`: the first of every 50 is a person, the next 3 auctions,
    /// the other 46 bids.
    public static func kind(ofEventNumber eventNumber: Int64) -> NexmarkEventKind {
        let offset = eventNumber % Self.proportionDenominator
        if offset < Self.personProportion { return .person }
        if offset < Self.personProportion + Self.auctionProportion { return .auction }
        return .bid
    }

    /// Event number `eventNumber`.
    public func event(at eventNumber: Int64) -> NexmarkEvent {
        precondition(eventNumber >= 0, "event numbers start at 0")
        var random = NexmarkRandom(seed: self.seed, eventNumber: eventNumber, stream: .fields)
        let dateTime = self.dateTime(ofEventNumber: eventNumber)
        switch Self.kind(ofEventNumber: eventNumber) {
        case .person: return .person(self.person(at: eventNumber, dateTime: dateTime, random: &random))
        case .auction: return .auction(self.auction(at: eventNumber, dateTime: dateTime, random: &random))
        case .bid: return .bid(self.bid(at: eventNumber, dateTime: dateTime, random: &random))
        }
    }

    /// The event time that event number `eventNumber` would have undelayed, epoch milliseconds: event
    /// times advance by `1000 / firstEventRate` ms per event.
    public func nominalDateTime(ofEventNumber eventNumber: Int64) -> Int64 {
        self.config.baseTime + eventNumber * 1_000 / self.config.firstEventRate
    }

    /// The event time of event number `eventNumber`: its nominal time, earlier by a delay for a
    /// `delayedEventFraction` of events.
    public func dateTime(ofEventNumber eventNumber: Int64) -> Int64 {
        self.nominalDateTime(ofEventNumber: eventNumber) - self.delayMs(ofEventNumber: eventNumber)
    }

    /// How much earlier than its position event number `eventNumber` is stamped: 0, or for a
    /// `delayedEventFraction` of events uniform in `1...delayMaxMs`. Drawn from a stream of its own, so
    /// that delays change no other field.
    public func delayMs(ofEventNumber eventNumber: Int64) -> Int64 {
        guard self.config.delayedEventFraction > 0 && self.config.delayMaxMs > 0 else { return 0 }
        var random = NexmarkRandom(seed: self.seed, eventNumber: eventNumber, stream: .delay)
        guard random.nextUnitDouble() < self.config.delayedEventFraction else { return 0 }
        return 1 + random.nextInt64(below: self.config.delayMaxMs)
    }
}
