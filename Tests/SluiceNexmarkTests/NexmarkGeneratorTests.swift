import SluiceCore
import SluiceNexmark
import Testing
import _SluiceTestSupport

@Suite struct NexmarkGeneratorTests {
    /// Events of a run, as JSON lines.
    static func jsonLines(_ generator: NexmarkGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        for event in generator {
            NexmarkJSON.append(event, to: &bytes)
            bytes.append(UInt8(ascii: "\n"))
        }
        return bytes
    }

    @Test func theSameSeedGivesTheSameBytesAndAnotherSeedOthers() {
        var random = SeededRandom()
        let seed = random.next()
        let first = Self.jsonLines(NexmarkGenerator(seed: seed, eventNumbers: 0..<5_000))
        let second = Self.jsonLines(NexmarkGenerator(seed: seed, eventNumbers: 0..<5_000))
        #expect(first == second, "seed \(seed)")
        let other = Self.jsonLines(NexmarkGenerator(seed: seed &+ 1, eventNumbers: 0..<5_000))
        #expect(first != other, "seed \(seed)")
        // Every event differs in its random fields, not only a few.
        let firstEvents = Array(NexmarkGenerator(seed: seed, eventNumbers: 0..<500))
        let otherEvents = Array(NexmarkGenerator(seed: seed &+ 1, eventNumbers: 0..<500))
        #expect(zip(firstEvents, otherEvents).filter { $0 == $1 }.isEmpty, "seed \(seed)")
    }

    @Test func chunksAndRandomAccessGiveTheSameStream() {
        var random = SeededRandom()
        let seed = random.next()
        let generator = NexmarkGenerator(seed: seed, eventNumbers: 0..<6_000)
        let whole = Array(generator)
        var chunked: [NexmarkEvent] = []
        var start: Int64 = 0
        while start < 6_000 {
            let end = min(6_000, start + Int64.random(in: 1...700, using: &random))
            chunked += Array(generator.events(in: start..<end))
            start = end
        }
        #expect(chunked == whole, "seed \(random.seed)")
        for _ in 0..<200 {
            let eventNumber = Int64.random(in: 0..<6_000, using: &random)
            #expect(generator.event(at: eventNumber) == whole[Int(eventNumber)], "seed \(random.seed)")
        }
        // A separately constructed generator (its own tables) agrees too.
        let fresh = NexmarkGenerator(seed: seed)
        #expect(fresh.event(at: 5_999) == whole[5_999])
    }

    @Test func everyFiftyEventsHoldOnePersonThreeAuctionsAndFortySixBids() {
        let events = Array(NexmarkGenerator(seed: 3, eventNumbers: 0..<10_000))
        for group in stride(from: 0, to: events.count, by: 50) {
            let kinds = events[group..<group + 50].map(\.kind)
            #expect(kinds == [.person] + Array(repeating: .auction, count: 3) + Array(repeating: .bid, count: 46))
        }
        for (index, event) in events.enumerated() {
            #expect(NexmarkGenerator.kind(ofEventNumber: Int64(index)) == event.kind)
        }
    }

    @Test(arguments: [0, 10])
    func idsReferToPeopleAndAuctionsAlreadyGeneratedOrWithinTheLead(lead: Int) {
        var config = NexmarkConfig()
        config.personIdLeadCount = lead
        config.auctionIdLeadCount = lead
        var lastPerson: Int64 = NexmarkGenerator.firstPersonId - 1
        var lastAuction: Int64 = NexmarkGenerator.firstAuctionId - 1
        var farthestSellerLead: Int64 = 0
        var farthestAuctionLead: Int64 = 0
        for event in NexmarkGenerator(seed: 11, config: config, eventNumbers: 0..<30_000) {
            switch event {
            case .person(let person):
                #expect(person.id == lastPerson + 1)
                lastPerson = person.id
            case .auction(let auction):
                #expect(auction.id == lastAuction + 1)
                lastAuction = auction.id
                #expect(auction.seller >= NexmarkGenerator.firstPersonId)
                farthestSellerLead = max(farthestSellerLead, auction.seller - lastPerson)
            case .bid(let bid):
                #expect(bid.auction >= NexmarkGenerator.firstAuctionId)
                farthestAuctionLead = max(farthestAuctionLead, bid.auction - lastAuction)
                // A hot bidder is the second person of the latest hundred: possibly the next one.
                #expect(bid.bidder >= NexmarkGenerator.firstPersonId && bid.bidder <= lastPerson + Int64(max(lead, 1)))
            }
        }
        #expect(lastPerson == NexmarkGenerator.firstPersonId + 600 - 1)
        #expect(lastAuction == NexmarkGenerator.firstAuctionId + 1_800 - 1)
        #expect(farthestSellerLead <= Int64(lead))
        #expect(farthestAuctionLead <= Int64(lead))
        if lead > 0 {
            // The reference's leads are used: some picks do run ahead.
            #expect(farthestAuctionLead > 0)
        }
    }

