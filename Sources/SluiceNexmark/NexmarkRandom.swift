/// The generator's pseudo-random numbers: SplitMix64 (Steele, Lea and Flood, 2014), written here so
/// that a seed gives the same stream on every platform and Swift version (the standard library's
/// `random(in:using:)` algorithms are not promised to stay the same).
///
/// Every event draws from its own sequence, keyed by (seed, event number, stream), as the reference
/// seeds `java.util.Random` with the event id: event n is the same whether it is generated alone, in
/// order, or by one of several threads that split the run.
struct NexmarkRandom {
    /// Independent sequences for one event number, so that turning a feature on (delays) does not
    /// change the draws of another (the event's fields).
    enum Stream: UInt64 {
        case fields = 1
        case delay = 2
        /// Per-seed tables (channel URLs, the `extra` pool); the "event number" is the table row.
        case tables = 3
    }

    private var state: UInt64

    private static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    init(seed: UInt64, eventNumber: Int64, stream: Stream) {
        let key = Self.mix(UInt64(bitPattern: eventNumber) &+ stream.rawValue &* 0xD1B5_4A32_D192_ED03)
        self.state = Self.mix(seed ^ key)
    }

    /// The SplitMix64 finalizer: a bijection that spreads every input bit over the output.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    mutating func next() -> UInt64 {
        self.state &+= Self.golden
        return Self.mix(self.state)
    }

    /// Uniform in `0..<bound`, without modulo bias (Lemire's multiply-and-reject, 2019).
    @inline(__always)
    mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "an empty range has no random element")
        var product = self.next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold { product = self.next().multipliedFullWidth(by: bound) }
        }
        return product.high
    }

    /// Uniform in `0..<bound`.
    @inline(__always)
    mutating func nextInt(below bound: Int) -> Int {
        Int(truncatingIfNeeded: self.next(below: UInt64(bound)))
    }

    /// Uniform in `0..<bound`.
    @inline(__always)
    mutating func nextInt64(below bound: Int64) -> Int64 {
        Int64(truncatingIfNeeded: self.next(below: UInt64(bound)))
    }

    /// Uniform in [0, 1) with 53 random bits, as `java.util.Random.nextDouble`.
    @inline(__always)
    mutating func nextUnitDouble() -> Double {
        Double(self.next() >> 11) * 0x1p-53
    }
}
