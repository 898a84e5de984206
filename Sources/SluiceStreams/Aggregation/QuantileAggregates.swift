import Foundation
import Histogram
import NIOCore

/// Quantiles of a non-negative integer field, from an HdrHistogram (three significant digits):
/// the results are the values at the requested percentiles.
public struct Quantiles: Sendable, Equatable {
    /// Percentile (0...100) to value, in the order asked.
    public var values: [Double: UInt64]
    public var count: UInt64
}

extension Aggregator where Accumulator == Histogram<UInt64>, Result == Quantiles {
    /// The values at `percentiles` (e.g. `[50, 90, 99]`) of a non-negative integer read from each value.
    public static func quantiles(_ percentiles: [Double], of field: @escaping (Value) -> UInt64) -> Aggregator {
        Aggregator(
            initial: {
                var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                histogram.autoResize = true
                return histogram
            },
            add: { histogram, value in _ = histogram.record(field(value)) },
            merge: { $0.add($1) },
            result: { histogram in
                Quantiles(values: Dictionary(uniqueKeysWithValues: percentiles.map { ($0, histogram.valueAtPercentile($0)) }),
                          count: histogram.totalCount)
            },
            accumulatorSerde: .histogram
        )
    }
}

extension Serde where Value == Histogram<UInt64> {
    /// A histogram as its recorded (value, count) pairs, 16 bytes each, big-endian.
    static var histogram: Serde<Histogram<UInt64>> {
        Serde(
            serialize: { histogram in
                var bytes: [UInt8] = []
                for entry in histogram.recordedValues() {
                    withUnsafeBytes(of: entry.value.bigEndian) { bytes.append(contentsOf: $0) }
                    withUnsafeBytes(of: entry.count.bigEndian) { bytes.append(contentsOf: $0) }
                }
                return bytes
            },
            deserialize: { buffer in
                guard var buffer, buffer.readableBytes % 16 == 0 else { throw DeserializationError("a histogram needs 16 bytes per entry") }
                var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
                histogram.autoResize = true
                while let value = buffer.readInteger(as: UInt64.self), let count = buffer.readInteger(as: UInt64.self) {
                    _ = histogram.record(value, count: count)
                }
                return histogram
            }
        )
    }
}

/// The `n` greatest entries by score, ties broken by the smaller id: Nexmark's hot items and
/// similar leaderboards.
public struct TopN: Sendable, Equatable {
    public struct Entry: Sendable, Hashable {
        public var id: Int64
        public var score: Int64
    }

    public let n: Int
    /// Best first.
    public private(set) var entries: [Entry] = []

    public init(n: Int) {
        self.n = n
    }

    static func before(_ lhs: Entry, _ rhs: Entry) -> Bool {
        lhs.score != rhs.score ? lhs.score > rhs.score : lhs.id < rhs.id
    }

    /// Offers an entry; an id already present keeps its greater score.
    public mutating func offer(_ entry: Entry) {
        if let index = self.entries.firstIndex(where: { $0.id == entry.id }) {
            guard Self.before(entry, self.entries[index]) else { return }
            self.entries.remove(at: index)
        }
        let position = self.entries.firstIndex { Self.before(entry, $0) } ?? self.entries.count
        guard position < self.n else { return }
        self.entries.insert(entry, at: position)
        if self.entries.count > self.n { self.entries.removeLast() }
    }
}

extension Aggregator where Accumulator == TopN, Result == [TopN.Entry] {
    /// The `n` values with the greatest score, each identified by `id` (a value seen again with a
    /// greater score replaces itself).
    public static func topN(_ n: Int, id: @escaping (Value) -> Int64, score: @escaping (Value) -> Int64) -> Aggregator {
        Aggregator(
            initial: { TopN(n: n) },
            add: { top, value in top.offer(TopN.Entry(id: id(value), score: score(value))) },
            merge: { top, other in for entry in other.entries { top.offer(entry) } },
            result: { $0.entries },
            accumulatorSerde: Serde(
                serialize: { top in
                    var bytes: [UInt8] = []
                    withUnsafeBytes(of: Int64(top.n).bigEndian) { bytes.append(contentsOf: $0) }
                    for entry in top.entries {
                        withUnsafeBytes(of: entry.id.bigEndian) { bytes.append(contentsOf: $0) }
                        withUnsafeBytes(of: entry.score.bigEndian) { bytes.append(contentsOf: $0) }
                    }
                    return bytes
                },
                deserialize: { buffer in
                    guard var buffer, let n = buffer.readInteger(as: Int64.self), n > 0, buffer.readableBytes % 16 == 0 else {
                        throw DeserializationError("not a top-N accumulator")
                    }
                    var top = TopN(n: Int(n))
                    while let id = buffer.readInteger(as: Int64.self), let score = buffer.readInteger(as: Int64.self) {
                        top.offer(TopN.Entry(id: id, score: score))
                    }
                    return top
                }
            )
        )
    }
}
