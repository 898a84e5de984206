import Foundation
import NIOCore
import SluiceCore
import SluiceNexmark
import SluiceStreams
import Testing

/// Each query's results against a straightforward computation of the reference SQL over the same
/// generated events: plain loops and dictionaries, no engine.
@Suite struct NexmarkQueryTests {
    static let eventCount: Int64 = 60_000

    static var config: NexmarkConfig {
        var config = NexmarkConfig()
        config.firstEventRate = 1_000  // 60 s of event time: many q5 windows and q11 sessions
        return config
    }

    static let events: [NexmarkEvent] = Array(NexmarkGenerator(seed: 7, config: config).prefix(Int(eventCount)))
    static var bids: [Bid] {
        events.compactMap { if case .bid(let bid) = $0 { bid } else { nil } }
    }

    /// Runs `query` over the events (2 partitions, 2 threads) and returns its rows, canonical.
    static func run(_ query: NexmarkQuery) throws -> [String] {
        let client = MemoryLogClient()
        try NexmarkRunner.load(NexmarkGenerator(seed: 7, config: config), count: eventCount, into: client, topic: "events", partitionCount: 2)
        try client.ensureTopic("results", partitionCount: 1, compacted: false)
        var settings = StreamsSettings(applicationId: "nexmark-\(query)", stateDirectory: NSTemporaryDirectory() + "sluice-nexmark-\(UUID())")
        settings.guarantee = .atLeastOnce
        settings.threadCount = 2
        let app = try NexmarkRunner.run(query, client: client, input: "events", sink: .topic("results"), settings: settings)
        #expect(app.metrics.deadLetterRecords.value == 0)
        #expect(app.metrics.lateRecords.value == 0, "with delays under the 4 s disorder nothing is late")
        return try client.records(of: "results").flatMap { $0 }.map { record in
            let object = try JSONSerialization.jsonObject(with: Data(record.value!.readableBytesView)) as! [String: Any]
            return canonical(object)
        }.sorted()
    }

    static func canonical(_ row: [String: Any]) -> String {
        row.keys.sorted().map { key -> String in
            let value = row[key]!
            let text: String
            if value is NSNull {
                text = "null"
            } else if let number = value as? NSNumber, !(value is String) {
                // Six decimals: Foundation's JSON parser on Linux may miss the last bit of a shortest round-trip text.
                text = "\((number.doubleValue * 1e6).rounded() / 1e6)"
            } else {
                text = "\(value)"
            }
            return "\(key)=\(text)"
        }.joined(separator: ";")
    }

    static func expect(_ query: NexmarkQuery, _ expected: [[String: Any]]) throws {
        let actual = try run(query)
        let reference = expected.map(canonical).sorted()
        #expect(!reference.isEmpty, "\(query): the reference has rows")
        #expect(actual.count == reference.count, "\(query): \(actual.count) rows, the reference has \(reference.count)")
        let missing = Set(reference).subtracting(actual)
        #expect(actual == reference, "\(query): e.g. missing \(missing.prefix(2)), unexpected \(Set(actual).subtracting(reference).prefix(2))")
    }

    @Test func q0PassesEveryBidThrough() throws {
        try Self.expect(.q0, Self.bids.map { ["auction": $0.auction, "bidder": $0.bidder, "price": $0.price, "dateTime": $0.dateTime, "extra": $0.extra] })
    }

    @Test func q1ConvertsPrices() throws {
        try Self.expect(.q1, Self.bids.map {
            ["auction": $0.auction, "bidder": $0.bidder, "price": 0.908 * Double($0.price), "dateTime": $0.dateTime, "extra": $0.extra]
        })
    }

    @Test func q2SelectsEvery123rdAuction() throws {
        try Self.expect(.q2, Self.bids.filter { $0.auction % 123 == 0 }.map { ["auction": $0.auction, "price": $0.price] })
    }

    @Test func q5FindsTheHottestAuctionsPerWindow() throws {
        // HOP(10 s, every 2 s): count per (window, auction), then the auctions with the window's greatest count.
        var counts: [Int64: [Int64: Int64]] = [:]
        for bid in Self.bids {
            var start = bid.dateTime - bid.dateTime % 2_000
            while start > bid.dateTime - 10_000 {
                counts[start, default: [:]][bid.auction, default: 0] += 1
                start -= 2_000
            }
        }
        var rows: [[String: Any]] = []
        for (start, perAuction) in counts {
            let greatest = perAuction.values.max()!
            for (auction, count) in perAuction where count == greatest {
                rows.append(["auction": auction, "num": count, "window_start": start, "window_end": start + 10_000])
            }
        }
        try Self.expect(.q5, rows)
    }

