/// A seeded generator (SplitMix64) so that random tests can print their seed and be replayed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public let seed: UInt64
    private var state: UInt64

    /// Seeds from `SLUICE_TEST_SEED` when set, otherwise from the system generator.
    public init(seed: UInt64? = nil) {
        let chosen = seed ?? environmentSeed() ?? UInt64.random(in: 0...UInt64.max)
        self.seed = chosen
        self.state = chosen
    }

    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) }
    }
}

private func environmentSeed() -> UInt64? {
    guard let text = getenv("SLUICE_TEST_SEED") else { return nil }
    return UInt64(String(cString: text))
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
