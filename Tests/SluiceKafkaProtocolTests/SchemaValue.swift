import Foundation
import NIOCore
import SluiceKafkaProtocol

/// A message's field values as a tree keyed by the spec's field names, independent of the generated Swift types.
///
/// The schema-driven tests build such trees from `KafkaSchema` (random values for every field a version carries),
/// encode them with `SchemaCodec` (an interpreter of the encoding rules, separate from the generated code), and
/// compare them with what the generated codecs decode, read back from the Swift values by reflection.
indirect enum SchemaValue: Equatable, CustomStringConvertible {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String?)
    case uuid(KafkaUUID)
    case bytes([UInt8]?)
    case array([SchemaValue]?)
    /// Fields by spec name.
    case structure([String: SchemaValue])
    /// A nullable structure that is null.
    case nullStructure

    var description: String {
        switch self {
        case .bool(let value): return "\(value)"
        case .int(let value): return "\(value)"
        case .double(let value): return "\(value)"
        case .string(let value): return value.map { "\"\($0)\"" } ?? "null"
        case .uuid(let value): return value.description
        case .bytes(let value): return value.map { "0x" + $0.map { String(format: "%02x", $0) }.joined() } ?? "null"
        case .array(let values):
            return values.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" } ?? "null"
        case .structure(let fields):
            return "{" + fields.keys.sorted().map { "\($0): \(fields[$0]!)" }.joined(separator: ", ") + "}"
        case .nullStructure: return "null"
        }
    }
}

extension KafkaSchema.Field {
    func isPresent(_ version: Int16) -> Bool { self.versions.contains(version) }

    func isTagged(_ version: Int16, flexible: Bool) -> Bool {
        flexible && self.isPresent(version) && self.taggedVersions.contains(version)
    }

    func isCompact(_ version: Int16, flexible: Bool) -> Bool {
        self.flexibleVersions.map { $0.contains(version) } ?? flexible
    }

    var isNullableStructure: Bool {
        if case .structure = self.type, !self.nullableVersions.isNone { return true }
        return false
    }

    /// The field's default as a tree: what a decoder leaves in a field the version does not carry.
    var defaultTree: SchemaValue {
        switch (self.type, self.defaultValue) {
        case (.bool, .bool(let value)): return .bool(value)
        case (.bool, _): return .bool(false)
        case (.float64, .float(let value)): return .double(value)
        case (.float64, _): return .double(0)
        case (.string, .string(let value)): return .string(value)
        case (.string, .null): return .string(nil)
        case (.string, _): return .string("")
        case (.uuid, _): return .uuid(.zero)
        case (.records, _): return .bytes(nil)
        case (.bytes, .null): return .bytes(nil)
        case (.bytes, _): return .bytes([])
        case (.array, .null): return .array(nil)
        case (.array, _): return .array([])
        case (.structure, .null): return .nullStructure
        case (.structure(let schema), _): return schema.defaultTree
        case (_, .integer(let value)): return .int(value)
        default: return .int(0)
        }
    }
}

extension KafkaSchema {
    /// Every field at its default.
    var defaultTree: SchemaValue {
        .structure(Dictionary(uniqueKeysWithValues: self.fields.map { ($0.name, $0.defaultTree) }))
    }
}

// MARK: Random values

/// Random trees with a non-default value in every field a version carries (nullable fields sometimes null, tagged
/// fields sometimes left at their default so that they are not written).
struct SchemaValueGenerator<Generator: RandomNumberGenerator> {
    var random: Generator
    /// Nesting below which arrays stay empty, to keep messages small.
    var depthMax = 4

    mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &self.random) < probability
    }

    mutating func structure(_ schema: KafkaSchema, version: Int16, flexible: Bool, depth: Int = 0) -> SchemaValue {
        var fields: [String: SchemaValue] = [:]
        for field in schema.fields {
            guard field.isPresent(version) else {
                fields[field.name] = field.defaultTree
                continue
            }
            if field.isTagged(version, flexible: flexible) && self.chance(0.3) {
                fields[field.name] = field.defaultTree
                continue
            }
            fields[field.name] = self.value(field, version: version, flexible: flexible, depth: depth)
        }
        return .structure(fields)
    }

    mutating func value(_ field: KafkaSchema.Field, version: Int16, flexible: Bool, depth: Int) -> SchemaValue {
        let nullable = field.nullableVersions.contains(version)
        if nullable && self.chance(0.15) {
            switch field.type {
            case .string: return .string(nil)
            case .bytes, .records: return .bytes(nil)
            case .array: return .array(nil)
            case .structure: return .nullStructure
            default: break
            }
        }
        let defaultTree = field.defaultTree
        for _ in 0..<100 {
            let candidate = self.value(of: field.type, version: version, flexible: flexible, depth: depth)
            if candidate != defaultTree { return candidate }
        }
        fatalError("no non-default value for \(field.name)")
    }

    mutating func value(of type: KafkaSchema.FieldType, version: Int16, flexible: Bool, depth: Int) -> SchemaValue {
        switch type {
        case .bool: return .bool(Bool.random(using: &self.random))
        case .int8: return .int(Int64(self.integer(Int8.self)))
        case .int16: return .int(Int64(self.integer(Int16.self)))
        case .uint16: return .int(Int64(self.integer(UInt16.self)))
        case .int32: return .int(Int64(self.integer(Int32.self)))
        case .uint32: return .int(Int64(self.integer(UInt32.self)))
        case .int64: return .int(self.integer(Int64.self))
        case .float64: return .double([0.5, -1.25, .pi, 1e-300, 6.02e23, -0.0].randomElement(using: &self.random)!)
        case .string: return .string(self.string())
        case .uuid:
            return .uuid(KafkaUUID(mostSignificantBits: self.random.next(), leastSignificantBits: self.random.next()))
        case .bytes, .records:
            let count = Int.random(in: 0...40, using: &self.random)
            return .bytes((0..<count).map { _ in UInt8.random(in: 0...255, using: &self.random) })
        case .array(let element):
            let count = depth >= self.depthMax ? 0 : Int.random(in: 0...3, using: &self.random)
            return .array(
                (0..<count).map { _ in
                    if case .structure(let schema) = element {
                        return self.structure(schema, version: version, flexible: flexible, depth: depth + 1)
                    }
                    return self.value(of: element, version: version, flexible: flexible, depth: depth + 1)
                }
            )
        case .structure(let schema):
            return self.structure(schema, version: version, flexible: flexible, depth: depth + 1)
        }
    }

    /// Small values most of the time (as on the wire), the extremes sometimes.
    mutating func integer<Value: FixedWidthInteger>(_ type: Value.Type) -> Value {
        switch Int.random(in: 0..<10, using: &self.random) {
        case 0: return Value.min
        case 1: return Value.max
        case 2...5: return Value.random(in: Value.min...Value.max, using: &self.random)
        default: return Value(truncatingIfNeeded: Int.random(in: -3...300, using: &self.random))
        }
    }

    mutating func string() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789-._") + ["é", "ß", "日", "本", "🚀"]
        let count = Int.random(in: 0...12, using: &self.random)
        return String((0..<count).map { _ in alphabet.randomElement(using: &self.random)! })
    }
}

// MARK: Encoding by interpretation

/// Encodes trees by walking the schema: the rules of Kafka's protocol guide applied generically, as a second
/// implementation to check the generated codecs against.
enum SchemaCodec {
    static func encode(_ tree: SchemaValue, schema: KafkaSchema, version: Int16, flexible: Bool) -> ByteBuffer {
        var buffer = ByteBuffer()
        self.encodeStructure(tree, schema: schema, version: version, flexible: flexible, into: &buffer)
        return buffer
    }

