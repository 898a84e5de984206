import SluiceJSON
import Testing
import _SluiceTestSupport

/// The key cache (`JSONFields` remembers the keys of earlier documents): a scan with fields that have seen other
/// documents must find exactly what a scan with new fields finds, and refuse exactly what it refuses, wherever
/// the next document differs from the ones remembered.
@Suite struct JSONKeyCacheTests {
    static let paths = [["price"], ["bid", "price"], ["bid", "auction"], ["event_type"], ["bid"], ["a"]]

    /// What a scan gives: every slot, or the error's code and offset.
    static func outcome(_ document: [UInt8], _ scanner: JSONScanner, _ fields: inout JSONFields) -> String {
        do {
            try scanner.scan(document, into: &fields)
            return (0..<fields.slotCount).map { "\(fields[$0].kind) \(fields[$0].byteRange)" }.joined(separator: ", ")
        } catch {
            return "\(error.code) at \(error.byteOffset)"
        }
    }

    /// Scans `documents` in order with one warm `JSONFields`, each also with new fields, and expects the same.
    static func expectWarmScansAsCold(_ documents: [[UInt8]], context: String = "") {
        let scanner = JSONScanner(paths: Self.paths)
        var warm = scanner.makeFields()
        for document in documents {
            var cold = scanner.makeFields()
            let expected = Self.outcome(document, scanner, &cold)
            #expect(Self.outcome(document, scanner, &warm) == expected,
                    "\(context) \(String(decoding: document, as: UTF8.self))")
        }
    }

    @Test func aKeyThatDiffersFromTheRememberedOneIsScannedAfresh() {
        let remembered = #"{"event_type":2,"bid":{"auction":1000,"price":9615,"url":"https://example.com/x"}}"#
        let variants = [
            #"{"event_type":2,"bid":{"auction":1000,"price":9615,"url":"https://example.com/x"}}"#,
            #"{"event_type" :2,"bid":{"auction":1000,"price" : 9615,"url":"https://example.com/x"}}"#,
            #"{"event_typo":2,"bid":{"auctions":1000,"pric":9615,"url":"https://example.com/x"}}"#,
            #"{"event_type":2,"bid":{"auct\u0069on":1000,"pr\u0069ce":9615,"url":"https://example.com/x"}}"#,
            #"{"event_type":2,"bid":{"price":9615,"auction":1000,"url":"https://example.com/x"}}"#,
            #"{"event_type":2,"bid":{"auction":1000,"price":9615,"price":7,"url":"https://example.com/x"}}"#,
            #"{"event_type":2,"bid":{"auction":1000,"price":9615,"url""#,
            #"{"event_type":2,"bid":{"auction":1000,"price":"#,
            #"{"event_type":2,"bid":{"auction":1000,"price""#,
            #"{"event_type":2,"bid":{"auction":1000,"price"#,
            #"{"event_type":2,"bid":{"auction":1000,"price":}"#,
            #"{"event_type":2,"bid":[{"auction":1000,"price":9615}],"price":1}"#,
            #"{"event_type":2,"auction":{"auction":1000,"price":9615,"url":"https://example.com/x"}}"#,
            #"{"event_type":2,"bid":{"auction":1000,"price":9615,"url":"https://example.com/x"}}"#,
        ]
        for variant in variants {
            Self.expectWarmScansAsCold([remembered, variant, remembered].map { Array($0.utf8) })
        }
    }

    @Test func aKeyWithABadByteWhereTheRememberedOneHadAGoodOneIsRefused() {
        let remembered = Array(#"{"event_type":2,"bid":{"auction":1000,"price":9615}}"#.utf8)
        for index in remembered.indices {
            for byte: UInt8 in [0x01, 0x22, 0x5C, 0x80, 0xC3, 0xFF, 0x20, 0x3A] where remembered[index] != byte {
                var variant = remembered
                variant[index] = byte
                Self.expectWarmScansAsCold([remembered, variant, remembered], context: "byte \(byte) at \(index)")
            }
        }
    }

    @Test func randomDocumentsOfFewShapesScanAsWithNewFields() {
        var random = SeededRandom()
        let keys = ["price", "bid", "auction", "event_type", "a", "dateTime", "p", "k\u{E9}y", "x\"y", "abcdefghijklmn"]
        for _ in 0..<200 {
            var writer = JSONWriter()
            func object(depth: Int) {
                writer.beginObject()
                for key in keys.shuffled(using: &random).prefix(Int.random(in: 0...5, using: &random)) {
                    writer.key(key)
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0 where depth < 2: object(depth: depth + 1)
                    case 1: writer.string(String(repeating: "s", count: Int.random(in: 0...20, using: &random)))
                    default: writer.int64(Int64.random(in: -1000...1_000_000, using: &random))
                    }
                }
                writer.endObject()
            }
            object(depth: 0)
            let shape = writer.bytes
            var documents = [shape]
            for _ in 0..<8 {
                var variant = shape
                switch Int.random(in: 0..<3, using: &random) {
                case 0 where !variant.isEmpty:
                    variant[Int.random(in: variant.indices, using: &random)] =
                        [0x01, 0x22, 0x5C, 0xC3, 0xFF, 0x20, 0x3A, 0x61, 0x7D].randomElement(using: &random)!
                case 1: variant = Array(variant.prefix(Int.random(in: 0...variant.count, using: &random)))
                default: break
                }
                documents += [variant, shape]
            }
            Self.expectWarmScansAsCold(documents, context: "seed \(random.seed)")
        }
    }

    @Test func fieldsUsedWithAnotherFieldSetForgetTheirKeys() throws {
        let first = JSONScanner(paths: [["price"]])
        let second = JSONScanner(paths: [["other"]])
        var fields = first.makeFields()
        let document = Array(#"{"price":1,"other":2}"#.utf8)
        try first.scan(document, into: &fields)
        try second.scan(document, into: &fields)
        #expect(fields[0].kind == .number && fields[0].byteRange == 19..<20)
    }
}