    @Test func hotAuctionsSellersAndBiddersStandOut() {
        var bidsPerAuction: [Int64: Int] = [:]
        var bidsPerBidder: [Int64: Int] = [:]
        var auctionsPerSeller: [Int64: Int] = [:]
        var bidCount = 0
        var auctionCount = 0
        for event in NexmarkGenerator(seed: 5, eventNumbers: 0..<50_000) {
            switch event {
            case .bid(let bid):
                bidsPerAuction[bid.auction, default: 0] += 1
                bidsPerBidder[bid.bidder, default: 0] += 1
                bidCount += 1
            case .auction(let auction):
                auctionsPerSeller[auction.seller, default: 0] += 1
                auctionCount += 1
            case .person:
                break
            }
        }
        // Uniform over the auctions bid on would give each a few dozen bids at most; the hot auction of
        // each hundred takes about half of the bids while its hundred is the latest.
        let uniformBids = Double(bidCount) / Double(bidsPerAuction.count)
        #expect(Double(bidsPerAuction.values.max()!) > 20 * uniformBids)
        #expect(Double(bidsPerBidder.values.max()!) > 20 * Double(bidCount) / Double(bidsPerBidder.count))
        #expect(Double(auctionsPerSeller.values.max()!) > 10 * Double(auctionCount) / Double(auctionsPerSeller.count))
        // Hot picks are 1 - 1/ratio of all: half the bids go to hot auctions, three quarters to hot bidders.
        let hotAuctionBids = bidsPerAuction.filter { ($0.key - NexmarkGenerator.firstAuctionId) % 100 == 0 }.values
            .reduce(0, +)
        #expect(abs(Double(hotAuctionBids) / Double(bidCount) - 0.5) < 0.05)
    }

