import Foundation

/// A failure to read or understand a message spec; the generator prints it and exits non-zero.
struct CodegenError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A version range as the specs write it: "3+", "0-7", "5", "none".
struct Versions: Equatable, Sendable {
    var lowest: Int
    /// nil for open-ended ranges.
    var highest: Int?
    var isNone: Bool

    static let none = Versions(lowest: 0, highest: nil, isNone: true)

    init(lowest: Int, highest: Int?, isNone: Bool = false) {
        self.lowest = lowest
        self.highest = highest
        self.isNone = isNone
    }

    init(parsing text: String, context: String) throws {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text == "none" {
            self = .none
        } else if text.hasSuffix("+"), let lowest = Int(text.dropLast()) {
            self.init(lowest: lowest, highest: nil)
        } else if let dash = text.firstIndex(of: "-"), let lowest = Int(text[..<dash]),
            let highest = Int(text[text.index(after: dash)...]), lowest <= highest
        {
            self.init(lowest: lowest, highest: highest)
        } else if let only = Int(text) {
            self.init(lowest: only, highest: only)
        } else {
            throw CodegenError("\(context): cannot parse versions \"\(text)\"")
        }
    }

    func contains(_ version: Int) -> Bool {
        if self.isNone || version < self.lowest { return false }
        if let highest = self.highest, version > highest { return false }
        return true
    }

    func intersection(_ other: Versions) -> Versions {
        if self.isNone || other.isNone { return .none }
        let lowest = max(self.lowest, other.lowest)
        let highest: Int?
        switch (self.highest, other.highest) {
        case (nil, nil): highest = nil
        case (let value?, nil), (nil, let value?): highest = value
        case (let first?, let second?): highest = min(first, second)
        }
        if let highest, highest < lowest { return .none }
        return Versions(lowest: lowest, highest: highest)
    }

    /// The versions of `self` below `other`'s first version; `other` must be open-ended (tagged versions are).
    func below(_ other: Versions) -> Versions {
        if other.isNone { return self }
        return self.intersection(Versions(lowest: Int.min / 2, highest: other.lowest - 1))
    }

    var text: String {
        if self.isNone { return "none" }
        guard let highest else { return "\(self.lowest)+" }
        return highest == self.lowest ? "\(self.lowest)" : "\(self.lowest)-\(highest)"
    }
}

/// The primitive and composite types of message fields.
indirect enum FieldType: Equatable, Sendable {
    case bool, int8, int16, uint16, int32, uint32, int64, float64
    case string, uuid, bytes, records
    case structure(String)
    case array(FieldType)

    static let primitives: [String: FieldType] = [
        "bool": .bool, "int8": .int8, "int16": .int16, "uint16": .uint16, "int32": .int32, "uint32": .uint32,
        "int64": .int64, "float64": .float64, "string": .string, "uuid": .uuid, "bytes": .bytes,
        "records": .records,
    ]

    init(parsing text: String) {
        if text.hasPrefix("[]") {
            self = .array(FieldType(parsing: String(text.dropFirst(2))))
        } else if let primitive = FieldType.primitives[text] {
            self = primitive
        } else {
            self = .structure(text)
        }
    }

    var isInteger: Bool {
        switch self {
        case .int8, .int16, .uint16, .int32, .uint32, .int64: return true
        default: return false
        }
    }
}

/// One field of a spec, with its nested fields when its type is a structure defined in place.
struct FieldSpec {
    var name: String
    var type: FieldType
    var versions: Versions
    var nullableVersions: Versions
    var taggedVersions: Versions
    var tag: Int?
    /// A field-level override of the message's flexible versions (the request header's ClientId: "none").
    var flexibleVersions: Versions?
    var ignorable: Bool
    /// The spec's default, as text ("-1", "0x7fffffff", "null", "true"); nil when the spec gives none.
    var defaultText: String?
    var about: String
    var entityType: String?
    var mapKey: Bool
    var fields: [FieldSpec]?

    init(json: [String: Any], context: String) throws {
        guard let name = json["name"] as? String, let type = json["type"] as? String else {
            throw CodegenError("\(context): a field lacks a name or a type")
        }
        let context = "\(context).\(name)"
        self.name = name
        self.type = FieldType(parsing: type)
        guard let versions = json["versions"] as? String else {
            throw CodegenError("\(context): no versions")
        }
        self.versions = try Versions(parsing: versions, context: context)
        self.nullableVersions =
            try (json["nullableVersions"] as? String).map { try Versions(parsing: $0, context: context) } ?? .none
        self.taggedVersions =
            try (json["taggedVersions"] as? String).map { try Versions(parsing: $0, context: context) } ?? .none
        self.tag = json["tag"] as? Int
        self.flexibleVersions = try (json["flexibleVersions"] as? String).map {
            try Versions(parsing: $0, context: context)
        }
        self.ignorable = json["ignorable"] as? Bool ?? false
        // Most specs quote defaults ("-1"); a few write bare JSON numbers and booleans.
        switch json["default"] {
        case nil: self.defaultText = nil
        case let text as String: self.defaultText = text
        case let flag as Bool where self.type == .bool: self.defaultText = flag ? "true" : "false"
        case let integer as Int: self.defaultText = String(integer)
        case let number as Double: self.defaultText = String(number)
        case let number as NSNumber:
            self.defaultText = self.type == .bool ? (number.boolValue ? "true" : "false") : number.stringValue
        default: throw CodegenError("\(context): unreadable default")
        }
        self.about = json["about"] as? String ?? ""
        self.entityType = json["entityType"] as? String
        self.mapKey = json["mapKey"] as? Bool ?? false
        if let fields = json["fields"] as? [[String: Any]] {
            self.fields = try fields.map { try FieldSpec(json: $0, context: context) }
        } else {
            self.fields = nil
        }
        if (self.tag == nil) != self.taggedVersions.isNone {
            throw CodegenError("\(context): tag and taggedVersions must come together")
        }
        if !self.taggedVersions.isNone && self.taggedVersions.highest != nil {
            throw CodegenError("\(context): tagged versions must be open-ended")
        }
    }
}

