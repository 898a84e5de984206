import Foundation
import SluiceJSON
import Testing
import _SluiceTestSupport

/// Random documents through the writer and the scanner, with Foundation's JSONSerialization as the independent
/// reference in both directions.
@Suite struct JSONRoundTripTests {
    static let documentCount = 300

    @Test func writerOutputReadsBackInFoundation() throws {
        var random = SeededRandom()
        var writer = JSONWriter(reservingCapacity: 1024)
        for _ in 0..<Self.documentCount {
            let document = TestJSON.random(using: &random)
            writer.reset()
            document.write(to: &writer)
            #expect(writer.isComplete)
            let back = try TestJSON.parsedByFoundation(writer.bytes)
            #expect(back == document, "seed \(random.seed): \(String(decoding: writer.bytes, as: UTF8.self))")
        }
    }

    @Test func scannerReadsFoundationsTextAsFoundationDoes() throws {
        var random = SeededRandom()
        for _ in 0..<Self.documentCount {
            let document = TestJSON.randomObject(using: &random)
            let bytes = Array(try JSONSerialization.data(withJSONObject: document.foundationObject))
            let reference = try #require(try TestJSON.parsedByFoundation(bytes))
            try Self.expectScanner(reads: bytes, as: reference, seed: random.seed)
        }
    }

    @Test func scannerReadsNoisyTextAsFoundationDoes() throws {
        var random = SeededRandom()
        for _ in 0..<Self.documentCount {
            let document = TestJSON.randomObject(using: &random)
            let bytes = document.noisyText(using: &random)
            let reference = try #require(try TestJSON.parsedByFoundation(bytes), "seed \(random.seed)")
            #expect(reference == document, "seed \(random.seed): \(String(decoding: bytes, as: UTF8.self))")
            try Self.expectScanner(reads: bytes, as: reference, seed: random.seed)
        }
    }

    @Test func scannerReadsWhatTheWriterWrote() throws {
        var random = SeededRandom()
        var writer = JSONWriter()
        for _ in 0..<Self.documentCount {
            let document = TestJSON.randomObject(using: &random)
            writer.reset()
            document.write(to: &writer)
            try Self.expectScanner(reads: writer.bytes, as: document, seed: random.seed)
        }
    }

    @Test func everyProperPrefixOfADocumentIsTruncatedAtItsEnd() throws {
        var random = SeededRandom()
        for _ in 0..<50 {
            let bytes = TestJSON.randomObject(using: &random).noisyText(using: &random)
            for length in 0..<bytes.count {
                let prefix = Array(bytes[..<length])
                let error = #expect(throws: JSONError.self) {
                    try prefix.withUnsafeBytes { try JSONScanner.validate($0) }
                }
                #expect(error?.code == .truncated && error?.byteOffset == length,
                        "seed \(random.seed), \(length) of \(bytes.count) bytes: \(String(describing: error))")
            }
            try bytes.withUnsafeBytes { try JSONScanner.validate($0) }
        }
    }

    /// Scans `bytes` for every path through objects of `reference` (and for paths that are absent) and checks
    /// each value read against `reference`.
    static func expectScanner(reads bytes: [UInt8], as reference: TestJSON, seed: UInt64) throws {
        let present = Array(reference.objectPaths.prefix(400))
        var absent: [[String]] = []
        for (path, value) in present.prefix(50) {
            if case .object(let members) = value {
                let missing = "absent" + String(members.count)
                if !members.contains(where: { $0.key == missing }) { absent.append(path + [missing]) }
            } else {
                absent.append(path + [""])
            }
        }
        let scanner = JSONScanner(paths: present.map(\.path) + absent)
        var fields = scanner.makeFields()
        try scanner.scan(bytes, into: &fields)
        try bytes.withUnsafeBytes { (document) throws in
            for (index, (path, expected)) in present.enumerated() {
                let value = fields.value(index, in: document)
                let context = "seed \(seed), path \(path) in \(String(decoding: bytes, as: UTF8.self))"
                try expectValue(value, is: expected, context)
            }
            for index in absent.indices {
                #expect(fields.kind(present.count + index) == .absent, "seed \(seed), path \(absent[index])")
            }
        }
    }

    static func expectValue(_ value: JSONValue, is expected: TestJSON, _ context: String) throws {
        switch expected {
        case .null:
            #expect(value.isNull, "\(context)")
        case .bool(let bool):
            #expect(try value.bool() == bool, "\(context)")
        case .int(let int):
            #expect(value.kind == .number, "\(context)")
            #expect(try value.int64() == int, "\(context)")
            #expect(try value.double() == Double(int), "\(context)")
        case .double(let double):
            #expect(try value.double().bitPattern == double.bitPattern, "\(context)")
        case .string(let text):
            #expect(Array(try value.string().utf8) == Array(text.utf8), "\(context)")
            #expect(value.stringEquals(text), "\(context)")
            #expect(!value.stringEquals(text + "x"), "\(context)")
        case .array, .object:
            #expect(value.kind == (expected.isArray ? .array : .object), "\(context)")
            let raw = Array(value.bytes)
            #expect(try TestJSON.parsedByFoundation(raw) == expected, "\(context)")
        }
    }
}

extension TestJSON {
    var isArray: Bool {
        if case .array = self { return true }
        return false
    }
}
