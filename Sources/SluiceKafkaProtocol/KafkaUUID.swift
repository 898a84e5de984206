/// A Kafka `uuid` field: 16 bytes, big-endian on the wire (topic ids, directory ids, incarnation ids).
///
/// Its text form is Kafka's: the 16 bytes in URL-safe base64 without padding (22 characters), as `kafka-topics.sh`
/// prints topic ids.
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    /// The first 8 bytes, big-endian.
    public var mostSignificantBits: UInt64
    /// The last 8 bytes, big-endian.
    public var leastSignificantBits: UInt64

    public init(mostSignificantBits: UInt64, leastSignificantBits: UInt64) {
        self.mostSignificantBits = mostSignificantBits
        self.leastSignificantBits = leastSignificantBits
    }

    /// The all-zero id, which Kafka uses for "no id" (a topic id a request does not know).
    public static let zero = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 0)

    /// The id Kafka reserves for its metadata topic; never assigned to a user topic.
    public static let metadataTopicId = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 1)

    /// The id whose 16 bytes are `bytes` in order; nil unless there are exactly 16.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var most: UInt64 = 0
        var least: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 {
                most = most << 8 | UInt64(byte)
            } else {
                least = least << 8 | UInt64(byte)
            }
        }
        self.init(mostSignificantBits: most, leastSignificantBits: least)
    }

    /// The 16 bytes in wire order.
    public var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) {
            result.append(UInt8(truncatingIfNeeded: self.mostSignificantBits >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            result.append(UInt8(truncatingIfNeeded: self.leastSignificantBits >> UInt64(shift)))
        }
        return result
    }

    /// A random version 4 id usable as a topic id: like Kafka's `Uuid.randomUuid()`, it is never `zero`, never
    /// `metadataTopicId`, and its text form never starts with "-" (which command lines would take for an option).
    public static func random<Generator: RandomNumberGenerator>(using generator: inout Generator) -> KafkaUUID {
        while true {
            var most = generator.next() as UInt64
            var least = generator.next() as UInt64
            most = (most & ~0xF000) | 0x4000  // version 4
            least = (least & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000  // IETF variant
            let candidate = KafkaUUID(mostSignificantBits: most, leastSignificantBits: least)
            if candidate != .zero && candidate != .metadataTopicId && !candidate.description.hasPrefix("-") {
                return candidate
            }
        }
    }

    /// A random version 4 id from the system's generator; see `random(using:)`.
    public static func random() -> KafkaUUID {
        var generator = SystemRandomNumberGenerator()
        return Self.random(using: &generator)
    }

    private static let base64URLAlphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Kafka's text form: URL-safe base64 of the 16 bytes, without padding.
    public var description: String {
        let bytes = self.bytes
        var characters: [UInt8] = []
        characters.reserveCapacity(22)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for byte in chunk { value = value << 8 | UInt32(byte) }
            value <<= UInt32(8 * (3 - chunk.count))
            let characterCount = chunk.count + 1
            for position in 0..<characterCount {
                let sextet = Int((value >> UInt32(18 - 6 * position)) & 0x3F)
                characters.append(Self.base64URLAlphabet[sextet])
            }
            index += 3
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Parses Kafka's text form (22 characters of URL-safe base64); nil if `text` is not one.
    public init?(kafkaString text: String) {
        let characters = Array(text.utf8)
        guard characters.count == 22 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(18)
        var accumulator: UInt32 = 0
        var bitCount = 0
        for character in characters {
            guard let sextet = Self.base64URLAlphabet.firstIndex(of: character) else { return nil }
            accumulator = accumulator << 6 | UInt32(sextet)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bitCount)))
            }
        }
        // 22 characters carry 132 bits: the 4 left over must be zero for the text to be canonical.
        guard accumulator & ((1 << UInt32(bitCount)) - 1) == 0 else { return nil }
        self.init(bytes: bytes)
    }
}
