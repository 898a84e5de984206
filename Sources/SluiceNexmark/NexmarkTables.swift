/// Text the generator picks from rather than builds per event, derived from the seed once: the
/// channels and their URLs (as the Flink port caches them), the full names, and a pool of random
/// letters that `extra` fields are cut from (as the Flink port does, so that padding costs one copy).
/// Immutable; copies share the arrays.
struct NexmarkTables: Sendable {
    /// Channels other than the hot ones, `channel-0` up to this (the Flink port's `CHANNELS_NUMBER`).
    static let channelCount = 10_000
    /// Bytes of random letters that `extra` is cut from; larger than any `extra` can be.
    static let extraPoolByteCount = 256 * 1024

    let channelNames: [String]
    let channelURLs: [String]
    let hotChannelURLs: [String]
    /// "First Last" for every pair, first-name-major.
    let fullNames: [String]
    let extraPool: [UInt8]

    init(seed: UInt64) {
        precondition(
            Self.extraPoolByteCount > 2 * NexmarkConfig.averageByteCountMax,
            "the extra pool must hold the longest extra")
        var random = NexmarkRandom(seed: seed, eventNumber: 0, stream: .tables)
        self.hotChannelURLs = NexmarkVocabulary.hotChannels.map { _ in Self.baseURL(&random) }
        var names: [String] = []
        var urls: [String] = []
        names.reserveCapacity(Self.channelCount)
        urls.reserveCapacity(Self.channelCount)
        for channel in 0..<Self.channelCount {
            names.append("channel-\(channel)")
            var url = Self.baseURL(&random)
            // Nine in ten channel URLs carry the channel's id: bit-reversed, as the Flink port writes it.
            if random.nextInt(below: 10) > 0 {
                url += "&channel_id=\(UInt32(channel).bitSwapped.magnitudeAsInt32)"
            }
            urls.append(url)
        }
        self.channelNames = names
        self.channelURLs = urls
        self.fullNames = NexmarkVocabulary.firstNames.flatMap { first in
            NexmarkVocabulary.lastNames.map { "\(first) \($0)" }
        }
        var pool = [UInt8](repeating: 0, count: Self.extraPoolByteCount)
        var poolRandom = NexmarkRandom(seed: seed, eventNumber: 1, stream: .tables)
        for index in pool.indices { pool[index] = UInt8(ascii: "a") &+ UInt8(poolRandom.nextInt(below: 26)) }
        self.extraPool = pool
    }

    /// `https://www.nexmark.com/w/w/w/item.htm?query=1` with three random words of letters and '_'.
    private static func baseURL(_ random: inout NexmarkRandom) -> String {
        var url = NexmarkVocabulary.urlPrefix
        for _ in 0..<3 {
            url += random.word(lengthLimit: 5, special: UInt8(ascii: "_"))
            url += "/"
        }
        return url + NexmarkVocabulary.urlSuffix
    }
}

extension UInt32 {
    /// The bits in reverse order (Java's `Integer.reverse`).
    fileprivate var bitSwapped: UInt32 {
        var value = self
        var result: UInt32 = 0
        for _ in 0..<32 {
            result = (result << 1) | (value & 1)
            value >>= 1
        }
        return result
    }

    /// The magnitude of the value read as a signed 32-bit integer (Java's `Math.abs` of it, without its
    /// overflow at the smallest value).
    fileprivate var magnitudeAsInt32: UInt32 { Int32(bitPattern: self).magnitude }
}
