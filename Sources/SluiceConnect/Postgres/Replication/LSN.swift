/// A WAL position (log sequence number), written by PostgreSQL as two hex halves `16/B374D848`.
public struct LSN: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public init(_ value: UInt64) { self.rawValue = value }

    public static let zero = LSN(0)

    /// Parses `X/Y`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16),
              high <= UInt64(UInt32.max), low <= UInt64(UInt32.max) else { return nil }
        self.rawValue = high << 32 | low
    }

    public var description: String {
        String(self.rawValue >> 32, radix: 16, uppercase: true) + "/" + String(self.rawValue & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (lhs: LSN, rhs: LSN) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
let postgresEpochOffsetMicros: Int64 = 946_684_800_000_000
