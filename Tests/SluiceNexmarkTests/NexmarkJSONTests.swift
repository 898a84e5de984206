import Foundation
import SluiceNexmark
import Testing

@Suite struct NexmarkJSONTests {
    static let personFields: Set = ["id", "name", "emailAddress", "creditCard", "city", "state", "dateTime", "extra"]
    static let auctionFields: Set = [
        "id", "itemName", "description", "initialBid", "reserve", "dateTime", "expires", "seller", "category", "extra",
    ]
    static let bidFields: Set = ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"]

    static func parse(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    /// `value` is a JSON integer equal to `expected`: a number, not a string, a boolean or a fraction.
    static func expectInteger(_ value: Any?, _ expected: Int64, sourceLocation: SourceLocation = #_sourceLocation) {
        let number = value as? NSNumber
        #expect(
            number != nil && !(value is String) && !(value is Bool && "\(number!)" == "true"),
            sourceLocation: sourceLocation)
        #expect(
            number?.int64Value == expected && number?.doubleValue == Double(expected), sourceLocation: sourceLocation)
    }

    static func expectString(_ value: Any?, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(value as? String == expected, sourceLocation: sourceLocation)
    }

    @Test func everyEventParsesWithTheReferenceFieldNamesAndTypes() throws {
        var kindsSeen: Set<Int> = []
        for event in NexmarkGenerator(seed: 29, eventNumbers: 0..<5_000) {
            let bytes = NexmarkJSON.encode(event)
            #expect(!bytes.contains(UInt8(ascii: "\n")))
            let object = try Self.parse(bytes)
            #expect(Set(object.keys) == ["event_type", "person", "auction", "bid"])
            Self.expectInteger(object["event_type"], Int64(event.kind.rawValue))
            kindsSeen.insert(event.kind.rawValue)
            let absent = ["person", "auction", "bid"].filter { $0 != "\(event.kind)" }
            for key in absent { #expect(object[key] is NSNull, "\(key) should be null") }
            switch event {
            case .person(let person):
                let fields = try #require(object["person"] as? [String: Any])
                #expect(Set(fields.keys) == Self.personFields)
                Self.expectInteger(fields["id"], person.id)
                Self.expectString(fields["name"], person.name)
                Self.expectString(fields["emailAddress"], person.emailAddress)
                Self.expectString(fields["creditCard"], person.creditCard)
                Self.expectString(fields["city"], person.city)
                Self.expectString(fields["state"], person.state)
                Self.expectInteger(fields["dateTime"], person.dateTime)
                Self.expectString(fields["extra"], person.extra)
            case .auction(let auction):
                let fields = try #require(object["auction"] as? [String: Any])
                #expect(Set(fields.keys) == Self.auctionFields)
                Self.expectInteger(fields["id"], auction.id)
                Self.expectString(fields["itemName"], auction.itemName)
                Self.expectString(fields["description"], auction.description)
                Self.expectInteger(fields["initialBid"], auction.initialBid)
                Self.expectInteger(fields["reserve"], auction.reserve)
                Self.expectInteger(fields["dateTime"], auction.dateTime)
                Self.expectInteger(fields["expires"], auction.expires)
                Self.expectInteger(fields["seller"], auction.seller)
                Self.expectInteger(fields["category"], auction.category)
                Self.expectString(fields["extra"], auction.extra)
            case .bid(let bid):
                let fields = try #require(object["bid"] as? [String: Any])
                #expect(Set(fields.keys) == Self.bidFields)
                Self.expectInteger(fields["auction"], bid.auction)
                Self.expectInteger(fields["bidder"], bid.bidder)
                Self.expectInteger(fields["price"], bid.price)
                Self.expectString(fields["channel"], bid.channel)
                Self.expectString(fields["url"], bid.url)
                Self.expectInteger(fields["dateTime"], bid.dateTime)
                Self.expectString(fields["extra"], bid.extra)
            }
        }
        #expect(kindsSeen == [0, 1, 2])
    }

    @Test func theObjectStartsWithItsTypeAndKeepsTheReferenceFieldOrder() {
        let bid = Bid(
            auction: 1000, bidder: 1001, price: 250, channel: "Google", url: "https://x/y", dateTime: 1_704_067_200_000,
            extra: "")
        #expect(
            String(decoding: NexmarkJSON.encode(.bid(bid)), as: UTF8.self)
                == #"{"event_type":2,"person":null,"auction":null,"bid":{"auction":1000,"bidder":1001,"price":250,"channel":"Google","url":"https://x/y","dateTime":1704067200000,"extra":""}}"#
        )
    }

    @Test(arguments: [
        Int64.min, Int64.min + 1, -1_000_000_007, -10, -9, -1, 0, 1, 9, 10, 99, 100, 999_999_999_999, Int64.max,
    ])
    func integersOfEveryWidthEncode(value: Int64) throws {
        let auction = Auction(
            id: value, itemName: "", description: "", initialBid: value, reserve: 0, dateTime: value,
            expires: ~value, seller: 1, category: 10, extra: "")
        let bytes = NexmarkJSON.encode(.auction(auction))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""id":\#(value),"#) && text.contains(#""expires":\#(~value),"#))
    }

    @Test func stringsWithQuotesBackslashesControlsAndUnicodeRoundTrip() throws {
        let awkward = [
            "plain", "", "a\"b", "back\\slash", "line\nbreak\r\ttab", "\u{01}\u{1F}\u{7F}", "é😀 中文",
            "ends with quote\"",
            String(repeating: "long \"quoted\" text ", count: 40), "12345678\"", "1234567\\", "\u{00}",
        ]
        for text in awkward {
            let person = Person(
                id: 1, name: text, emailAddress: text + "@x.com", creditCard: text, city: text, state: text,
                dateTime: 0, extra: text)
            let object = try Self.parse(NexmarkJSON.encode(.person(person)))
            let fields = try #require(object["person"] as? [String: Any])
            for key in ["name", "creditCard", "city", "state", "extra"] { Self.expectString(fields[key], text) }
            Self.expectString(fields["emailAddress"], text + "@x.com")
        }
    }

    @Test func appendingAddsToWhatTheBufferHolds() {
        let events = Array(NexmarkGenerator(seed: 31, eventNumbers: 0..<60))
        var buffer: [UInt8] = Array("prefix|".utf8)
        for event in events { NexmarkJSON.append(event, to: &buffer) }
        #expect(buffer == Array("prefix|".utf8) + events.flatMap { NexmarkJSON.encode($0) })
    }
}
