import SluiceJSON
import Testing
import _SluiceTestSupport

/// Reading numbers: Int64 exactly, Double correctly rounded, and the errors at their edges.
@Suite struct JSONNumberTests {
    /// Reads the single value `text` with `read`.
    static func read<Result>(_ text: String, _ read: (JSONValue) throws(JSONError) -> Result) throws(JSONError)
        -> Result
    {
        let scanner = JSONScanner(paths: [[]])
        var fields = scanner.makeFields()
        let document = Array(text.utf8)
        try scanner.scan(document, into: &fields)
        return try document.withUnsafeBufferPointer { (bytes) throws(JSONError) in
            try read(fields.value(0, in: UnsafeRawBufferPointer(bytes)))
        }
    }

    @Test(arguments: [
        ("0", 0), ("-0", 0), ("7", 7), ("-7", -7), ("123456789012345678", 123_456_789_012_345_678),
        ("9223372036854775807", .max), ("-9223372036854775808", .min), ("-9223372036854775807", .min + 1),
        ("1700000000123", 1_700_000_000_123),
        // Whole numbers written with a fraction or an exponent.
        ("1.0", 1), ("-0.0", 0), ("1e3", 1000), ("1E+3", 1000), ("12.50e1", 125), ("1000e-3", 1),
        ("0.000e999999999999", 0), ("9.223372036854775807e18", .max), ("-9223372036854775808.000", .min),
        ("922337203685477580.7e1", .max), ("10000000000000000000000e-4", 1_000_000_000_000_000_000),
    ] as [(String, Int64)])
    func readsInt64Exactly(text: String, expected: Int64) throws {
        #expect(try Self.read(text) { (value) throws(JSONError) in try value.int64() } == expected)
    }

    @Test(arguments: [
        "9223372036854775808", "-9223372036854775809", "18446744073709551616", "99999999999999999999999",
        "1.5", "-0.5", "1e-1", "123.4567", "9.3e18", "1e19", "1e999999999999999999", "1e-999999999999999",
        "10000000000000000000000000000001e-10",
    ])
    func refusesNumbersThatAreNotAnInt64(text: String) {
        let error = #expect(throws: JSONError.self) {
            try Self.read(text) { (value) throws(JSONError) in try value.int64() }
        }
        #expect(error?.code == .numberOutOfRange, "\(String(describing: error))")
        #expect(error?.byteOffset == 0)
    }

    @Test(arguments: [
        "0", "-0", "0.0", "1", "-1", "0.1", "0.908", "123456.789", "4.35", "1e22", "1e23", "1.7976931348623157e308",
        "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9406564584124654e-324", "5e-324", "2e-324",
        "1e-400", "9007199254740993", "9007199254740992.5", "90071992547409925e-1",
        "0.1000000000000000055511151231257827", "123456789012345678901234567890",
        "3.14159265358979323846264338327950288", "1.00000000000000011102230246251565404236316680908203125",
        "8.98846567431158e307", "-1.5e-5", "1E5", "17e-1", "1700000000123", "2.5e-22", "7e22", "12345678901234567e-5",
    ])
    func readsDoublesAsTheStandardLibraryDoes(text: String) throws {
        let read = try Self.read(text) { (value) throws(JSONError) in try value.double() }
        let expected = try #require(Double(text))
        #expect(read.bitPattern == expected.bitPattern, "\(read) vs \(expected)")
    }

    @Test(arguments: ["1e309", "-1e309", "1.8e308", "123456789e999999999999"])
    func refusesDoublesBeyondRange(text: String) {
        let error = #expect(throws: JSONError.self) {
            try Self.read(text) { (value) throws(JSONError) in try value.double() }
        }
        #expect(error?.code == .numberOutOfRange)
    }

    @Test func readsRandomDoublesBackExactly() throws {
        var random = SeededRandom()
        for _ in 0..<20_000 {
            let double = TestJSON.randomDouble(using: &random)
            for text in [double.description, String(shortForm: double)] {
                let read = try Self.read(text) { (value) throws(JSONError) in try value.double() }
                let expected = try #require(Double(text))
                #expect(read.bitPattern == expected.bitPattern, "\(text), seed \(random.seed)")
            }
        }
    }

    /// Integers are read from words that end where the number ends and take in the bytes before it: whatever
    /// those bytes are, and wherever the number is, the value is the same.
    @Test func readsIntegersInsideDocumentsWhateverPrecedesThem() throws {
        var random = SeededRandom()
        for digitCount in 1...19 {
            for prefix in ["0", "9", "12345678", "\"x\"", "-1", "1e5", "0.5,7"] {
                for sign in ["", "-"] {
                    let digits = (0..<digitCount).map { _ in String(Int.random(in: 0...9, using: &random)) }.joined()
                    let text = sign + (digits.count > 1 ? "1" + digits.dropFirst() : digits)
                    let document = Array(#"{"p":[\#(prefix)],"k":\#(text)}"#.utf8)
                    let scanner = JSONScanner(paths: [["k"]])
                    var fields = scanner.makeFields()
                    try scanner.scan(document, into: &fields)
                    let read = try document.withUnsafeBytes { (bytes) throws(JSONError) in try fields.value(0, in: bytes).int64() }
                    #expect(read == Int64(text), "\(text) after \(prefix), seed \(random.seed)")
                }
            }
        }
    }

    @Test func readsRandomIntegersExactly() throws {
        var random = SeededRandom()
        for _ in 0..<20_000 {
            let int = TestJSON.randomInt(using: &random)
            #expect(try Self.read(String(int)) { (value) throws(JSONError) in try value.int64() } == int,
                    "seed \(random.seed)")
        }
    }
}

extension String {
    /// `value` rounded to a Float's few significant digits, in plain or exponent form: the short numbers the
    /// fast path takes. A value beyond Float's range keeps its own text.
    init(shortForm value: Double) {
        let short = Float(value)
        self = short.isFinite ? short.description : value.description
    }
}
