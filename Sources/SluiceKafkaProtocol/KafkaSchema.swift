/// The shape of one generated structure as its Kafka message spec describes it: field names, types, and the
/// versions in which each field is present, nullable or tagged.
///
/// The generated codecs do not consult it; it is there for code that walks messages without knowing their types
/// (debug dumps, the schema-driven round-trip tests).
public struct KafkaSchema: Sendable {
    /// A range of versions as the specs write them: "3+", "0-7", "none".
    public struct Versions: Sendable, Hashable, CustomStringConvertible {
        /// The first version; meaningless when `isNone`.
        public var lowest: Int16
        /// The last version, or nil for open-ended ranges ("3+").
        public var highest: Int16?
        /// True for the empty range ("none").
        public var isNone: Bool

        public init(_ lowest: Int16, _ highest: Int16? = nil) {
            self.lowest = lowest
            self.highest = highest
            self.isNone = false
        }

        private init(none: Void) {
            self.lowest = 0
            self.highest = nil
            self.isNone = true
        }

        /// The empty range.
        public static let none = Versions(none: ())

        public func contains(_ version: Int16) -> Bool {
            if self.isNone { return false }
            if version < self.lowest { return false }
            if let highest = self.highest, version > highest { return false }
            return true
        }

        public var description: String {
            if self.isNone { return "none" }
            guard let highest = self.highest else { return "\(self.lowest)+" }
            return highest == self.lowest ? "\(self.lowest)" : "\(self.lowest)-\(highest)"
        }
    }

    /// A field's wire type.
    public indirect enum FieldType: Sendable {
        case bool, int8, int16, uint16, int32, uint32, int64, float64
        case string, uuid, bytes, records
        case array(FieldType)
        case structure(KafkaSchema)
    }

    /// A field's default as the spec gives it (or the type's default when it gives none).
    public enum DefaultValue: Sendable, Hashable {
        /// nil: "null" defaults, and `records` fields.
        case null
        case integer(Int64)
        case bool(Bool)
        case float(Double)
        case string(String)
        /// The empty value of the type: an empty array or byte array, the zero uuid, a structure at its defaults.
        case empty
    }

    public struct Field: Sendable {
        /// The spec's name, "MaxWaitMs".
        public var name: String
        /// The Swift property, "maxWaitMs".
        public var propertyName: String
        public var type: FieldType
        public var versions: Versions
        public var nullableVersions: Versions
        public var taggedVersions: Versions
        /// The tag in flexible versions that tag this field.
        public var tag: UInt32?
        /// The versions that use compact encodings for this field, when the spec overrides the message's (the
        /// request header's ClientId, which is never compact).
        public var flexibleVersions: Versions?
        /// Whether a non-default value may be dropped when writing a version that does not carry the field.
        public var ignorable: Bool
        public var defaultValue: DefaultValue

        public init(
            name: String,
            propertyName: String,
            type: FieldType,
            versions: Versions,
            nullableVersions: Versions = .none,
            taggedVersions: Versions = .none,
            tag: UInt32? = nil,
            flexibleVersions: Versions? = nil,
            ignorable: Bool = false,
            defaultValue: DefaultValue
        ) {
            self.name = name
            self.propertyName = propertyName
            self.type = type
            self.versions = versions
            self.nullableVersions = nullableVersions
            self.taggedVersions = taggedVersions
            self.tag = tag
            self.flexibleVersions = flexibleVersions
            self.ignorable = ignorable
            self.defaultValue = defaultValue
        }
    }

    /// The spec's name for the structure ("FetchRequest", "FetchTopic").
    public var name: String
    public var fields: [Field]

    public init(name: String, fields: [Field]) {
        self.name = name
        self.fields = fields
    }
}
