/// Eight bytes at a time: the bit tricks (SWAR, "SIMD within a register") that let the scanner and the writer
/// pass over ordinary string bytes without a branch per byte.
///
/// Each `...Mask` function returns a word whose byte i has its high bit set when byte i of the input (in memory
/// order) is of the class asked for. The subtractions can also set bits *above* the first true match, never below
/// it, so only whether a mask is zero and where its lowest set bit is (`firstByteIndex(of:)`) mean anything.
@usableFromInline
enum JSONWordScan {
    @usableFromInline static let lowBits: UInt64 = 0x0101_0101_0101_0101
    @usableFromInline static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Eight bytes at `pointer`, first byte lowest, whatever the machine's byte order.
    @inlinable @inline(__always)
    static func load(_ pointer: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
    }

    @inlinable @inline(__always)
    static func zeroMask(_ word: UInt64) -> UInt64 {
        (word &- lowBits) & ~word & highBits
    }

    @inlinable @inline(__always)
    static func equalMask(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        zeroMask(word ^ (lowBits &* UInt64(byte)))
    }

    /// Bytes below `limit`, which must be at most 0x80.
    @inlinable @inline(__always)
    static func lessMask(_ word: UInt64, _ limit: UInt8) -> UInt64 {
        (word &- lowBits &* UInt64(limit)) & ~word & highBits
    }

    /// The bytes a JSON string cannot hold as they are: `"`, `\` and control characters.
    @inlinable @inline(__always)
    static func escapeMask(_ word: UInt64) -> UInt64 {
        equalMask(word, UInt8(ascii: "\"")) | equalMask(word, UInt8(ascii: "\\")) | lessMask(word, 0x20)
    }

    /// The bytes that are not ASCII digits. A byte below `0` borrows from the byte above it and one above `9`
    /// may carry into it, but both are flagged themselves, so the lowest flag is exact.
    @inlinable @inline(__always)
    static func nonDigitMask(_ word: UInt64) -> UInt64 {
        ((word &- lowBits &* 0x30) | (word &+ lowBits &* 0x46) | word) & highBits
    }

    /// The value of eight ASCII digits, the first one most significant: pairs, then quads, then the whole, each
    /// step one multiply that combines neighbours (the digits must have been checked).
    @inlinable @inline(__always)
    static func eightDigitsValue(_ word: UInt64) -> UInt64 {
        // Swift's >> binds tighter than &*: the parentheses matter.
        var value = ((word & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        value = ((value & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        return ((value & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
    }

    /// `word` with its last `digitCount` bytes (1 to 8, the high ones) kept and the bytes before them made `0`,
    /// which count as leading zeros in `eightDigitsValue`.
    @inlinable @inline(__always)
    static func keepingLastDigits(_ digitCount: Int, of word: UInt64) -> UInt64 {
        let kept: UInt64 = digitCount >= 8 ? ~0 : ~((1 << UInt64((8 - digitCount) * 8)) - 1)
        return (word & kept) | (lowBits &* 0x30 & ~kept)
    }

    @inlinable @inline(__always)
    static func firstByteIndex(of mask: UInt64) -> Int {
        mask.trailingZeroBitCount >> 3
    }

    /// Whether `byteCount` bytes at `left` and `right` are equal.
    @inlinable
    static func bytesEqual(_ left: UnsafeRawPointer, _ right: UnsafeRawPointer, byteCount: Int) -> Bool {
        var offset = 0
        while byteCount - offset >= 8 {
            if load(left + offset) != load(right + offset) { return false }
            offset += 8
        }
        while offset < byteCount {
            if left.load(fromByteOffset: offset, as: UInt8.self) != right.load(fromByteOffset: offset, as: UInt8.self) {
                return false
            }
            offset += 1
        }
        return true
    }
}
