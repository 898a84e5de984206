extension NexmarkGenerator {
    /// The byte count the reference charges a bid for its auction, bidder, price and time.
    static let bidFixedByteCount = 8 + 8 + 8 + 8
    /// A bid comes from a hot channel with probability `1 - 1/hotChannelRatio` (the Flink port's).
    static let hotChannelRatio = 2

    func bid(at eventNumber: Int64, dateTime: Int64, random: inout NexmarkRandom) -> Bid {
        var auction: Int64
        if random.nextInt(below: self.config.hotAuctionRatio) > 0 {
            // A hot auction: the first of the latest group of `hotGroupSize` auctions.
            auction = Self.lastAuctionIndex(atEventNumber: eventNumber) / Self.hotGroupSize * Self.hotGroupSize
        } else {
            auction = self.randomAuctionIndex(atEventNumber: eventNumber, random: &random)
        }
        auction += Self.firstAuctionId
        var bidder: Int64
        if random.nextInt(below: self.config.hotBiddersRatio) > 0 {
            // A hot bidder: the second person of the latest group, so that hot bidders are not the hot
            // sellers. As in the reference, it may be the one person not generated yet.
            bidder = Self.lastPersonIndex(atEventNumber: eventNumber) / Self.hotGroupSize * Self.hotGroupSize + 1
        } else {
            bidder = self.randomPersonIndex(atEventNumber: eventNumber, random: &random)
        }
        bidder += Self.firstPersonId
        let price = random.price()
        let channel: String
        let url: String
        if random.nextInt(below: Self.hotChannelRatio) > 0 {
            let index = random.nextInt(below: NexmarkVocabulary.hotChannels.count)
            channel = NexmarkVocabulary.hotChannels[index]
            url = self.tables.hotChannelURLs[index]
        } else {
            let index = random.nextInt(below: NexmarkTables.channelCount)
            channel = self.tables.channelNames[index]
            url = self.tables.channelURLs[index]
        }
        let extra = self.extra(
            fieldByteCount: Self.bidFixedByteCount, averageByteCount: self.config.averageBidByteCount, random: &random)
        return Bid(
            auction: auction, bidder: bidder, price: price, channel: channel, url: url, dateTime: dateTime, extra: extra
        )
    }
}
