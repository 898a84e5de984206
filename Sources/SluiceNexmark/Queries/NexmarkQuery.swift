import Foundation
import NIOCore
import SluiceCore
import SluiceJSON
import SluiceStreams

/// The Nexmark queries Sluice implements as reference pipelines in the DSL.
public enum NexmarkQuery: String, CaseIterable, Sendable {
    case q0, q1, q2, q5, q11, q12, q15, q17, q21, q22

    public var summary: String {
        switch self {
        case .q0: "pass-through: every bid"
        case .q1: "currency conversion: bid prices in euros"
        case .q2: "selection: bids on every 123rd auction"
        case .q5: "hot items: the auctions with the most bids per 10 s window, every 2 s"
        case .q11: "user sessions: bids per bidder per session of 10 s inactivity"
        case .q12: "processing-time windows: bids per bidder per 10 s of processing time"
        case .q15: "bidding statistics per day, by price rank"
        case .q17: "auction statistics per day"
        case .q21: "channel ids: bids with a channel id from their channel or URL"
        case .q22: "URL directories: bids with the first three directories of their URL"
        }
    }

    /// The bid fields the query reads.
    var fields: BidView.Fields {
        switch self {
        case .q0, .q1: [.auction, .bidder, .price, .dateTime, .extra]
        case .q2: [.auction, .price]
        case .q5: [.auction, .dateTime]
        case .q11: [.bidder, .dateTime]
        case .q12: [.bidder]
        case .q15: [.auction, .bidder, .price, .dateTime]
        case .q17: [.auction, .price, .dateTime]
        case .q21, .q22: [.auction, .bidder, .price, .channel, .url]
        }
    }
}

/// Where a query's rows go.
public enum NexmarkSink: Sendable {
    /// A topic, as JSON objects without keys.
    case topic(String)
    /// Nowhere: the benchmark's discarding sink (rows are counted, not written).
    case discard(MetricCounter)
}

/// Builds the reference pipelines. Event time is the bid's `dateTime` with 4 s of disorder, as the
/// reference; q12 uses processing time.
public enum NexmarkQueries {
    public static let outOfOrdernessMs: Int64 = 4_000

    /// Adds `query`, reading Nexmark event JSON from `input`, to `builder`.
    public static func build(_ query: NexmarkQuery, input: String, sink: NexmarkSink, builder: StreamsBuilder) {
        let processingTime = query == .q12
        let bids = builder.stream(
            input, key: .none, value: .nexmarkBids(query.fields), outOfOrdernessMs: processingTime ? 0 : Self.outOfOrdernessMs,
            timestamp: processingTime ? { _, _, _ in wallClockMs() } : { _, bid, recordTime in bid?.dateTime ?? recordTime }
        )
        .compactMapValues { $0 }
        switch query {
        case .q0, .q1:
            let rate = query == .q1 ? 0.908 : 1
            attach(bids.mapValues { bid in
                BidRow(auction: bid.auction, bidder: bid.bidder, price: Double(bid.price) * rate, dateTime: bid.dateTime, extra: bid.extra,
                       priceIsInteger: query == .q0)
            }, sink)
        case .q2:
            attach(bids.filter { _, bid in bid.auction % 123 == 0 }.mapValues { AuctionPriceRow(auction: $0.auction, price: $0.price) }, sink)
        case .q5:
            attach(hotItems(bids), sink)
        case .q11, .q12:
            let windows: Windows = query == .q11 ? .session(gap: 10_000) : .tumbling(size: 10_000)
            let rows = bids.map { _, bid in KeyValue(bid.bidder, NoKey()) }
                .groupByKey(key: .int64, value: .none)
                .windowedBy(windows)
                .count(named: "bids-per-bidder")
                .toStream()
                .map { windowed, count in
                    KeyValue(NoKey(), BidderCountRow(bidder: windowed.key, bidCount: count, windowStart: windowed.window.start,
                                                     windowEnd: windowed.window.end, isSession: query == .q11))
                }
            attach(rows, sink)
        case .q15:
            let rows = bids.map { _, bid in KeyValue(utcDay(bid.dateTime), bid) }
                .groupByKey(key: .string, value: .bidFields)
                .windowedBy(.tumbling(size: 86_400_000))
                .aggregate(Aggregator(initial: { DailyBidStatistics() }, add: { $0.add($1) }, merge: { $0.merge($1) },
                                      serde: DailyBidStatistics.serde), named: "daily-bids")
                .toStream()
                .map { windowed, statistics in
                    KeyValue(NoKey(), DailyBidReportRow(day: windowed.key, statistics: statistics, windowStart: windowed.window.start,
                                                        windowEnd: windowed.window.end))
                }
            attach(rows, sink)
        case .q17:
            let rows = bids.map { _, bid in KeyValue(bid.auction, bid.price) }
                .groupByKey(key: .int64, value: .int64)
                .windowedBy(.tumbling(size: 86_400_000))
                .aggregate(Aggregator(initial: { AuctionDayStatistics() }, add: { $0.add($1) }, merge: { $0.merge($1) },
                                      serde: AuctionDayStatistics.serde), named: "auction-days")
                .toStream()
                .map { windowed, statistics in
                    KeyValue(NoKey(), AuctionDayReportRow(auction: windowed.key, day: utcDay(windowed.window.start), statistics: statistics,
                                                          windowStart: windowed.window.start, windowEnd: windowed.window.end))
                }
            attach(rows, sink)
        case .q21:
            attach(bids.flatMapValues { (bid: BidView) -> [ChannelRow] in
                let channel = bid.channel.string
                guard let channelId = channelId(channel: channel, url: bid.url.string) else { return [] }
                return [ChannelRow(auction: bid.auction, bidder: bid.bidder, price: bid.price, channel: channel, channelId: channelId)]
            }, sink)
        case .q22:
            attach(bids.mapValues { bid in
                let url = bid.url.string
                return ChannelRow(auction: bid.auction, bidder: bid.bidder, price: bid.price, channel: bid.channel.string,
                                  directories: (3...5).map { splitIndex(url, $0) })
            }, sink)
        }
    }

