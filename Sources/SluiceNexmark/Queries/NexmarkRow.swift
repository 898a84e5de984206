import SluiceJSON
import SluiceStreams

/// A query's result row, written as a JSON object named as the reference Nexmark SQL names its columns.
public protocol NexmarkRow: Sendable {
    func write(to writer: inout JSONWriter)
}

extension NexmarkRow {
    public var json: [UInt8] {
        var writer = JSONWriter(reservingCapacity: 128)
        self.write(to: &writer)
        return writer.bytes
    }
}

extension Serde where Value: NexmarkRow {
    /// Rows as JSON; reading them back is not needed (results are only written).
    public static var nexmarkRow: Serde<Value> {
        Serde(serialize: { $0.json }, deserialize: { _ in throw DeserializationError("Nexmark rows are written, not read") })
    }
}

/// q0 and q1: the bid's fields (q1 with the price converted to euros).
public struct BidRow: NexmarkRow, Hashable {
    public var auction: Int64
    public var bidder: Int64
    public var price: Double
    public var dateTime: Int64
    /// The bid's text as its event wrote it: copied to the output as it is.
    public var extra: JSONText
    /// q0 keeps the integer price; q1 writes the converted decimal one.
    public var priceIsInteger: Bool

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("auction"); writer.int64(self.auction)
        writer.key("bidder"); writer.int64(self.bidder)
        writer.key("price")
        if self.priceIsInteger { writer.int64(Int64(self.price)) } else { writer.double(self.price) }
        writer.key("dateTime"); writer.int64(self.dateTime)
        writer.key("extra"); writer.string(self.extra)
        writer.endObject()
    }
}

/// q2: auction and price.
public struct AuctionPriceRow: NexmarkRow, Hashable {
    public var auction: Int64
    public var price: Int64

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("auction"); writer.int64(self.auction)
        writer.key("price"); writer.int64(self.price)
        writer.endObject()
    }
}

/// q5: the auctions with the most bids in each sliding window.
public struct HotItemRow: NexmarkRow, Hashable {
    public var auction: Int64
    public var num: Int64
    public var windowStart: Int64
    public var windowEnd: Int64

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("auction"); writer.int64(self.auction)
        writer.key("num"); writer.int64(self.num)
        writer.key("window_start"); writer.int64(self.windowStart)
        writer.key("window_end"); writer.int64(self.windowEnd)
        writer.endObject()
    }
}

/// q11 and q12: bids per bidder per session (q11) or processing-time window (q12).
public struct BidderCountRow: NexmarkRow, Hashable {
    public var bidder: Int64
    public var bidCount: Int64
    public var windowStart: Int64
    public var windowEnd: Int64
    /// q11 also names the session bounds `starttime` and `endtime`, as its SQL does.
    public var isSession: Bool

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("bidder"); writer.int64(self.bidder)
        writer.key("bid_count"); writer.int64(self.bidCount)
        if self.isSession {
            writer.key("starttime"); writer.int64(self.windowStart)
            writer.key("endtime"); writer.int64(self.windowEnd)
        }
        writer.key("window_start"); writer.int64(self.windowStart)
        writer.key("window_end"); writer.int64(self.windowEnd)
        writer.endObject()
    }
}

/// q21 and q22: the bid with its channel id (q21) or its URL's first directories (q22).
public struct ChannelRow: NexmarkRow, Hashable {
    public var auction: Int64
    public var bidder: Int64
    public var price: Int64
    public var channel: String
    /// q21's `channel_id`.
    public var channelId: String?
    /// q22's `dir1`, `dir2`, `dir3` (nil past the URL's end).
    public var directories: [String?]?

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("auction"); writer.int64(self.auction)
        writer.key("bidder"); writer.int64(self.bidder)
        writer.key("price"); writer.int64(self.price)
        writer.key("channel"); writer.string(self.channel)
        if let directories = self.directories {
            for (index, directory) in directories.enumerated() {
                writer.key("dir\(index + 1)")
                if let directory { writer.string(directory) } else { writer.null() }
            }
        } else {
            writer.key("channel_id")
            if let channelId = self.channelId { writer.string(channelId) } else { writer.null() }
        }
        writer.endObject()
    }
}
