import Foundation
import NIOCore
import SluiceCore

/// How a pipeline turns a key or value into bytes and back. A `nil` byte array is Kafka's null (a
/// record without key, or a tombstone).
///
/// A struct of functions rather than a protocol so that pipelines pass serdes as values
/// (`.string`, `.json(Bid.self)`, `Serde(serialize:deserialize:)`) and the engine stores them
/// without generic explosion.
public struct Serde<Value>: Sendable {
    public let serialize: @Sendable (Value) -> [UInt8]?
    public let deserialize: @Sendable (ByteBuffer?) throws -> Value
    /// Makes a deserializer for one task's thread. A serde that keeps scratch state between records
    /// (a JSON scanner's field slots) makes it here, so that the record path allocates nothing and
    /// no two threads share it.
    public let makeDeserializer: @Sendable () -> (ByteBuffer?) throws -> Value
    /// Makes a deserializer for one task that reads bytes in place (a record of a batch being read,
    /// valid only during the call): the sources' fast path. By default the bytes are copied into a
    /// buffer for the ordinary deserializer.
    public let makeViewDeserializer: @Sendable () -> (UnsafeRawBufferPointer?) throws -> Value
    /// Makes a deserializer for one task that reads bytes in place and may keep parts of them without a copy: it
    /// gets a record's bytes (valid during the call), the buffer they lie in and where they start among its
    /// readable bytes (`RecordBatch.forEachRecordView(inPayload:)`), and may keep slices of that buffer, which
    /// share its memory (`JSONText`). nil for the serdes that do not; sources then use `makeViewDeserializer`.
    public let makePayloadDeserializer: (@Sendable () -> PayloadDeserializer)?

    /// A record's bytes in place, the buffer they lie in and their offset among its readable bytes, to a value.
    public typealias PayloadDeserializer = (UnsafeRawBufferPointer?, ByteBuffer, Int) throws -> Value

    public init(serialize: @escaping @Sendable (Value) -> [UInt8]?, deserialize: @escaping @Sendable (ByteBuffer?) throws -> Value) {
        self.serialize = serialize
        self.deserialize = deserialize
        self.makeDeserializer = { deserialize }
        self.makeViewDeserializer = { { bytes in try deserialize(bytes.map { ByteBuffer(bytes: $0) }) } }
        self.makePayloadDeserializer = nil
    }

    /// A serde whose deserializer keeps per-thread state: `makeDeserializer` is called once per task.
    public init(serialize: @escaping @Sendable (Value) -> [UInt8]?, makeDeserializer: @escaping @Sendable () -> (ByteBuffer?) throws -> Value) {
        self.serialize = serialize
        self.makeDeserializer = makeDeserializer
        self.deserialize = { buffer in try makeDeserializer()(buffer) }
        self.makeViewDeserializer = {
            let deserialize = makeDeserializer()
            return { bytes in try deserialize(bytes.map { ByteBuffer(bytes: $0) }) }
        }
        self.makePayloadDeserializer = nil
    }

    /// A serde that reads bytes in place: `makeViewDeserializer` is called once per task and its
    /// function gets each record's bytes, valid during the call only.
    public init(serialize: @escaping @Sendable (Value) -> [UInt8]?,
                makeViewDeserializer: @escaping @Sendable () -> (UnsafeRawBufferPointer?) throws -> Value) {
        self.init(serialize: serialize, makeViewDeserializer: makeViewDeserializer, makePayloadDeserializer: nil)
    }

    /// A serde that reads bytes in place and, through `makePayloadDeserializer`, may keep slices of the buffer
    /// they lie in (see `makePayloadDeserializer`); `makeViewDeserializer` serves callers without such a buffer.
    public init(serialize: @escaping @Sendable (Value) -> [UInt8]?,
                makeViewDeserializer: @escaping @Sendable () -> (UnsafeRawBufferPointer?) throws -> Value,
                makePayloadDeserializer: (@Sendable () -> PayloadDeserializer)?) {
        self.serialize = serialize
        self.makeViewDeserializer = makeViewDeserializer
        self.makePayloadDeserializer = makePayloadDeserializer
        self.makeDeserializer = {
            let deserialize = makeViewDeserializer()
            return { buffer in
                guard let buffer else { return try deserialize(nil) }
                return try buffer.withUnsafeReadableBytes { try deserialize($0) }
            }
        }
        self.deserialize = { buffer in
            let deserialize = makeViewDeserializer()
            guard let buffer else { return try deserialize(nil) }
            return try buffer.withUnsafeReadableBytes { try deserialize($0) }
        }
    }
}