    @Test func q11CountsBidsPerSession() throws {
        var times: [Int64: [Int64]] = [:]
        for bid in Self.bids { times[bid.bidder, default: []].append(bid.dateTime) }
        var rows: [[String: Any]] = []
        for (bidder, list) in times {
            let sorted = list.sorted()
            var first = sorted[0]
            var last = sorted[0]
            var count: Int64 = 0
            for time in sorted {
                if time > last + 10_000 {
                    rows.append(["bidder": bidder, "bid_count": count, "starttime": first, "endtime": last + 10_000, "window_start": first,
                                 "window_end": last + 10_000])
                    first = time
                    count = 0
                }
                last = time
                count += 1
            }
            rows.append(["bidder": bidder, "bid_count": count, "starttime": first, "endtime": last + 10_000, "window_start": first,
                         "window_end": last + 10_000])
        }
        try Self.expect(.q11, rows)
    }

    @Test func q12CountsEveryBidInProcessingTimeWindows() throws {
        // Processing-time windows depend on when records are processed: the per-bidder totals do not.
        let rows = try Self.run(.q12)
        var totals: [String: Double] = [:]
        for row in rows {
            let fields = Dictionary(uniqueKeysWithValues: row.split(separator: ";").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), String(parts[1]))
            })
            totals[fields["bidder"]!, default: 0] += Double(fields["bid_count"]!)!
        }
        var expected: [String: Double] = [:]
        for bid in Self.bids { expected["\(Double(bid.bidder))", default: 0] += 1 }
        #expect(totals == expected)
    }

    @Test func q15ReportsEachDay() throws {
        var byDay: [String: [Bid]] = [:]
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        for bid in Self.bids { byDay[formatter.string(from: Date(timeIntervalSince1970: Double(bid.dateTime) / 1000)), default: []].append(bid) }
        let rows: [[String: Any]] = byDay.map { day, bids in
            let ranks: [(Bid) -> Bool] = [{ $0.price < 10_000 }, { $0.price >= 10_000 && $0.price < 1_000_000 }, { $0.price >= 1_000_000 }]
            var row: [String: Any] = ["day": day, "total_bids": bids.count, "total_bidders": Set(bids.map(\.bidder)).count,
                                      "total_auctions": Set(bids.map(\.auction)).count]
            for (index, rank) in ranks.enumerated() {
                let mine = bids.filter(rank)
                row["rank\(index + 1)_bids"] = mine.count
                row["rank\(index + 1)_bidders"] = Set(mine.map(\.bidder)).count
                row["rank\(index + 1)_auctions"] = Set(mine.map(\.auction)).count
            }
            let start = bids[0].dateTime - bids[0].dateTime % 86_400_000
            row["window_start"] = start
            row["window_end"] = start + 86_400_000
            return row
        }
        try Self.expect(.q15, rows)
    }

    @Test func q17ReportsEachAuctionPerDay() throws {
        var groups: [String: [Bid]] = [:]
        for bid in Self.bids { groups["\(bid.auction)/\(bid.dateTime / 86_400_000)", default: []].append(bid) }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let rows: [[String: Any]] = groups.values.map { bids in
            let prices = bids.map(\.price)
            let start = bids[0].dateTime - bids[0].dateTime % 86_400_000
            return [
                "auction": bids[0].auction, "day": formatter.string(from: Date(timeIntervalSince1970: Double(start) / 1000)),
                "total_bids": bids.count, "rank1_bids": prices.filter { $0 < 10_000 }.count,
                "rank2_bids": prices.filter { $0 >= 10_000 && $0 < 1_000_000 }.count, "rank3_bids": prices.filter { $0 >= 1_000_000 }.count,
                "min_price": prices.min()!, "max_price": prices.max()!, "avg_price": prices.reduce(0, +) / Int64(prices.count),
                "sum_price": prices.reduce(0, +), "window_start": start, "window_end": start + 86_400_000,
            ]
        }
        try Self.expect(.q17, rows)
    }

    @Test func q21ExtractsChannelIds() throws {
        let fixed = ["apple": "0", "google": "1", "facebook": "2", "baidu": "3"]
        let rows: [[String: Any]] = Self.bids.compactMap { bid in
            var id = fixed[bid.channel.lowercased()]
            if id == nil, let match = bid.url.range(of: #"(&|^)channel_id=([^&]*)"#, options: .regularExpression) {
                id = String(bid.url[match].split(separator: "=", maxSplits: 1)[1])
            }
            guard let id else { return nil }
            return ["auction": bid.auction, "bidder": bid.bidder, "price": bid.price, "channel": bid.channel, "channel_id": id]
        }
        try Self.expect(.q21, rows)
    }

    @Test func q22SplitsUrls() throws {
        try Self.expect(.q22, Self.bids.map { bid in
            let pieces = bid.url.components(separatedBy: "/")
            func piece(_ index: Int) -> Any { index < pieces.count ? pieces[index] : NSNull() }
            return ["auction": bid.auction, "bidder": bid.bidder, "price": bid.price, "channel": bid.channel, "dir1": piece(3), "dir2": piece(4),
                    "dir3": piece(5)]
        })
    }
}
