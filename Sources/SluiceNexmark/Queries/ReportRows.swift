import NIOCore
import SluiceJSON
import SluiceStreams

/// Prices below this are rank 1 (q15, q17).
let rank1PriceLimit: Int64 = 10_000
/// Prices from `rank1PriceLimit` up to below this are rank 2; the rest rank 3.
let rank2PriceLimit: Int64 = 1_000_000

func priceRank(_ price: Int64) -> Int { price < rank1PriceLimit ? 0 : price < rank2PriceLimit ? 1 : 2 }

/// `DATE_FORMAT(dateTime, 'yyyy-MM-dd')` in UTC.
func utcDay(_ epochMs: Int64) -> String {
    var days = epochMs >= 0 ? epochMs / 86_400_000 : -((-epochMs + 86_399_999) / 86_400_000)
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    days += 719_468
    let era = (days >= 0 ? days : days - 146_096) / 146_097
    let dayOfEra = days - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
}

/// q15's running statistics for one day: bids, and exact distinct bidders and auctions, overall and per price rank.
public struct DailyBidStatistics: Sendable, Equatable {
    public var bids: [Int64] = [0, 0, 0]
    public var bidders: [Set<Int64>] = [[], [], []]
    public var auctions: [Set<Int64>] = [[], [], []]
    public var allBidders: Set<Int64> = []
    public var allAuctions: Set<Int64> = []

    mutating func add(_ bid: BidView) {
        let rank = priceRank(bid.price)
        self.bids[rank] += 1
        self.bidders[rank].insert(bid.bidder)
        self.auctions[rank].insert(bid.auction)
        self.allBidders.insert(bid.bidder)
        self.allAuctions.insert(bid.auction)
    }

    mutating func merge(_ other: DailyBidStatistics) {
        for rank in 0..<3 {
            self.bids[rank] += other.bids[rank]
            self.bidders[rank].formUnion(other.bidders[rank])
            self.auctions[rank].formUnion(other.auctions[rank])
        }
        self.allBidders.formUnion(other.allBidders)
        self.allAuctions.formUnion(other.allAuctions)
    }

    static var serde: Serde<DailyBidStatistics> {
        Serde(
            serialize: { statistics in
                var buffer = ByteBufferAllocator().buffer(capacity: 64)
                for count in statistics.bids { buffer.writeInteger(count) }
                for set in statistics.bidders + statistics.auctions + [statistics.allBidders, statistics.allAuctions] {
                    buffer.writeInteger(Int64(set.count))
                    for id in set { buffer.writeInteger(id) }
                }
                return Array(buffer.readableBytesView)
            },
            deserialize: { input in
                guard var buffer = input else { throw DeserializationError("null q15 statistics") }
                var statistics = DailyBidStatistics()
                func read() throws -> Int64 {
                    guard let value = buffer.readInteger(as: Int64.self) else { throw DeserializationError("truncated q15 statistics") }
                    return value
                }
                func readSet() throws -> Set<Int64> {
                    let count = try read()
                    guard count >= 0, count <= buffer.readableBytes / 8 else { throw DeserializationError("bad q15 set size") }
                    var set = Set<Int64>(minimumCapacity: Int(count))
                    for _ in 0..<count { set.insert(try read()) }
                    return set
                }
                statistics.bids = [try read(), try read(), try read()]
                statistics.bidders = [try readSet(), try readSet(), try readSet()]
                statistics.auctions = [try readSet(), try readSet(), try readSet()]
                statistics.allBidders = try readSet()
                statistics.allAuctions = try readSet()
                return statistics
            }
        )
    }
}

/// q15: the bidding statistics of one day.
public struct DailyBidReportRow: NexmarkRow, Equatable {
    public var day: String
    public var statistics: DailyBidStatistics
    public var windowStart: Int64
    public var windowEnd: Int64

    public func write(to writer: inout JSONWriter) {
        let s = self.statistics
        writer.beginObject()
        writer.key("day"); writer.string(self.day)
        writer.key("total_bids"); writer.int64(s.bids.reduce(0, +))
        for rank in 0..<3 { writer.key("rank\(rank + 1)_bids"); writer.int64(s.bids[rank]) }
        writer.key("total_bidders"); writer.int64(Int64(s.allBidders.count))
        for rank in 0..<3 { writer.key("rank\(rank + 1)_bidders"); writer.int64(Int64(s.bidders[rank].count)) }
        writer.key("total_auctions"); writer.int64(Int64(s.allAuctions.count))
        for rank in 0..<3 { writer.key("rank\(rank + 1)_auctions"); writer.int64(Int64(s.auctions[rank].count)) }
        writer.key("window_start"); writer.int64(self.windowStart)
        writer.key("window_end"); writer.int64(self.windowEnd)
        writer.endObject()
    }
}

/// q17's running statistics of one auction on one day.
public struct AuctionDayStatistics: Sendable, Hashable {
    public var bids: [Int64] = [0, 0, 0]
    public var minPrice = Int64.max
    public var maxPrice = Int64.min
    public var sumPrice: Int64 = 0

    mutating func add(_ price: Int64) {
        self.bids[priceRank(price)] += 1
        self.minPrice = min(self.minPrice, price)
        self.maxPrice = max(self.maxPrice, price)
        self.sumPrice &+= price
    }

    mutating func merge(_ other: AuctionDayStatistics) {
        for rank in 0..<3 { self.bids[rank] += other.bids[rank] }
        self.minPrice = min(self.minPrice, other.minPrice)
        self.maxPrice = max(self.maxPrice, other.maxPrice)
        self.sumPrice &+= other.sumPrice
    }

    var totalBids: Int64 { self.bids.reduce(0, +) }

    static var serde: Serde<AuctionDayStatistics> {
        Serde(
            serialize: { s in
                var buffer = ByteBufferAllocator().buffer(capacity: 48)
                for value in s.bids + [s.minPrice, s.maxPrice, s.sumPrice] { buffer.writeInteger(value) }
                return Array(buffer.readableBytesView)
            },
            deserialize: { input in
                guard var buffer = input, buffer.readableBytes == 48 else { throw DeserializationError("q17 statistics need 48 bytes") }
                var values: [Int64] = []
                while let value = buffer.readInteger(as: Int64.self) { values.append(value) }
                return AuctionDayStatistics(bids: Array(values[0..<3]), minPrice: values[3], maxPrice: values[4], sumPrice: values[5])
            }
        )
    }
}

/// q17: the bid statistics of one auction on one day.
public struct AuctionDayReportRow: NexmarkRow, Hashable {
    public var auction: Int64
    public var day: String
    public var statistics: AuctionDayStatistics
    public var windowStart: Int64
    public var windowEnd: Int64

    public func write(to writer: inout JSONWriter) {
        let s = self.statistics
        writer.beginObject()
        writer.key("auction"); writer.int64(self.auction)
        writer.key("day"); writer.string(self.day)
        writer.key("total_bids"); writer.int64(s.totalBids)
        for rank in 0..<3 { writer.key("rank\(rank + 1)_bids"); writer.int64(s.bids[rank]) }
        writer.key("min_price"); writer.int64(s.minPrice)
        writer.key("max_price"); writer.int64(s.maxPrice)
        // AVG over BIGINT is a BIGINT in the reference SQL: integer division.
        writer.key("avg_price"); writer.int64(s.sumPrice / max(1, s.totalBids))
        writer.key("sum_price"); writer.int64(s.sumPrice)
        writer.key("window_start"); writer.int64(self.windowStart)
        writer.key("window_end"); writer.int64(self.windowEnd)
        writer.endObject()
    }
}