    static func encodeStructure(
        _ tree: SchemaValue,
        schema: KafkaSchema,
        version: Int16,
        flexible: Bool,
        into buffer: inout ByteBuffer
    ) {
        guard case .structure(let fields) = tree else { fatalError("not a structure: \(tree)") }
        var tagged: [(tag: UInt32, field: KafkaSchema.Field, value: SchemaValue)] = []
        for field in schema.fields where field.isPresent(version) {
            let value = fields[field.name] ?? field.defaultTree
            if field.isTagged(version, flexible: flexible) {
                if value != field.defaultTree { tagged.append((field.tag!, field, value)) }
                continue
            }
            self.encodeValue(
                value,
                type: field.type,
                nullableStructure: field.isNullableStructure,
                compact: field.isCompact(version, flexible: flexible),
                version: version,
                flexible: flexible,
                into: &buffer
            )
        }
        guard flexible else { return }
        self.writeUnsignedVarint(UInt32(tagged.count), into: &buffer)
        for entry in tagged.sorted(by: { $0.tag < $1.tag }) {
            var value = ByteBuffer()
            self.encodeValue(
                entry.value,
                type: entry.field.type,
                nullableStructure: entry.field.isNullableStructure,
                compact: entry.field.flexibleVersions.map { $0.contains(version) } ?? true,
                version: version,
                flexible: flexible,
                into: &value
            )
            self.writeUnsignedVarint(entry.tag, into: &buffer)
            self.writeUnsignedVarint(UInt32(value.readableBytes), into: &buffer)
            buffer.writeBuffer(&value)
        }
    }

    static func encodeValue(
        _ value: SchemaValue,
        type: KafkaSchema.FieldType,
        nullableStructure: Bool,
        compact: Bool,
        version: Int16,
        flexible: Bool,
        into buffer: inout ByteBuffer
    ) {
        switch (type, value) {
        case (.bool, .bool(let flag)): buffer.writeInteger(UInt8(flag ? 1 : 0))
        case (.int8, .int(let number)): buffer.writeInteger(Int8(number))
        case (.int16, .int(let number)): buffer.writeInteger(Int16(number))
        case (.uint16, .int(let number)): buffer.writeInteger(UInt16(number))
        case (.int32, .int(let number)): buffer.writeInteger(Int32(number))
        case (.uint32, .int(let number)): buffer.writeInteger(UInt32(number))
        case (.int64, .int(let number)): buffer.writeInteger(number)
        case (.float64, .double(let number)): buffer.writeInteger(number.bitPattern)
        case (.uuid, .uuid(let id)): buffer.writeBytes(id.bytes)
        case (.string, .string(let text)):
            let bytes = text.map { Array($0.utf8) }
            self.writeLength(bytes?.count, compact: compact, wide: false, into: &buffer)
            if let bytes { buffer.writeBytes(bytes) }
        case (.bytes, .bytes(let bytes)), (.records, .bytes(let bytes)):
            self.writeLength(bytes?.count, compact: compact, wide: true, into: &buffer)
            if let bytes { buffer.writeBytes(bytes) }
        case (.array(let element), .array(let elements)):
            self.writeLength(elements?.count, compact: compact, wide: true, into: &buffer)
            for item in elements ?? [] {
                if case .structure(let schema) = element {
                    self.encodeStructure(item, schema: schema, version: version, flexible: flexible, into: &buffer)
                } else {
                    self.encodeValue(
                        item,
                        type: element,
                        nullableStructure: false,
                        compact: compact,
                        version: version,
                        flexible: flexible,
                        into: &buffer
                    )
                }
            }
        case (.structure, .nullStructure):
            buffer.writeInteger(Int8(-1))
        case (.structure(let schema), .structure):
            if nullableStructure { buffer.writeInteger(Int8(1)) }
            self.encodeStructure(value, schema: schema, version: version, flexible: flexible, into: &buffer)
        default:
            fatalError("value \(value) does not fit \(type)")
        }
    }

