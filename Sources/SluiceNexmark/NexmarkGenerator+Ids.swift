/// The id arithmetic of the reference: ids follow from event numbers alone, so that no state is kept
/// between events. Ids here are base 0; `firstPersonId` and `firstAuctionId` are added on output.
extension NexmarkGenerator {
    /// The last person id generated at or before event number `eventNumber` (the person of this
    /// group of 50, which comes first in it).
    static func lastPersonIndex(atEventNumber eventNumber: Int64) -> Int64 {
        eventNumber / Self.proportionDenominator * Self.personProportion
    }

    /// The last auction id generated at or before event number `eventNumber`; -1 before the first.
    static func lastAuctionIndex(atEventNumber eventNumber: Int64) -> Int64 {
        var group = eventNumber / Self.proportionDenominator
        var offset = eventNumber % Self.proportionDenominator
        if offset < Self.personProportion {
            // A person: the last auction was in the previous group.
            group -= 1
            offset = Self.auctionProportion - 1
        } else if offset >= Self.personProportion + Self.auctionProportion {
            // A bid: the last auction was this group's last.
            offset = Self.auctionProportion - 1
        } else {
            offset -= Self.personProportion
        }
        return group * Self.auctionProportion + offset
    }

    /// A cold person: uniform over the `activePersonCount` most recent people plus `personIdLeadCount`
    /// not yet generated.
    func randomPersonIndex(atEventNumber eventNumber: Int64, random: inout NexmarkRandom) -> Int64 {
        let personCount = Self.lastPersonIndex(atEventNumber: eventNumber) + 1
        let activeCount = Swift.min(personCount, Int64(self.config.activePersonCount))
        return personCount - activeCount + random.nextInt64(below: activeCount + Int64(self.config.personIdLeadCount))
    }

    /// A cold auction: uniform over the `inFlightAuctionCount` most recent auctions (and the latest)
    /// plus `auctionIdLeadCount` not yet generated.
    func randomAuctionIndex(atEventNumber eventNumber: Int64, random: inout NexmarkRandom) -> Int64 {
        let newest = Self.lastAuctionIndex(atEventNumber: eventNumber)
        let oldest = Swift.max(newest - Int64(self.config.inFlightAuctionCount), 0)
        return oldest + random.nextInt64(below: newest - oldest + 1 + Int64(self.config.auctionIdLeadCount))
    }
}
