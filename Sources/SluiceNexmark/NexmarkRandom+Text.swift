#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension NexmarkRandom {
    /// The shortest random word before trimming (the reference's `MIN_STRING_LENGTH`).
    static let wordByteCountMin = 3

    /// Writes a random word of `wordByteCountMin..<lengthLimit` lowercase letters, each replaced by
    /// `special` with probability 1/13, at `destination`; returns its byte count. When `special` is a
    /// space the word is trimmed, as the reference trims its strings (so it may come out shorter, or
    /// empty). `destination` must have room for `lengthLimit - 1` bytes.
    @inline(__always)
    mutating func writeWord(lengthLimit: Int, special: UInt8, to destination: UnsafeMutablePointer<UInt8>) -> Int {
        let length = Self.wordByteCountMin + self.nextInt(below: lengthLimit - Self.wordByteCountMin)
        for index in 0..<length {
            destination[index] =
                self.nextInt(below: 13) == 0 ? special : UInt8(ascii: "a") &+ UInt8(self.nextInt(below: 26))
        }
        guard special == UInt8(ascii: " ") else { return length }
        var start = 0
        var end = length
        while start < end && destination[start] == special { start += 1 }
        while end > start && destination[end - 1] == special { end -= 1 }
        if start > 0 {
            for index in start..<end { destination[index - start] = destination[index] }
        }
        return end - start
    }

    /// A random word as `writeWord` makes it.
    mutating func word(lengthLimit: Int, special: UInt8 = UInt8(ascii: " ")) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: lengthLimit) { buffer in
            let byteCount = self.writeWord(lengthLimit: lengthLimit, special: special, to: buffer.baseAddress!)
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<byteCount]), as: UTF8.self)
        }
    }

    /// How long an `extra` must be so that fields of `currentByteCount` plus it average
    /// `averageByteCount`: uniform within 20 % either side of the gap (the reference's `nextExtra`).
    @inline(__always)
    mutating func extraByteCount(currentByteCount: Int, averageByteCount: Int) -> Int {
        guard currentByteCount <= averageByteCount else { return 0 }
        let gap = averageByteCount - currentByteCount
        let delta = Int((Double(gap) * 0.2).rounded())
        return gap - delta + (delta == 0 ? 0 : self.nextInt(below: 2 * delta))
    }

    /// A price in cents, log-uniform between $1 and $1 000 000 (the reference's `PriceGenerator`).
    /// `pow` is the platform's libm, the one input not written here: another libm may differ in the last
    /// bit, which moves a price by a cent about once in 10^8 prices.
    @inline(__always)
    mutating func price() -> Int64 {
        Int64((pow(10, self.nextUnitDouble() * 6) * 100).rounded())
    }
}
