extension NexmarkGenerator {
    /// The byte count the reference charges an auction for its id, prices, times, seller and category.
    static let auctionFixedByteCount = 8 + 8 + 8 + 8 + 8 + 8
    /// Item names are words shorter than this; descriptions shorter than `descriptionLengthLimit`.
    static let itemNameLengthLimit = 20
    static let descriptionLengthLimit = 100

    func auction(at eventNumber: Int64, dateTime: Int64, random: inout NexmarkRandom) -> Auction {
        let id = Self.lastAuctionIndex(atEventNumber: eventNumber) + Self.firstAuctionId
        var seller: Int64
        if random.nextInt(below: self.config.hotSellersRatio) > 0 {
            // A hot seller: the first person of the latest group of `hotGroupSize`.
            seller = Self.lastPersonIndex(atEventNumber: eventNumber) / Self.hotGroupSize * Self.hotGroupSize
        } else {
            seller = self.randomPersonIndex(atEventNumber: eventNumber, random: &random)
        }
        seller += Self.firstPersonId
        let category = Self.firstCategoryId + Int64(random.nextInt(below: Self.categoryCount))
        let initialBid = random.price()
        let expires = dateTime + self.auctionLengthMs(at: eventNumber, random: &random)
        let itemName = random.word(lengthLimit: Self.itemNameLengthLimit)
        let description = random.word(lengthLimit: Self.descriptionLengthLimit)
        let reserve = initialBid + random.price()
        let fieldByteCount = Self.auctionFixedByteCount + itemName.utf8.count + description.utf8.count
        let extra = self.extra(
            fieldByteCount: fieldByteCount, averageByteCount: self.config.averageAuctionByteCount, random: &random)
        return Auction(
            id: id, itemName: itemName, description: description, initialBid: initialBid, reserve: reserve,
            dateTime: dateTime, expires: expires, seller: seller, category: category, extra: extra)
    }

    /// How long an auction runs, ms: uniform in 1...2h, where h is the event time it takes to generate
    /// `inFlightAuctionCount` more auctions, so that about that many are open at any time.
    private func auctionLengthMs(at eventNumber: Int64, random: inout NexmarkRandom) -> Int64 {
        let eventsPerInFlightAuctions =
            Int64(self.config.inFlightAuctionCount) * Self.proportionDenominator / Self.auctionProportion
        let horizonMs =
            self.nominalDateTime(ofEventNumber: eventNumber + eventsPerInFlightAuctions)
            - self.nominalDateTime(ofEventNumber: eventNumber)
        return 1 + random.nextInt64(below: Swift.max(horizonMs * 2, 1))
    }
}