/// A structure named in a spec: the message itself, a structure defined in place, or a common structure.
struct StructSpec {
    var name: String
    var fields: [FieldSpec]
}

/// One JSON message spec: a request, a response, a header, or a data structure.
struct MessageSpec {
    var name: String
    /// "request", "response", "header" or "data".
    var kind: String
    var apiKey: Int?
    var validVersions: Versions
    var flexibleVersions: Versions
    var latestVersionUnstable: Bool
    var fields: [FieldSpec]
    var commonStructs: [StructSpec]
    /// The file it was read from, for the generated header.
    var fileName: String

    init(contentsOf url: URL) throws {
        let text = try String(contentsOf: url, encoding: .utf8)
        let stripped = Self.strippingComments(text)
        let object = try JSONSerialization.jsonObject(with: Data(stripped.utf8))
        guard let json = object as? [String: Any], let name = json["name"] as? String,
            let kind = json["type"] as? String
        else {
            throw CodegenError("\(url.lastPathComponent): not a message spec")
        }
        self.name = name
        self.kind = kind
        self.fileName = url.lastPathComponent
        self.apiKey = json["apiKey"] as? Int
        guard let valid = json["validVersions"] as? String else {
            throw CodegenError("\(name): no validVersions")
        }
        self.validVersions = try Versions(parsing: valid, context: name)
        guard self.validVersions.highest != nil, !self.validVersions.isNone else {
            throw CodegenError("\(name): validVersions must be a closed range")
        }
        self.flexibleVersions = try Versions(parsing: json["flexibleVersions"] as? String ?? "none", context: name)
        self.latestVersionUnstable = json["latestVersionUnstable"] as? Bool ?? false
        self.fields = try (json["fields"] as? [[String: Any]] ?? []).map { try FieldSpec(json: $0, context: name) }
        self.commonStructs = try (json["commonStructs"] as? [[String: Any]] ?? []).map { common in
            guard let structName = common["name"] as? String, let fields = common["fields"] as? [[String: Any]] else {
                throw CodegenError("\(name): a common struct lacks a name or fields")
            }
            return StructSpec(
                name: structName,
                fields: try fields.map { try FieldSpec(json: $0, context: "\(name).\(structName)") }
            )
        }
    }

    /// Removes `//` comments (outside string literals) so that JSONSerialization accepts the text.
    static func strippingComments(_ text: String) -> String {
        var output: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                output.append(byte)
                if byte == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    output.append(bytes[index + 1])
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                output.append(byte)
                index += 1
            } else if byte == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            } else {
                output.append(byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Every structure of the message other than the message itself, in the order the message first uses them
    /// (depth first), so that the output does not depend on dictionary order.
    func nestedStructs() throws -> [StructSpec] {
        var ordered: [StructSpec] = []
        var seen: Set<String> = []
        let common = Dictionary(self.commonStructs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        func structName(of type: FieldType) -> String? {
            switch type {
            case .structure(let name): return name
            case .array(let element): return structName(of: element)
            default: return nil
            }
        }
        func visit(_ fields: [FieldSpec], context: String) throws {
            for field in fields {
                guard let name = structName(of: field.type) else {
                    if field.fields != nil {
                        throw CodegenError("\(context).\(field.name): fields on a primitive type")
                    }
                    continue
                }
                if let nested = field.fields {
                    if seen.contains(name) || common[name] != nil {
                        throw CodegenError("\(self.name): structure \(name) is defined twice")
                    }
                    seen.insert(name)
                    ordered.append(StructSpec(name: name, fields: nested))
                    try visit(nested, context: "\(context).\(field.name)")
                } else if !seen.contains(name) {
                    guard let shared = common[name] else {
                        throw CodegenError("\(self.name): structure \(name) is used but never defined")
                    }
                    seen.insert(name)
                    ordered.append(shared)
                    try visit(shared.fields, context: name)
                }
            }
        }
        try visit(self.fields, context: self.name)
        if ordered.contains(where: { $0.name == self.name }) {
            throw CodegenError("\(self.name): a nested structure has the message's name")
        }
        return ordered
    }
}
