import Foundation
import NIOCore
import SluiceJSON

/// How a PostgreSQL type's text form becomes JSON.
public indirect enum PgValueKind: Sendable, Equatable {
    /// int2, int4, int8, oid: JSON numbers.
    case integer
    /// float4, float8: JSON numbers; NaN and ±Infinity as strings.
    case float
    /// numeric: an exact decimal string (JSON numbers lose digits in most readers).
    case numeric
    case bool
    /// text, varchar, char, name, enums, uuid and anything unknown: strings.
    case string
    /// json, jsonb: embedded as JSON values.
    case json
    /// bytea: base64 of the bytes.
    case bytea
    /// timestamp without time zone: ISO-8601 without zone, `2024-01-02T03:04:05.123456`.
    case timestamp
    /// timestamptz: ISO-8601 in UTC, `2024-01-02T03:04:05.123456Z`.
    case timestamptz
    /// date, time, timetz, interval: PostgreSQL's ISO text, as strings.
    case temporalText
    case array(element: PgValueKind)
}

/// Maps type OIDs to value kinds: the built-in types, plus array and enum types read from the
/// catalog (`pg_type`) at start.
public struct PgTypeRegistry: Sendable {
    public private(set) var kinds: [UInt32: PgValueKind]

    public init() {
        var kinds: [UInt32: PgValueKind] = [
            16: .bool, 17: .bytea, 18: .string, 19: .string, 20: .integer, 21: .integer, 23: .integer, 25: .string, 26: .integer,
            114: .json, 700: .float, 701: .float, 1042: .string, 1043: .string, 1082: .temporalText, 1083: .temporalText,
            1114: .timestamp, 1184: .timestamptz, 1186: .temporalText, 1266: .temporalText, 1700: .numeric, 2950: .string, 3802: .json,
        ]
        // Array types of the built-ins.
        let arrays: [UInt32: UInt32] = [
            1000: 16, 1001: 17, 1002: 18, 1003: 19, 1005: 21, 1007: 23, 1009: 25, 1028: 26, 1016: 20, 199: 114, 1021: 700, 1022: 701,
            1014: 1042, 1015: 1043, 1182: 1082, 1183: 1083, 1115: 1114, 1185: 1184, 1187: 1186, 1270: 1266, 1231: 1700, 2951: 2950, 3807: 3802,
        ]
        for (array, element) in arrays { kinds[array] = .array(element: kinds[element]!) }
        self.kinds = kinds
    }

    /// Adds an array type whose element type is known (user enums' arrays, say).
    public mutating func addArray(oid: UInt32, elementOID: UInt32) {
        self.kinds[oid] = .array(element: self.kind(of: elementOID))
    }

    public func kind(of oid: UInt32) -> PgValueKind { self.kinds[oid] ?? .string }
}

/// Writes PostgreSQL text-format values as JSON. One path for snapshot rows (simple-query text
/// results) and streamed tuples (pgoutput text tuples): both are the types' output functions.
public enum PgValueConverter {
    public static func write(_ text: [UInt8], kind: PgValueKind, to writer: inout JSONWriter) throws(CDCError) {
        var failure: CDCError?
        text.withUnsafeBytes { bytes in
            do throws(CDCError) { try Self.write(bytes, kind: kind, to: &writer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public static func write(_ text: ByteBuffer, kind: PgValueKind, to writer: inout JSONWriter) throws(CDCError) {
        var failure: CDCError?
        text.withUnsafeReadableBytes { bytes in
            do throws(CDCError) { try Self.write(bytes, kind: kind, to: &writer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public static func write(_ text: UnsafeRawBufferPointer, kind: PgValueKind, to writer: inout JSONWriter) throws(CDCError) {
        switch kind {
        case .integer:
            writer.raw(text)
        case .float:
            if let first = text.first, first == UInt8(ascii: "N") || first == UInt8(ascii: "I") || (text.count > 1 && text[1] == UInt8(ascii: "I")) {
                writer.string(utf8: text)
            } else {
                writer.raw(text)
            }
        case .numeric, .string, .temporalText:
            writer.string(utf8: text)
        case .bool:
            writer.bool(text.first == UInt8(ascii: "t"))
        case .json:
            writer.raw(text)
        case .bytea:
            writer.string(try Self.base64(fromByteaHex: Array(text)))
        case .timestamp:
            writer.string(Self.isoTimestamp(Array(text), utc: false))
        case .timestamptz:
            writer.string(Self.isoTimestamp(Array(text), utc: true))
        case .array(let element):
            try Self.write(try PgArrayElement.parse(String(decoding: text, as: UTF8.self)), element: element, to: &writer)
        }
    }

    static func write(_ array: PgArrayElement, element: PgValueKind, to writer: inout JSONWriter) throws(CDCError) {
        switch array {
        case .null: writer.null()
        case .text(let text): try Self.write(Array(text.utf8), kind: element, to: &writer)
        case .array(let elements):
            writer.beginArray()
            for item in elements { try Self.write(item, element: element, to: &writer) }
            writer.endArray()
        }
    }

    /// `\x0aff` (bytea_output = hex) as base64.
    static func base64(fromByteaHex text: [UInt8]) throws(CDCError) -> String {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
            throw CDCError(.protocolViolation, "a bytea value is not in hex format (bytea_output must be hex)")
        }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index < text.count {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else {
                throw CDCError(.protocolViolation, "a bytea value has a non-hex digit")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return Data(bytes).base64EncodedString()
    }

    /// `2024-01-02 03:04:05.5+00` → `2024-01-02T03:04:05.5Z`; infinity and BC dates pass unchanged.
    static func isoTimestamp(_ text: [UInt8], utc: Bool) -> String {
        var bytes = text
        guard bytes.count >= 19, bytes[10] == UInt8(ascii: " "), !bytes.contains(UInt8(ascii: "B")) else {
            return String(decoding: text, as: UTF8.self)
        }
        bytes[10] = UInt8(ascii: "T")
        if utc {
            if bytes.count >= 3, bytes[bytes.count - 3] == UInt8(ascii: "+"), bytes[bytes.count - 2] == UInt8(ascii: "0"), bytes[bytes.count - 1] == UInt8(ascii: "0") {
                bytes.removeLast(3)
                bytes.append(UInt8(ascii: "Z"))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
