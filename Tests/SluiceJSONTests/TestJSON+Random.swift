import _SluiceTestSupport

extension TestJSON {
    /// A random document: nested objects and arrays, strings with quotes, backslashes, control characters and
    /// non-ASCII text, integers of every size and doubles of every magnitude.
    static func random(using random: inout SeededRandom, depth: Int = 0, depthMax: Int = 5) -> TestJSON {
        let containerOdds = depth < depthMax ? 3 : 0
        switch Int.random(in: 0..<(9 + containerOdds), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2, 3: return .int(randomInt(using: &random))
        case 4, 5: return .double(randomDouble(using: &random))
        case 6, 7, 8: return .string(randomString(using: &random))
        case 9:
            let count = Int.random(in: 0...5, using: &random)
            return .array((0..<count).map { _ in .random(using: &random, depth: depth + 1, depthMax: depthMax) })
        default:
            return randomObject(using: &random, depth: depth, depthMax: depthMax)
        }
    }

    static func randomObject(using random: inout SeededRandom, depth: Int = 0, depthMax: Int = 5) -> TestJSON {
        let count = Int.random(in: 0...6, using: &random)
        var members: [(key: String, value: TestJSON)] = []
        for _ in 0..<count {
            let key = randomString(using: &random)
            guard !members.contains(where: { $0.key.utf8.elementsEqual(key.utf8) }) else { continue }
            members.append((key, .random(using: &random, depth: depth + 1, depthMax: depthMax)))
        }
        return .object(members)
    }

    static func randomInt(using random: inout SeededRandom) -> Int64 {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return [Int64.min, Int64.max, 0, -1, 1, Int64.min + 1, Int64.max - 1].randomElement(using: &random)!
        case 1...4: return Int64.random(in: -1000...1000, using: &random)
        default:
            // Every digit count equally likely.
            let digitCount = Int.random(in: 1...18, using: &random)
            var magnitude: Int64 = 1
            for _ in 1..<digitCount { magnitude *= 10 }
            let value = Int64.random(in: 0..<(magnitude * 9), using: &random)
            return Bool.random(using: &random) ? value : -value
        }
    }

    static func randomDouble(using random: inout SeededRandom) -> Double {
        switch Int.random(in: 0..<6, using: &random) {
        case 0:
            return [0.1, 0.5, 1.5, 1e-300, .leastNonzeroMagnitude, 2.2250738585072014e-308, 1.7976931348623157e308,
                    1e22, 1e23, 0x1p53 + 2, 123456.789, -2.5e-5, 4.35, 0.908].randomElement(using: &random)!
        case 1:
            // Prices and the like: a few decimals.
            return Double(Int.random(in: -1_000_000...1_000_000, using: &random)) / 100
        case 2:
            return Double.random(in: -1e6...1e6, using: &random)
        default:
            // Any finite Double but zero (Foundation does not keep zero's sign).
            while true {
                let value = Double(bitPattern: random.next())
                if value.isFinite && value != 0 { return value }
            }
        }
    }

    /// Characters that stress escaping and UTF-8: quotes, backslashes, slashes, every control character, DEL,
    /// and text of 2, 3 and 4 UTF-8 bytes per character.
    static let stressCharacters: [Unicode.Scalar] = {
        var scalars: [Unicode.Scalar] = ["\"", "\\", "/", "\u{7F}", "é", "ß", "€", "中", "\u{2028}", "\u{FFFF}",
                                         "😀", "\u{10FFFF}", "\u{1F1EB}"]
        scalars += (0..<0x20).map { Unicode.Scalar(UInt8($0)) }
        return scalars
    }()

    static func randomString(using random: inout SeededRandom) -> String {
        let count = [0, 1, 3, 7, 8, 9, 15, 16, 17, 40].randomElement(using: &random)!
        var text = String.UnicodeScalarView()
        for _ in 0..<count {
            if Int.random(in: 0..<4, using: &random) == 0 {
                text.append(stressCharacters.randomElement(using: &random)!)
            } else {
                text.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &random)))
            }
        }
        return String(text)
    }
}