    @Test func fieldsFollowTheReferenceDistributions() {
        let config = NexmarkConfig()
        var personBytes: [Int] = []
        var auctionBytes: [Int] = []
        var bidBytes: [Int] = []
        var hotChannelBids = 0
        var categories: Set<Int64> = []
        for event in NexmarkGenerator(seed: 9, config: config, eventNumbers: 0..<40_000) {
            switch event {
            case .person(let person):
                #expect(["AZ", "CA", "ID", "OR", "WA", "WY"].contains(person.state))
                #expect(
                    [
                        "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle",
                        "Kent",
                        "Cheyenne",
                    ].contains(person.city))
                #expect(person.name.split(separator: " ").count == 2)
                #expect(person.emailAddress.hasSuffix(".com") && person.emailAddress.contains("@"))
                #expect(
                    person.creditCard.utf8.count == 19
                        && person.creditCard.split(separator: " ").allSatisfy { $0.count == 4 && Int($0) != nil })
                #expect(person.extra.utf8.allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") })
                personBytes.append(
                    8
                        + [
                            person.name, person.emailAddress, person.creditCard, person.city, person.state,
                            person.extra,
                        ]
                        .reduce(0) { $0 + $1.utf8.count })
            case .auction(let auction):
                categories.insert(auction.category)
                #expect(auction.initialBid >= 100 && auction.initialBid <= 100_000_000)
                #expect(auction.reserve >= auction.initialBid)
                // 1 ms up to twice the time 100 auctions take at 10 000 events/s: 1666 events, 166 ms.
                #expect(auction.expires > auction.dateTime && auction.expires - auction.dateTime <= 334)
                #expect(auction.itemName.utf8.count < 20 && auction.description.utf8.count < 100)
                auctionBytes.append(
                    48 + auction.itemName.utf8.count + auction.description.utf8.count + auction.extra.utf8.count)
            case .bid(let bid):
                #expect(bid.price >= 100 && bid.price <= 100_000_000)
                #expect(bid.url.hasPrefix("https://www.nexmark.com/") && bid.url.contains("/item.htm?query=1"))
                if ["Google", "Facebook", "Baidu", "Apple"].contains(bid.channel) {
                    hotChannelBids += 1
                } else {
                    let number = Int(bid.channel.dropFirst("channel-".count))
                    #expect(bid.channel.hasPrefix("channel-") && number != nil && number! < 10_000)
                }
                bidBytes.append(32 + bid.extra.utf8.count)
            }
        }
        #expect(categories == Set(10...14))
        func average(_ values: [Int]) -> Double { Double(values.reduce(0, +)) / Double(values.count) }
        // `extra` pads each kind toward its average size, within 20 % either side.
        #expect(abs(average(personBytes) - 200) < 10)
        #expect(abs(average(auctionBytes) - 500) < 10)
        #expect(abs(average(bidBytes) - 100) < 3)
        #expect(bidBytes.allSatisfy { $0 >= 86 && $0 <= 114 })
        #expect(abs(Double(hotChannelBids) / Double(bidBytes.count) - 0.5) < 0.03)
    }

    @Test func pricesAreLogUniformFromOneDollarToAMillion() {
        var decades = [Int](repeating: 0, count: 6)
        var bidCount = 0
        for case .bid(let bid) in NexmarkGenerator(seed: 13, eventNumbers: 0..<30_000) {
            let decade = min(5, Int((Double(bid.price) / 100).log10Floor))
            decades[decade] += 1
            bidCount += 1
        }
        // Each decade of dollars holds about a sixth of the prices.
        for count in decades { #expect(abs(Double(count) / Double(bidCount) - 1.0 / 6) < 0.02, "\(decades)") }
    }

    @Test func eventTimeAdvancesWithTheRateAndDelaysStayWithinTheirBound() {
        var config = NexmarkConfig()
        config.delayedEventFraction = 0.05
        config.delayMaxMs = 500
        config.firstEventRate = 2_000
        let generator = NexmarkGenerator(seed: 17, config: config, eventNumbers: 0..<20_000)
        var delayedCount = 0
        var lastUndelayed = Int64.min
        for (index, event) in generator.enumerated() {
            let nominal = config.baseTime + Int64(index) / 2  // 2 000 events per second: half a millisecond each
            #expect(generator.nominalDateTime(ofEventNumber: Int64(index)) == nominal)
            let delay = nominal - event.dateTime
            #expect(delay >= 0 && delay <= 500)
            #expect(delay == generator.delayMs(ofEventNumber: Int64(index)))
            if delay > 0 {
                delayedCount += 1
            } else {
                #expect(event.dateTime >= lastUndelayed)
                lastUndelayed = event.dateTime
            }
        }
        #expect(abs(Double(delayedCount) / 20_000 - 0.05) < 0.01)
    }

    @Test func byDefaultFewEventsAreDelayedAndNoneBeyondTheQueriesDisorder() {
        let generator = NexmarkGenerator(seed: 19, eventNumbers: 0..<30_000)
        var delays: [Int64] = []
        var maxDateTime = NexmarkConfig().baseTime
        for (index, event) in generator.enumerated() {
            let delay = generator.nominalDateTime(ofEventNumber: Int64(index)) - event.dateTime
            if delay > 0 { delays.append(delay) }
            // With a 4-second bounded disorder, no event is behind the watermark.
            #expect(event.dateTime > maxDateTime - 4_000)
            maxDateTime = max(maxDateTime, event.dateTime)
        }
        #expect(delays.count > 150 && delays.count < 450)
        #expect(delays.allSatisfy { $0 <= 3_000 })
    }

    @Test func delaysChangeOnlyTimes() {
        var delayed = NexmarkConfig()
        delayed.delayedEventFraction = 0.5
        var ordered = NexmarkConfig()
        ordered.delayedEventFraction = 0
        let withDelays = Array(NexmarkGenerator(seed: 23, config: delayed, eventNumbers: 0..<2_000))
        let withoutDelays = Array(NexmarkGenerator(seed: 23, config: ordered, eventNumbers: 0..<2_000))
        var previous = Int64.min
        for (late, onTime) in zip(withDelays, withoutDelays) {
            #expect(onTime.dateTime >= previous)
            previous = onTime.dateTime
            switch (late, onTime) {
            case (.person(var late), .person(let onTime)):
                late.dateTime = onTime.dateTime
                #expect(late == onTime)
            case (.auction(var late), .auction(let onTime)):
                #expect(late.expires - late.dateTime == onTime.expires - onTime.dateTime)
                late.dateTime = onTime.dateTime
                late.expires = onTime.expires
                #expect(late == onTime)
            case (.bid(var late), .bid(let onTime)):
                late.dateTime = onTime.dateTime
                #expect(late == onTime)
            default:
                Issue.record("kinds differ: \(late.kind) and \(onTime.kind)")
            }
        }
    }

    @Test func invalidConfigurationsAreRejectedWithTheKnobNamed() {
        var config = NexmarkConfig()
        config.delayedEventFraction = 1.5
        #expect(throws: (any Error).self) { try config.validate() }
        config = NexmarkConfig()
        config.firstEventRate = 0
        do {
            try config.validate()
            Issue.record("a rate of 0 was accepted")
        } catch {
            #expect(error.message.contains("first event rate"))
        }
        #expect(throws: Never.self) { try NexmarkConfig().validate() }
    }
}

extension Double {
    /// The floor of the decimal logarithm, by counting (no libm in tests).
    fileprivate var log10Floor: Double {
        var value = self
        var exponent = 0.0
        while value >= 10 {
            value /= 10
            exponent += 1
        }
        return exponent
    }
}