    /// q5: bids per auction in hopping windows (10 s, every 2 s), then per window the auctions whose
    /// count is the greatest. The counts are final when they leave the first aggregation (on the
    /// watermark), and carry the window's last millisecond as their time, so the second step
    /// gathers each window's counts in the 2 s tumbling window that ends with it.
    static func hotItems(_ bids: KStream<NoKey, BidView>) -> KStream<NoKey, HotItemRow> {
        bids.map { _, bid in KeyValue(bid.auction, NoKey()) }
            .groupByKey(key: .int64, value: .none)
            .windowedBy(.hopping(size: 10_000, advance: 2_000))
            .count(named: "bids-per-auction")
            .toStream()
            .map { windowed, count in KeyValue(windowed.window.start, AuctionCount(auction: windowed.key, count: count)) }
            .groupByKey(key: .int64, value: AuctionCount.serde)
            .windowedBy(.tumbling(size: 2_000))
            .aggregate(.maxCountWithTies(), named: "hottest-per-window")
            .toStream()
            .flatMap { windowed, hottest in
                hottest.auctions.sorted().map { auction in
                    KeyValue(NoKey(), HotItemRow(auction: auction, num: hottest.count, windowStart: windowed.key, windowEnd: windowed.key + 10_000))
                }
            }
    }

    static func attach<Row: NexmarkRow>(_ rows: KStream<NoKey, Row>, _ sink: NexmarkSink) {
        switch sink {
        case .topic(let topic):
            rows.to(topic, key: .none, value: .nexmarkRow)
        case .discard(let counter):
            rows.foreachBatch { batch in counter.increment(by: batch.count) }
        }
    }

