import SluiceCore

/// Every knob of the Nexmark generator, with the reference defaults (Apache Beam's
/// `NexmarkConfiguration`, which the Flink port keeps) unless a comment says otherwise.
///
/// The generator is a pure function of a seed and this configuration: the same pair gives the same
/// events, byte for byte.
public struct NexmarkConfig: Sendable, Hashable {
    /// Event time of event number 0, in epoch milliseconds. The reference uses the wall clock at start;
    /// a fixed default (2024-01-01T00:00:00Z) keeps runs reproducible.
    public var baseTime: Int64 = 1_704_067_200_000

    /// Events per second of event time: event n is stamped `baseTime + n * 1000 / firstEventRate`
    /// (before any delay). The reference default, 10 000, puts 10 000 events in each second of event
    /// time, so that the benchmark queries' 10-second windows each hold 100 000 events.
    public var firstEventRate: Int64 = 10_000

    /// Auctions that are "in flight" at once: the spread of auction ids a cold bid picks from, and the
    /// horizon that auction lengths are drawn around.
    public var inFlightAuctionCount: Int = 100

    /// People considered active: the spread of person ids a cold seller or bidder is drawn from, so that
    /// the density of bids per person does not fall as a run grows.
    public var activePersonCount: Int = 1_000

    /// A bid goes to a hot auction with probability `1 - 1/hotAuctionRatio`.
    public var hotAuctionRatio: Int = 2
    /// An auction is by a hot seller with probability `1 - 1/hotSellersRatio`.
    public var hotSellersRatio: Int = 4
    /// A bid is by a hot bidder with probability `1 - 1/hotBiddersRatio`.
    public var hotBiddersRatio: Int = 4

    /// Average idealized byte size of a person; `extra` pads the fields toward it.
    public var averagePersonByteCount: Int = 200
    /// Average idealized byte size of an auction; `extra` pads the fields toward it.
    public var averageAuctionByteCount: Int = 500
    /// Average idealized byte size of a bid; `extra` pads the fields toward it.
    public var averageBidByteCount: Int = 100

    /// Ids not yet generated that a cold pick may refer to (the reference's `PERSON_ID_LEAD` and
    /// `AUCTION_ID_LEAD`, 10): a bid may name an auction a few ids ahead, as if the auction and the bid
    /// had been swapped in time. 0 makes every cold seller and auction refer to an id already generated.
    public var personIdLeadCount: Int = 10
    /// See `personIdLeadCount`.
    public var auctionIdLeadCount: Int = 10

    /// Fraction of events, of every kind, whose `dateTime` is moved earlier than their position in the
    /// stream. Not from the reference, whose delays (10 % of events, when rate-limited) postpone
    /// emission instead. 1 in 100 keeps the stream mostly ordered while every 10 ms of event time (at the
    /// default rate) still holds a disordered event.
    public var delayedEventFraction: Double = 0.01

    /// The largest delay, in milliseconds; a delayed event is earlier by a uniform 1...this. The default,
    /// the reference's `occasionalDelaySec` of 3 s, stays under the 4-second disorder our queries'
    /// watermarks allow, so that no event is late; raise it to produce late events.
    public var delayMaxMs: Int64 = 3_000

    public init() {}

    /// The largest `averageXByteCount`: `extra` is cut from a pool of random letters a few times larger.
    public static let averageByteCountMax = 65_536
    /// The most events per second of event time (one per microsecond would already be 1 000 000).
    public static let firstEventRateMax: Int64 = 1_000_000_000
    /// The largest delay: a day, far beyond any watermark disorder worth testing.
    public static let delayMaxMsMax: Int64 = 86_400_000
    /// The largest in-flight, active-people and lead counts: a bound that keeps id arithmetic far
    /// from overflow.
    public static let populationCountMax = 1_000_000_000

    /// Throws `invalidConfiguration`, naming the knob and its accepted range, when a value is out of range.
    public func validate() throws(SluiceError) {
        func check(_ condition: Bool, _ message: @autoclosure () -> String) throws(SluiceError) {
            if !condition { throw SluiceError(.invalidConfiguration, message()) }
        }
        try check(
            self.firstEventRate >= 1 && self.firstEventRate <= Self.firstEventRateMax,
            "first event rate must be between 1 and \(Self.firstEventRateMax) events per second, got \(self.firstEventRate)"
        )
        try check(
            self.inFlightAuctionCount >= 1 && self.inFlightAuctionCount <= Self.populationCountMax,
            "in-flight auction count must be between 1 and \(Self.populationCountMax), got \(self.inFlightAuctionCount)"
        )
        try check(
            self.activePersonCount >= 1 && self.activePersonCount <= Self.populationCountMax,
            "active person count must be between 1 and \(Self.populationCountMax), got \(self.activePersonCount)")
        for (name, ratio) in [
            ("hot auction", self.hotAuctionRatio), ("hot sellers", self.hotSellersRatio),
            ("hot bidders", self.hotBiddersRatio),
        ] {
            try check(
                ratio >= 1 && ratio <= Self.populationCountMax,
                "\(name) ratio must be between 1 and \(Self.populationCountMax), got \(ratio)")
        }
        for (name, average) in [
            ("person", self.averagePersonByteCount), ("auction", self.averageAuctionByteCount),
            ("bid", self.averageBidByteCount),
        ] {
            try check(
                average >= 0 && average <= Self.averageByteCountMax,
                "average \(name) byte count must be between 0 and \(Self.averageByteCountMax), got \(average)")
        }
        for (name, lead) in [("person", self.personIdLeadCount), ("auction", self.auctionIdLeadCount)] {
            try check(
                lead >= 0 && lead <= Self.populationCountMax,
                "\(name) id lead must be between 0 and \(Self.populationCountMax), got \(lead)")
        }
        try check(
            self.delayedEventFraction >= 0 && self.delayedEventFraction <= 1,
            "delayed event fraction must be between 0 and 1, got \(self.delayedEventFraction)")
        try check(
            self.delayMaxMs >= 0 && self.delayMaxMs <= Self.delayMaxMsMax,
            "delay maximum must be between 0 and \(Self.delayMaxMsMax) ms, got \(self.delayMaxMs)")
    }
}
