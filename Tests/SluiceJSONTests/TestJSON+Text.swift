import _SluiceTestSupport

extension TestJSON {
    /// The value as JSON text written independently of `JSONWriter`, with random whitespace between tokens and
    /// random optional escapes (`\/`, `\u00e9`, surrogate pairs in either case of hex), so that the scanner
    /// sees every form a producer may use.
    func noisyText(using random: inout SeededRandom) -> [UInt8] {
        var out: [UInt8] = []
        self.appendNoisyText(to: &out, using: &random)
        return out
    }

    private func appendNoisyText(to out: inout [UInt8], using random: inout SeededRandom) {
        func space() {
            let choices: [[UInt8]] = [[], [], [], [0x20], [0x0A], [0x09, 0x20], [0x0D, 0x0A]]
            out += choices.randomElement(using: &random)!
        }
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .int(let value): out += Array(String(value).utf8)
        case .double(let value):
            // Swift's text, or an equivalent exponent form.
            var text = "\(value)"
            if Bool.random(using: &random), !text.contains("e") {
                text += ["e0", "E+0", "e-0"].randomElement(using: &random)!
            }
            out += Array(text.utf8)
        case .string(let value): Self.appendNoisyString(value, to: &out, using: &random)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            space()
            for (index, element) in elements.enumerated() {
                if index > 0 {
                    out.append(UInt8(ascii: ","))
                    space()
                }
                element.appendNoisyText(to: &out, using: &random)
                space()
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            space()
            for (index, member) in members.enumerated() {
                if index > 0 {
                    out.append(UInt8(ascii: ","))
                    space()
                }
                Self.appendNoisyString(member.key, to: &out, using: &random)
                space()
                out.append(UInt8(ascii: ":"))
                space()
                member.value.appendNoisyText(to: &out, using: &random)
                space()
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func appendNoisyString(_ text: String, to out: inout [UInt8], using random: inout SeededRandom) {
        func hex(_ unit: UInt16) -> [UInt8] {
            let digits = Array((Bool.random(using: &random) ? "0123456789abcdef" : "0123456789ABCDEF").utf8)
            return [UInt8(ascii: "\\"), UInt8(ascii: "u")] + [12, 8, 4, 0].map { digits[Int(unit >> $0) & 0xF] }
        }
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            let escapeAnyway = Int.random(in: 0..<5, using: &random) == 0
            switch scalar {
            case "\"": out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case "\\": out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case "\n" where !escapeAnyway: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case "\t" where !escapeAnyway: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case "/" where escapeAnyway: out += [UInt8(ascii: "\\"), UInt8(ascii: "/")]
            case _ where scalar.value < 0x20 || escapeAnyway:
                for unit in String(scalar).utf16 { out += hex(unit) }
            default: out += Array(String(scalar).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
