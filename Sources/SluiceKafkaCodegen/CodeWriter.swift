/// Accumulates Swift source with 4-space indentation, wrapping long calls one argument per line.
struct CodeWriter {
    static let columnsMax = 120

    private(set) var text = ""
    private var indentLevel = 0

    private var indentation: String { String(repeating: "    ", count: self.indentLevel) }

    mutating func line(_ line: String = "") {
        if line.isEmpty {
            self.text += "\n"
        } else {
            self.text += self.indentation + line + "\n"
        }
    }

    mutating func lines(_ lines: [String]) {
        for line in lines { self.line(line) }
    }

    /// `header {`, the body one level deeper, then `}` (or `footer`).
    /// A nil `footer` leaves the block open for an `} else {` that follows.
    mutating func block(_ header: String, footer: String? = "}", _ body: (inout CodeWriter) -> Void) {
        self.line(header)
        self.indentLevel += 1
        body(&self)
        self.indentLevel -= 1
        if let footer { self.line(footer) }
    }

    mutating func indent() { self.indentLevel += 1 }

    mutating func dedent() { self.indentLevel -= 1 }

    /// Removes the last line written (to turn a closing brace into `} else ... {`).
    mutating func removeLastLine() {
        guard self.text.hasSuffix("\n") else { return }
        self.text.removeLast()
        if let newline = self.text.lastIndex(of: "\n") {
            self.text = String(self.text[...newline])
        } else {
            self.text = ""
        }
    }

    /// `head(arguments)tail` on one line if it fits, else the arguments packed into as few lines as fit.
    mutating func packedCall(_ head: String, _ arguments: [String], _ tail: String) {
        let single = head + arguments.joined(separator: ", ") + tail
        if self.indentation.count + single.count <= Self.columnsMax || arguments.isEmpty {
            self.line(single)
            return
        }
        self.line(head)
        self.indentLevel += 1
        let width = Self.columnsMax - self.indentation.count
        var current = ""
        for (index, argument) in arguments.enumerated() {
            let piece = argument + (index == arguments.count - 1 ? "" : ",")
            if current.isEmpty {
                current = piece
            } else if current.count + 1 + piece.count > width {
                self.line(current)
                current = piece
            } else {
                current += " " + piece
            }
        }
        if !current.isEmpty { self.line(current) }
        self.indentLevel -= 1
        self.line(tail)
    }

    /// `head(arguments)tail` on one line if it fits, else one argument per line.
    mutating func call(_ head: String, _ arguments: [String], _ tail: String = ")") {
        let single = head + arguments.joined(separator: ", ") + tail
        if self.indentation.count + single.count <= Self.columnsMax || arguments.isEmpty {
            self.line(single)
            return
        }
        self.line(head)
        self.indentLevel += 1
        for (index, argument) in arguments.enumerated() {
            self.line(argument + (index == arguments.count - 1 ? "" : ","))
        }
        self.indentLevel -= 1
        self.line(tail)
    }

    /// A `///` comment, wrapped to the column limit.
    mutating func docComment(_ text: String) {
        let width = Self.columnsMax - self.indentation.count - 4
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var current = ""
            for word in paragraph.split(separator: " ", omittingEmptySubsequences: true) {
                if current.isEmpty {
                    current = String(word)
                } else if current.count + 1 + word.count > width {
                    self.line("/// " + current)
                    current = String(word)
                } else {
                    current += " " + word
                }
            }
            self.line(current.isEmpty ? "///" : "/// " + current)
        }
    }
}

/// Swift spellings of spec names.
enum SwiftNames {
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows",
        "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default",
        "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch",
        "where", "while", "Any", "as", "await", "false", "is", "nil", "self", "Self", "super", "throws", "true",
        "try", "some", "any", "consume", "borrowing", "consuming",
    ]

    /// "MaxWaitMs" -> "maxWaitMs", "URLPath" -> "urlPath", "timeoutMs" -> "timeoutMs".
    static func lowerCamel(_ name: String) -> String {
        let characters = Array(name)
        var upperCount = 0
        while upperCount < characters.count && characters[upperCount].isUppercase { upperCount += 1 }
        if upperCount == 0 { return name }
        // In a run of capitals followed by lowercase, the last capital starts the next word.
        let lowered = upperCount == 1 || upperCount == characters.count ? upperCount : upperCount - 1
        return String(characters[..<lowered]).lowercased() + String(characters[lowered...])
    }

    /// A property or case name, backquoted when it is a keyword.
    static func identifier(_ name: String) -> String {
        keywords.contains(name) ? "`\(name)`" : name
    }

    /// Digits grouped with underscores from the right, as swift-format wants long literals: "2147483647" ->
    /// "2_147_483_647" (decimal, groups of 3, from 5 digits), "7fffffff" -> "7fff_ffff" (hex, groups of 4, from
    /// 8 digits).
    static func grouped(_ digits: String, every size: Int) -> String {
        let minimum = size == 3 ? 5 : 8
        guard digits.count >= minimum else { return digits }
        var groups: [String] = []
        var end = digits.endIndex
        while end > digits.startIndex {
            let start = digits.index(end, offsetBy: -size, limitedBy: digits.startIndex) ?? digits.startIndex
            groups.insert(String(digits[start..<end]), at: 0)
            end = start
        }
        return groups.joined(separator: "_")
    }

    /// A Swift string literal.
    static func stringLiteral(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 {
                    result += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
