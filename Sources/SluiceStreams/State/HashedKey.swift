/// A key with its hash computed once: a record of a hopping window updates its key in several windows, each
/// window a dictionary of its own, and hashing the key (SipHash) once per window cost more than the lookups.
///
/// The dictionaries ask for `_rawHashValue(seed:)`, the standard library's entry point for a hash that is
/// already computed; this one mixes the stored hash with the dictionary's seed (a multiply and a shift, as
/// splitmix64 finishes), which keeps the seed's protection against keys chosen to collide.
@usableFromInline
struct HashedKey<Key: Hashable>: Hashable {
    @usableFromInline let key: Key
    @usableFromInline let hash: Int

    @inlinable
    init(_ key: Key) {
        self.key = key
        self.hash = key.hashValue
    }

    @inlinable
    static func == (left: HashedKey, right: HashedKey) -> Bool {
        left.hash == right.hash && left.key == right.key
    }

    @inlinable
    func hash(into hasher: inout Hasher) {
        hasher.combine(self.hash)
    }

    @inlinable
    func _rawHashValue(seed: Int) -> Int {
        var mixed = UInt64(bitPattern: Int64(self.hash ^ seed)) &* 0xBF58_476D_1CE4_E5B9
        mixed ^= mixed >> 31
        mixed = mixed &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: mixed ^ (mixed >> 29))
    }
}