    /// q21's channel id: fixed ids for the four big channels (compared without case), otherwise
    /// `REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)`. Works on the UTF-8 bytes: no lowercased copies.
    static func channelId(channel: String, url: String) -> String? {
        var channel = channel
        let fixed: String? = channel.withUTF8 { bytes in
            for (name, id) in Self.fixedChannelIds where name.count == bytes.count {
                if zip(bytes, name).allSatisfy({ ($0 | 0x20) == $1 }) { return id }
            }
            return nil
        }
        if let fixed { return fixed }
        var url = url
        return url.withUTF8 { bytes -> String? in
            let marker = Self.channelIdMarker
            var position = 0
            while position + marker.count <= bytes.count {
                if position == 0 || bytes[position - 1] == UInt8(ascii: "&"),
                   zip(bytes[position..<position + marker.count], marker).allSatisfy({ $0 == $1 }) {
                    var end = position + marker.count
                    while end < bytes.count && bytes[end] != UInt8(ascii: "&") { end += 1 }
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[(position + marker.count)..<end]), as: UTF8.self)
                }
                position += 1
            }
            return nil
        }
    }

    static let fixedChannelIds: [([UInt8], String)] = [(Array("apple".utf8), "0"), (Array("google".utf8), "1"), (Array("facebook".utf8), "2"),
                                                      (Array("baidu".utf8), "3")]
    static let channelIdMarker: [UInt8] = Array("channel_id=".utf8)

    /// `SPLIT_INDEX(url, '/', index)`: the index-th piece (from 0) of the URL split at '/', or nil past the end.
    static func splitIndex(_ url: String, _ index: Int) -> String? {
        var url = url
        return url.withUTF8 { bytes -> String? in
            var piece = 0
            var start = 0
            for position in 0...bytes.count where position == bytes.count || bytes[position] == UInt8(ascii: "/") {
                if piece == index { return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self) }
                piece += 1
                start = position + 1
            }
            return nil
        }
    }
}

func wallClockMs() -> Int64 {
    Int64(Date().timeIntervalSince1970 * 1000)
}

/// An auction's bid count in one window (q5's intermediate).
struct AuctionCount: Sendable, Hashable {
    var auction: Int64
    var count: Int64

    static var serde: Serde<AuctionCount> {
        Serde(
            serialize: { value in
                withUnsafeTemporaryAllocation(of: Int64.self, capacity: 2) { words in
                    words[0] = value.auction.bigEndian
                    words[1] = value.count.bigEndian
                    return Array(UnsafeRawBufferPointer(words))
                }
            },
            makeViewDeserializer: {
                { bytes in
                    guard let bytes, bytes.count == 16 else { throw DeserializationError("an auction count needs 16 bytes") }
                    return AuctionCount(auction: Int64(bigEndian: bytes.loadUnaligned(as: Int64.self)),
                                        count: Int64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: Int64.self)))
                }
            }
        )
    }
}

/// The greatest count of a window and every auction that has it.
struct HottestAuctions: Sendable, Hashable {
    var count: Int64 = 0
    var auctions: [Int64] = []
}

extension Aggregator where Value == AuctionCount, Accumulator == HottestAuctions, Result == HottestAuctions {
    static func maxCountWithTies() -> Aggregator {
        Aggregator(
            initial: { HottestAuctions() },
            add: { hottest, entry in
                if entry.count > hottest.count {
                    hottest = HottestAuctions(count: entry.count, auctions: [entry.auction])
                } else if entry.count == hottest.count {
                    hottest.auctions.append(entry.auction)
                }
            },
            merge: { hottest, other in
                if other.count > hottest.count { hottest = other } else if other.count == hottest.count { hottest.auctions += other.auctions }
            },
            serde: Serde(
                serialize: { value in
                    var buffer = ByteBufferAllocator().buffer(capacity: 16 + 8 * value.auctions.count)
                    buffer.writeInteger(value.count)
                    for auction in value.auctions { buffer.writeInteger(auction) }
                    return Array(buffer.readableBytesView)
                },
                deserialize: { input in
                    guard var buffer = input, let count = buffer.readInteger(as: Int64.self), buffer.readableBytes % 8 == 0 else {
                        throw DeserializationError("not a hottest-auctions accumulator")
                    }
                    var auctions: [Int64] = []
                    while let auction = buffer.readInteger(as: Int64.self) { auctions.append(auction) }
                    return HottestAuctions(count: count, auctions: auctions)
                }
            )
        )
    }
}

extension Serde where Value == BidView {
    /// The fields q15 repartitions with (auction, bidder, price, dateTime), 32 bytes.
    static var bidFields: Serde<BidView> {
        Serde(
            serialize: { bid in
                var buffer = ByteBufferAllocator().buffer(capacity: 32)
                for value in [bid.auction, bid.bidder, bid.price, bid.dateTime] { buffer.writeInteger(value) }
                return Array(buffer.readableBytesView)
            },
            deserialize: { input in
                guard var buffer = input, buffer.readableBytes == 32 else { throw DeserializationError("bid fields need 32 bytes") }
                var bid = BidView()
                bid.auction = buffer.readInteger()!
                bid.bidder = buffer.readInteger()!
                bid.price = buffer.readInteger()!
                bid.dateTime = buffer.readInteger()!
                return bid
            }
        )
    }
}