    static func writeLength(_ length: Int?, compact: Bool, wide: Bool, into buffer: inout ByteBuffer) {
        if compact {
            self.writeUnsignedVarint(UInt32(length.map { $0 + 1 } ?? 0), into: &buffer)
        } else if wide {
            buffer.writeInteger(Int32(length ?? -1))
        } else {
            buffer.writeInteger(Int16(length ?? -1))
        }
    }

    static func writeUnsignedVarint(_ value: UInt32, into buffer: inout ByteBuffer) {
        var remaining = value
        while remaining >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        buffer.writeInteger(UInt8(remaining))
    }
}

// MARK: Reading Swift values back

/// Reads a generated value back into a tree by reflection, using the schema to name the fields.
enum SchemaMirror {
    static func tree(of value: Any, schema: KafkaSchema) -> SchemaValue {
        let mirror = Mirror(reflecting: value)
        var properties: [String: Any] = [:]
        for child in mirror.children {
            if let label = child.label { properties[label] = child.value }
        }
        var fields: [String: SchemaValue] = [:]
        for field in schema.fields {
            guard let property = properties[field.propertyName] else {
                fatalError("\(schema.name) has no property \(field.propertyName)")
            }
            fields[field.name] = self.tree(of: property, type: field.type, nullableStructure: field.isNullableStructure)
        }
        return .structure(fields)
    }

    /// The wrapped value of an Optional, or nil when it is nil; `value` itself when it is not an Optional.
    static func unwrap(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first?.value
    }

    static func tree(of value: Any, type: KafkaSchema.FieldType, nullableStructure: Bool) -> SchemaValue {
        let unwrapped = self.unwrap(value)
        switch type {
        case .bool: return .bool(unwrapped as! Bool)
        case .int8: return .int(Int64(unwrapped as! Int8))
        case .int16: return .int(Int64(unwrapped as! Int16))
        case .uint16: return .int(Int64(unwrapped as! UInt16))
        case .int32: return .int(Int64(unwrapped as! Int32))
        case .uint32: return .int(Int64(unwrapped as! UInt32))
        case .int64: return .int(unwrapped as! Int64)
        case .float64: return .double(unwrapped as! Double)
        case .string: return .string(unwrapped as! String?)
        case .uuid: return .uuid(unwrapped as! KafkaUUID)
        case .bytes: return .bytes(unwrapped as! [UInt8]?)
        case .records: return .bytes((unwrapped as! ByteBuffer?).map { Array($0.readableBytesView) })
        case .array(let element):
            guard let unwrapped else { return .array(nil) }
            let mirror = Mirror(reflecting: unwrapped)
            return .array(
                mirror.children.map { child in
                    if case .structure(let schema) = element { return self.tree(of: child.value, schema: schema) }
                    return self.tree(of: child.value, type: element, nullableStructure: false)
                }
            )
        case .structure(let schema):
            guard let unwrapped else { return .nullStructure }
            return self.tree(of: unwrapped, schema: schema)
        }
    }
}

// MARK: Comparing

extension SchemaValue {
    /// The first difference from `other`, as a path and both values; nil when equal.
    func difference(from other: SchemaValue, path: String = "") -> String? {
        switch (self, other) {
        case (.structure(let mine), .structure(let theirs)):
            for key in Set(mine.keys).union(theirs.keys).sorted() {
                guard let left = mine[key], let right = theirs[key] else {
                    return "\(path).\(key): present on one side only"
                }
                if let difference = left.difference(from: right, path: "\(path).\(key)") { return difference }
            }
            return nil
        case (.array(let mine?), .array(let theirs?)):
            guard mine.count == theirs.count else {
                return "\(path): \(mine.count) elements, expected \(theirs.count)"
            }
            for (index, (left, right)) in zip(mine, theirs).enumerated() {
                if let difference = left.difference(from: right, path: "\(path)[\(index)]") { return difference }
            }
            return nil
        default:
            return self == other ? nil : "\(path): \(self), expected \(other)"
        }
    }
}
