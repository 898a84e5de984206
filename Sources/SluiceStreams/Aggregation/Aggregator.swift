import NIOCore
/// An aggregation over the values of one key (and window): an accumulator that values are added
/// to, merged with another (session windows merge), and read as a result. The accumulator's serde
/// is what the state store writes to its changelog.
///
/// User-defined aggregates are values of this type; the built-in ones are static members
/// (`.count()`, `.sum(\.price)`, `.distinctCount(...)`, `.quantiles(...)`, `.topN(...)`).
public struct Aggregator<Value, Accumulator, Result> {
    public let initial: () -> Accumulator
    public let add: (inout Accumulator, Value) -> Void
    /// Combines two accumulators; needed by session windows. `nil` makes sessions refuse the aggregate.
    public let merge: ((inout Accumulator, Accumulator) -> Void)?
    public let result: (Accumulator) -> Result
    public let accumulatorSerde: Serde<Accumulator>

    public init(
        initial: @escaping () -> Accumulator,
        add: @escaping (inout Accumulator, Value) -> Void,
        merge: ((inout Accumulator, Accumulator) -> Void)? = nil,
        result: @escaping (Accumulator) -> Result,
        accumulatorSerde: Serde<Accumulator>
    ) {
        self.initial = initial
        self.add = add
        self.merge = merge
        self.result = result
        self.accumulatorSerde = accumulatorSerde
    }
}

extension Aggregator where Accumulator == Result {
    /// An aggregate whose accumulator is its result (`reduce`-like).
    public init(
        initial: @escaping () -> Accumulator,
        add: @escaping (inout Accumulator, Value) -> Void,
        merge: ((inout Accumulator, Accumulator) -> Void)? = nil,
        serde: Serde<Accumulator>
    ) {
        self.init(initial: initial, add: add, merge: merge, result: { $0 }, accumulatorSerde: serde)
    }
}

extension Aggregator where Accumulator == Value?, Result == Value {
    /// Combines values pairwise (`reduce`); the first value is the start.
    public static func reducing(_ combine: @escaping (Value, Value) -> Value, serde: Serde<Value>) -> Aggregator {
        Aggregator(
            initial: { nil },
            add: { state, value in state = state.map { combine($0, value) } ?? value },
            merge: { state, other in if let other { state = state.map { combine($0, other) } ?? other } },
            result: { $0! },
            accumulatorSerde: .optional(serde))
    }
}

extension Aggregator where Accumulator == Int64, Result == Int64 {
    /// How many values.
    public static func count() -> Aggregator {
        Aggregator(initial: { 0 }, add: { count, _ in count += 1 }, merge: { $0 += $1 }, serde: .int64)
    }

    /// The sum of an integer read from each value.
    public static func sum(_ field: @escaping (Value) -> Int64) -> Aggregator {
        Aggregator(initial: { 0 }, add: { sum, value in sum &+= field(value) }, merge: { $0 &+= $1 }, serde: .int64)
    }
}

extension Aggregator where Result == Int64?, Accumulator == Int64? {
    /// The least integer read from each value (nil before any value).
    public static func min(_ field: @escaping (Value) -> Int64) -> Aggregator {
        Aggregator(
            initial: { nil },
            add: { least, value in least = Swift.min(least ?? Int64.max, field(value)) },
            merge: { least, other in if let other { least = Swift.min(least ?? Int64.max, other) } },
            serde: .optional(.int64)
        )
    }

    /// The greatest integer read from each value (nil before any value).
    public static func max(_ field: @escaping (Value) -> Int64) -> Aggregator {
        Aggregator(
            initial: { nil },
            add: { greatest, value in greatest = Swift.max(greatest ?? Int64.min, field(value)) },
            merge: { greatest, other in if let other { greatest = Swift.max(greatest ?? Int64.min, other) } },
            serde: .optional(.int64)
        )
    }
}

/// The running state of `avg`: a sum and a count, so that partial averages merge exactly.
public struct AverageAccumulator: Hashable, Sendable {
    public var sum: Double
    public var count: Int64
}

extension Aggregator where Accumulator == AverageAccumulator, Result == Double {
    /// The mean of a number read from each value (NaN before any value).
    public static func average(_ field: @escaping (Value) -> Double) -> Aggregator {
        Aggregator(
            initial: { AverageAccumulator(sum: 0, count: 0) },
            add: { state, value in
                state.sum += field(value)
                state.count += 1
            },
            merge: { state, other in
                state.sum += other.sum
                state.count += other.count
            },
            result: { $0.count == 0 ? .nan : $0.sum / Double($0.count) },
            accumulatorSerde: Serde(
                serialize: { state in
                    var bytes: [UInt8] = []
                    withUnsafeBytes(of: state.sum.bitPattern.bigEndian) { bytes.append(contentsOf: $0) }
                    withUnsafeBytes(of: state.count.bigEndian) { bytes.append(contentsOf: $0) }
                    return bytes
                },
                deserialize: { buffer in
                    guard let buffer, buffer.readableBytes == 16,
                          let sum = buffer.getInteger(at: buffer.readerIndex, as: UInt64.self),
                          let count = buffer.getInteger(at: buffer.readerIndex + 8, as: Int64.self) else {
                        throw DeserializationError("an average accumulator needs 16 bytes")
                    }
                    return AverageAccumulator(sum: Double(bitPattern: sum), count: count)
                }
            )
        )
    }
}

extension Serde {
    /// A nullable value: a leading 0 byte for nil, 1 followed by the value's bytes otherwise.
    public static func optional<Wrapped>(_ wrapped: Serde<Wrapped>) -> Serde<Wrapped?> where Value == Wrapped? {
        Serde<Wrapped?>(
            serialize: { value in
                guard let value else { return [0] }
                return [1] + (wrapped.serialize(value) ?? [])
            },
            deserialize: { buffer in
                guard var buffer, let flag = buffer.readInteger(as: UInt8.self) else {
                    throw DeserializationError("an optional needs a flag byte")
                }
                return flag == 0 ? nil : try wrapped.deserialize(buffer)
            }
        )
    }
}
