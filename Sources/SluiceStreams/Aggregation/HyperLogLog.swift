import NIOCore
/// A HyperLogLog sketch (Flajolet et al., with the small-range correction of Heule et al.): the
/// number of distinct values in a fixed `2^precision` bytes, within about `1.04 / sqrt(2^precision)`
/// relative error (1.6 % at the default precision 12). Sketches merge exactly (register maxima),
/// which session windows need.
public struct HyperLogLog: Sendable, Equatable {
    public let precision: Int
    private(set) var registers: [UInt8]

    public static let precisionRange = 4...18

    public init(precision: Int = 12) {
        precondition(Self.precisionRange.contains(precision), "HyperLogLog precision \(precision) outside \(Self.precisionRange)")
        self.precision = precision
        self.registers = Array(repeating: 0, count: 1 << precision)
    }

    /// Adds a value by its 64-bit hash (use a well-mixed hash: `HyperLogLog.hash(_:)`).
    public mutating func add(hash: UInt64) {
        let index = Int(hash >> UInt64(64 - self.precision))
        let rest = (hash << UInt64(self.precision)) | (1 << UInt64(self.precision - 1))
        let rank = UInt8(rest.leadingZeroBitCount + 1)
        if rank > self.registers[index] { self.registers[index] = rank }
    }

    public mutating func merge(_ other: HyperLogLog) {
        precondition(other.precision == self.precision, "HyperLogLog sketches of different precision do not merge")
        for index in self.registers.indices where other.registers[index] > self.registers[index] {
            self.registers[index] = other.registers[index]
        }
    }

    /// The estimated number of distinct values added.
    public var estimate: Int64 {
        let m = Double(self.registers.count)
        var sum = 0.0
        var zeros = 0
        for register in self.registers {
            sum += 1.0 / Double(UInt64(1) << UInt64(register))
            if register == 0 { zeros += 1 }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / sum
        if raw <= 2.5 * m && zeros > 0 {
            return Int64((m * log(m / Double(zeros))).rounded())  // linear counting for small cardinalities
        }
        return Int64(raw.rounded())
    }

    /// A 64-bit hash of bytes (FNV-1a followed by a SplitMix64 finaliser for avalanche).
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Self.mix(hash)
    }

    /// A 64-bit hash of an integer.
    public static func hash(_ value: Int64) -> UInt64 {
        Self.mix(UInt64(bitPattern: value) &+ 0x9E37_79B9_7F4A_7C15)
    }

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    var bytes: [UInt8] { [UInt8(self.precision)] + self.registers }

    init(bytes: [UInt8]) throws {
        guard let first = bytes.first, Self.precisionRange.contains(Int(first)), bytes.count == 1 + (1 << Int(first)) else {
            throw DeserializationError("not a HyperLogLog sketch")
        }
        self.precision = Int(first)
        self.registers = Array(bytes.dropFirst())
    }
}

import Foundation

extension Aggregator where Accumulator == HyperLogLog, Result == Int64 {
    /// The approximate number of distinct values of a field (HyperLogLog; `hash` picks the field's
    /// hash, e.g. `{ HyperLogLog.hash($0.bidder) }`).
    public static func distinctCount(precision: Int = 12, hash: @escaping (Value) -> UInt64) -> Aggregator {
        Aggregator(
            initial: { HyperLogLog(precision: precision) },
            add: { sketch, value in sketch.add(hash: hash(value)) },
            merge: { $0.merge($1) },
            result: { $0.estimate },
            accumulatorSerde: Serde(serialize: { $0.bytes }, deserialize: { buffer in
                guard let buffer else { throw DeserializationError("a null HyperLogLog sketch") }
                return try HyperLogLog(bytes: Array(buffer.readableBytesView))
            })
        )
    }
}
