/// Kafka's default partitioner hash: murmur2 of the key bytes with Kafka's seed, made positive.
/// Matching it means records keyed in Sluice land in the partitions a Kafka producer would choose.
public enum Murmur2 {
    public static func hash(_ bytes: some Collection<UInt8>) -> Int32 {
        let data = Array(bytes)
        let length = data.count
        let seed: UInt32 = 0x9747_B28C
        let m: UInt32 = 0x5BD1_E995
        let r: UInt32 = 24
        var h = seed ^ UInt32(truncatingIfNeeded: length)
        let wordCount = length / 4
        for index in 0..<wordCount {
            let base = index * 4
            var k = UInt32(data[base]) | UInt32(data[base + 1]) << 8 | UInt32(data[base + 2]) << 16 | UInt32(data[base + 3]) << 24
            k = k &* m
            k ^= k >> r
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = wordCount * 4
        switch length % 4 {
        case 3:
            h ^= UInt32(data[tail + 2]) << 16
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 2:
            h ^= UInt32(data[tail + 1]) << 8
            h ^= UInt32(data[tail])
            h = h &* m
        case 1:
            h ^= UInt32(data[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition Kafka's default partitioner picks for a key.
    public static func partition(forKey key: some Collection<UInt8>, partitionCount: Int32) -> Int32 {
        (hash(key) & 0x7FFF_FFFF) % partitionCount
    }
}