/// A record whose bytes a serde could not read: the pipeline sends it to its dead-letter handling
/// with this reason instead of stopping.
public struct DeserializationError: Error, CustomStringConvertible, Sendable {
    public var reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { self.reason }
}

extension Serde where Value == [UInt8]? {
    /// The bytes as they are, null kept.
    public static var bytes: Serde<[UInt8]?> {
        Serde(serialize: { $0 }, deserialize: { buffer in buffer.map { Array($0.readableBytesView) } })
    }
}

extension Serde where Value == String {
    /// UTF-8 text; a null reads as the empty string.
    public static var string: Serde<String> {
        Serde(serialize: { Array($0.utf8) }, makeViewDeserializer: { { bytes in bytes.map { String(decoding: $0, as: UTF8.self) } ?? "" } })
    }
}

extension Serde where Value == String? {
    /// UTF-8 text with null kept.
    public static var optionalString: Serde<String?> {
        Serde(
            serialize: { $0.map { Array($0.utf8) } },
            deserialize: { buffer in buffer.flatMap { $0.getString(at: $0.readerIndex, length: $0.readableBytes) } }
        )
    }
}

extension Serde where Value == Int64 {
    /// 8 bytes big-endian, as Kafka's LongSerializer writes them.
    public static var int64: Serde<Int64> {
        Serde(
            serialize: { value in withUnsafeBytes(of: value.bigEndian) { Array($0) } },
            makeViewDeserializer: {
                { bytes in
                    guard let bytes, bytes.count == 8 else { throw DeserializationError("an int64 needs 8 bytes, found \(bytes?.count ?? 0)") }
                    return Int64(bigEndian: bytes.loadUnaligned(as: Int64.self))
                }
            }
        )
    }

    /// Decimal text ("42"), readable by any tool.
    public static var int64Text: Serde<Int64> {
        Serde(
            serialize: { Array(String($0).utf8) },
            deserialize: { buffer in
                guard let buffer, let text = buffer.getString(at: buffer.readerIndex, length: buffer.readableBytes),
                      let value = Int64(text) else {
                    throw DeserializationError("not a decimal integer")
                }
                return value
            }
        )
    }
}

extension Serde where Value == Double {
    /// 8 bytes big-endian IEEE 754, as Kafka's DoubleSerializer writes them.
    public static var double: Serde<Double> {
        Serde(
            serialize: { value in withUnsafeBytes(of: value.bitPattern.bigEndian) { Array($0) } },
            deserialize: { buffer in
                guard let buffer, buffer.readableBytes == 8, let bits = buffer.getInteger(at: buffer.readerIndex, as: UInt64.self) else {
                    throw DeserializationError("a double needs 8 bytes, found \(buffer?.readableBytes ?? 0)")
                }
                return Double(bitPattern: bits)
            }
        )
    }
}

/// The key of records that have none.
public struct NoKey: Hashable, Sendable {
    public init() {}
}

extension Serde where Value == NoKey {
    /// Null bytes, for keyless streams.
    public static var none: Serde<NoKey> {
        Serde(serialize: { _ in nil }, makeViewDeserializer: { { _ in NoKey() } })
    }
}

extension Serde where Value: Codable {
    /// JSON through Foundation's coders: convenient, not fast; hot paths read fields with
    /// SluiceJSON's scanner in a serde of their own.
    public static func json(_ type: Value.Type = Value.self) -> Serde<Value> {
        Serde(
            serialize: { value in (try? JSONEncoder().encode(value)).map { Array($0) } },
            deserialize: { buffer in
                guard let buffer else { throw DeserializationError("null where JSON was expected") }
                do {
                    return try JSONDecoder().decode(Value.self, from: Data(buffer.readableBytesView))
                } catch {
                    throw DeserializationError("invalid JSON: \(error)")
                }
            }
        )
    }
}
