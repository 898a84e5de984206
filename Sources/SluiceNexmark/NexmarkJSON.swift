/// The JSON form of a Nexmark event, one object per event:
/// `{"event_type":0|1|2,"person":{...},"auction":{...},"bid":{...}}` with the two absent kinds null,
/// the reference's field names, and times in epoch milliseconds.
///
/// A small encoder of its own, written straight into memory sized once per event: no Foundation, no
/// String per field, integers written by hand. This is what lets generation plus encoding run at
/// millions of events per second.
public enum NexmarkJSON {
    /// More than all the literal text (braces, keys, nulls) of any one event's object.
    static let literalByteCountMax = 256

    /// Appends `event` as one JSON object, without a trailing newline.
    public static func append(_ event: NexmarkEvent, to output: inout [UInt8]) {
        switch event {
        case .person(let person):
            let stringByteCount =
                person.name.utf8.count + person.emailAddress.utf8.count + person.creditCard.utf8.count
                + person.city.utf8.count + person.state.utf8.count + person.extra.utf8.count
            self.write(to: &output, stringByteCount: stringByteCount, stringCount: 6, integerCount: 2) { writer in
                writer.writeLiteral(#"{"event_type":0,"person":{"id":"#)
                writer.writeInteger(person.id)
                writer.writeLiteral(#","name":"#)
                writer.writeString(person.name)
                writer.writeLiteral(#","emailAddress":"#)
                writer.writeString(person.emailAddress)
                writer.writeLiteral(#","creditCard":"#)
                writer.writeString(person.creditCard)
                writer.writeLiteral(#","city":"#)
                writer.writeString(person.city)
                writer.writeLiteral(#","state":"#)
                writer.writeString(person.state)
                writer.writeLiteral(#","dateTime":"#)
                writer.writeInteger(person.dateTime)
                writer.writeLiteral(#","extra":"#)
                writer.writeString(person.extra)
                writer.writeLiteral(#"},"auction":null,"bid":null}"#)
            }
        case .auction(let auction):
            let stringByteCount =
                auction.itemName.utf8.count + auction.description.utf8.count + auction.extra.utf8.count
            self.write(to: &output, stringByteCount: stringByteCount, stringCount: 3, integerCount: 7) { writer in
                writer.writeLiteral(#"{"event_type":1,"person":null,"auction":{"id":"#)
                writer.writeInteger(auction.id)
                writer.writeLiteral(#","itemName":"#)
                writer.writeString(auction.itemName)
                writer.writeLiteral(#","description":"#)
                writer.writeString(auction.description)
                writer.writeLiteral(#","initialBid":"#)
                writer.writeInteger(auction.initialBid)
                writer.writeLiteral(#","reserve":"#)
                writer.writeInteger(auction.reserve)
                writer.writeLiteral(#","dateTime":"#)
                writer.writeInteger(auction.dateTime)
                writer.writeLiteral(#","expires":"#)
                writer.writeInteger(auction.expires)
                writer.writeLiteral(#","seller":"#)
                writer.writeInteger(auction.seller)
                writer.writeLiteral(#","category":"#)
                writer.writeInteger(auction.category)
                writer.writeLiteral(#","extra":"#)
                writer.writeString(auction.extra)
                writer.writeLiteral(#"},"bid":null}"#)
            }
        case .bid(let bid):
            let stringByteCount = bid.channel.utf8.count + bid.url.utf8.count + bid.extra.utf8.count
            self.write(to: &output, stringByteCount: stringByteCount, stringCount: 3, integerCount: 4) { writer in
                writer.writeLiteral(#"{"event_type":2,"person":null,"auction":null,"bid":{"auction":"#)
                writer.writeInteger(bid.auction)
                writer.writeLiteral(#","bidder":"#)
                writer.writeInteger(bid.bidder)
                writer.writeLiteral(#","price":"#)
                writer.writeInteger(bid.price)
                writer.writeLiteral(#","channel":"#)
                writer.writeString(bid.channel)
                writer.writeLiteral(#","url":"#)
                writer.writeString(bid.url)
                writer.writeLiteral(#","dateTime":"#)
                writer.writeInteger(bid.dateTime)
                writer.writeLiteral(#","extra":"#)
                writer.writeString(bid.extra)
                writer.writeLiteral("}}")
            }
        }
    }

    /// The JSON object of `event` as bytes.
    public static func encode(_ event: NexmarkEvent) -> [UInt8] {
        var output: [UInt8] = []
        self.append(event, to: &output)
        return output
    }

    /// Writes through `body` into scratch memory of the bound for these fields, then appends the bytes
    /// written to `output` in one copy.
    @inline(__always)
    private static func write(
        to output: inout [UInt8], stringByteCount: Int, stringCount: Int, integerCount: Int,
        _ body: (inout EventJSONWriter) -> Void
    ) {
        let byteCountMax = EventJSONWriter.byteCountMax(
            literalByteCount: Self.literalByteCountMax, stringByteCount: stringByteCount, stringCount: stringCount,
            integerCount: integerCount)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: byteCountMax) { scratch in
            var writer = EventJSONWriter(scratch.baseAddress!)
            body(&writer)
            precondition(writer.byteCount <= byteCountMax, "the JSON bound of an event was too small")
            output.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<writer.byteCount]))
        }
    }
}
