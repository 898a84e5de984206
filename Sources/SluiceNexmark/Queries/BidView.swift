import NIOCore
import SluiceJSON
import SluiceStreams

/// The fields of a bid event that queries read. A query asks only for the fields it uses; the others
/// stay empty. Strings stay JSON text in the record's buffer (`JSONText`): no String is built, and none
/// copied, unless a query asks for one (`.string`).
public struct BidView: Sendable, Hashable {
    public var auction: Int64 = 0
    public var bidder: Int64 = 0
    public var price: Int64 = 0
    public var dateTime: Int64 = 0
    public var channel: JSONText = .empty
    public var url: JSONText = .empty
    public var extra: JSONText = .empty

    public init() {}

    init(auction: Int64, bidder: Int64, price: Int64, dateTime: Int64, channel: JSONText, url: JSONText, extra: JSONText) {
        self.auction = auction
        self.bidder = bidder
        self.price = price
        self.dateTime = dateTime
        self.channel = channel
        self.url = url
        self.extra = extra
    }

    public struct Fields: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let auction = Fields(rawValue: 1 << 0)
        public static let bidder = Fields(rawValue: 1 << 1)
        public static let price = Fields(rawValue: 1 << 2)
        public static let dateTime = Fields(rawValue: 1 << 3)
        public static let channel = Fields(rawValue: 1 << 4)
        public static let url = Fields(rawValue: 1 << 5)
        public static let extra = Fields(rawValue: 1 << 6)
    }
}

/// Reads bids out of Nexmark event JSON with SluiceJSON's scanner: events of other kinds decode to nil.
public struct BidDecoder {
    private static let names: [(BidView.Fields, String)] = [
        (.auction, "auction"), (.bidder, "bidder"), (.price, "price"), (.dateTime, "dateTime"), (.channel, "channel"), (.url, "url"),
        (.extra, "extra"),
    ]

    let scanner: JSONScanner
    var slots: JSONFields
    /// The scanner's slot of each field of `names`, in its order, or `notRead`: no list to walk per record.
    let auctionSlot, bidderSlot, priceSlot, dateTimeSlot, channelSlot, urlSlot, extraSlot: Int
    static let notRead = -1

    public init(_ fields: BidView.Fields) {
        let wanted = Self.names.filter { fields.contains($0.0) }
        self.scanner = JSONScanner(paths: [["event_type"]] + wanted.map { ["bid", $0.1] })
        self.slots = self.scanner.makeFields()
        // Slot 0 is the event type; the wanted fields follow in the order of `names`.
        let slot = { (field: BidView.Fields) in wanted.firstIndex { $0.0 == field }.map { $0 + 1 } ?? Self.notRead }
        (self.auctionSlot, self.bidderSlot, self.priceSlot, self.dateTimeSlot) = (slot(.auction), slot(.bidder), slot(.price), slot(.dateTime))
        (self.channelSlot, self.urlSlot, self.extraSlot) = (slot(.channel), slot(.url), slot(.extra))
    }

    /// The bid in `document`, nil for a person or an auction, its strings copied out of the document. Throws on
    /// malformed JSON or a bid without a wanted field.
    public mutating func decode(_ document: UnsafeRawBufferPointer) throws -> BidView? {
        try self.decode(document) { (value: JSONValue) throws(JSONError) in try value.text() }
    }

    /// The bid in `document`, which lies in `buffer`'s readable bytes from `documentByteOffset` on: its strings
    /// are slices of `buffer`, neither allocated nor copied.
    public mutating func decode(_ document: UnsafeRawBufferPointer, in buffer: ByteBuffer, at documentByteOffset: Int) throws
        -> BidView?
    {
        try self.decode(document) { (value: JSONValue) throws(JSONError) in
            try value.text(in: buffer, documentByteOffset: documentByteOffset)
        }
    }

    @inline(__always)
    private mutating func decode(_ document: UnsafeRawBufferPointer, text: (JSONValue) throws(JSONError) -> JSONText) throws
        -> BidView?
    {
        try self.scanner.scan(document, into: &self.slots)
        guard try self.slots.value(0, in: document).int64() == Int64(NexmarkEventKind.bid.rawValue) else { return nil }
        // Every field read first and the bid made at the end: filling a BidView field by field, with a throw
        // possible after each, made the compiler copy it out.
        // Written out rather than through a helper: the compiler kept a throwing helper out of line.
        let fields = self.slots
        let auction = self.auctionSlot == Self.notRead ? 0 : try fields.value(self.auctionSlot, in: document).int64()
        let bidder = self.bidderSlot == Self.notRead ? 0 : try fields.value(self.bidderSlot, in: document).int64()
        let price = self.priceSlot == Self.notRead ? 0 : try fields.value(self.priceSlot, in: document).int64()
        let dateTime = self.dateTimeSlot == Self.notRead ? 0 : try fields.value(self.dateTimeSlot, in: document).int64()
        let channel = self.channelSlot == Self.notRead ? .empty : try text(fields.value(self.channelSlot, in: document))
        let url = self.urlSlot == Self.notRead ? .empty : try text(fields.value(self.urlSlot, in: document))
        let extra = self.extraSlot == Self.notRead ? .empty : try text(fields.value(self.extraSlot, in: document))
        return BidView(auction: auction, bidder: bidder, price: price, dateTime: dateTime, channel: channel, url: url, extra: extra)
    }
}

extension Serde where Value == BidView? {
    /// Nexmark events as bids (nil for other kinds), reading `fields` only; a deserializer per task
    /// keeps its scanner's slots.
    public static func nexmarkBids(_ fields: BidView.Fields) -> Serde<BidView?> {
        Serde(
            serialize: { _ in nil },
            makeViewDeserializer: {
                var decoder = BidDecoder(fields)
                return { bytes in
                    guard let bytes else { throw DeserializationError("a Nexmark event cannot be null") }
                    return try decoder.decode(bytes)
                }
            },
            makePayloadDeserializer: {
                var decoder = BidDecoder(fields)
                return { bytes, payload, byteOffset in
                    guard let bytes else { throw DeserializationError("a Nexmark event cannot be null") }
                    return try decoder.decode(bytes, in: payload, at: byteOffset)
                }
            }
        )
    }
}
