#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The output of a streaming decompressor whose result size is not known up front.
///
/// Grows geometrically but never past `decompressedBytesMax + 1` bytes: one byte of slack is how a
/// decompressor tells "exactly at the limit" from "past it" without asking the stream twice.
struct DecompressionBuffer: ~Copyable {
    private var storage: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Bytes written so far.
    private(set) var byteCount = 0
    let decompressedBytesMax: Int
    /// Named in errors.
    let codecName: String

    /// - Parameter expectedByteCount: a size hint (a frame header's content size), already capped by the caller
    ///   at a plausible ratio of the input; the buffer is sized to hold it plus the slack byte.
    init(expectedByteCount: Int, decompressedBytesMax: Int, codecName: String) {
        precondition(decompressedBytesMax >= 0, "decompressedBytesMax must not be negative")
        self.decompressedBytesMax = decompressedBytesMax
        self.codecName = codecName
        self.capacity = min(max(expectedByteCount, 0) + 1, Self.capacityMax(decompressedBytesMax))
        guard let storage = malloc(self.capacity) else { fatalError("out of memory allocating \(self.capacity) bytes") }
        self.storage = storage
    }

    deinit { free(self.storage) }

    /// The limit plus the slack byte (a limit of `Int.max` cannot be reached anyway).
    private static func capacityMax(_ decompressedBytesMax: Int) -> Int {
        decompressedBytesMax == .max ? .max : decompressedBytesMax + 1
    }

    /// The free space after the written bytes, growing the buffer first when it is full.
    /// Throws `.limitExceeded` when the buffer already holds more than `decompressedBytesMax` bytes.
    mutating func freeSpace() throws(SluiceError) -> UnsafeMutableRawBufferPointer {
        try self.checkLimit()
        if self.byteCount == self.capacity {
            let doubled = max(self.capacity * 2, self.capacity + 64 * 1024)
            let grown = min(Self.capacityMax(self.decompressedBytesMax), doubled)
            guard let storage = realloc(self.storage, grown) else {
                fatalError("out of memory allocating \(grown) bytes")
            }
            self.storage = storage
            self.capacity = grown
        }
        return UnsafeMutableRawBufferPointer(
            start: self.storage + self.byteCount, count: self.capacity - self.byteCount)
    }

    /// Records that `byteCount` bytes were written into the last `freeSpace()`.
    mutating func didWrite(_ byteCount: Int) throws(SluiceError) {
        precondition(byteCount >= 0 && self.byteCount + byteCount <= self.capacity, "wrote past the free space")
        self.byteCount += byteCount
        try self.checkLimit()
    }

    private func checkLimit() throws(SluiceError) {
        if self.byteCount > self.decompressedBytesMax {
            throw SluiceError.decompressedBytesMaxExceeded(codecName: self.codecName, limit: self.decompressedBytesMax)
        }
    }

    /// The bytes written, as an array (one copy).
    consuming func finish() -> [UInt8] {
        let byteCount = self.byteCount
        let storage = self.storage
        return [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initializedCount in
            if byteCount > 0 {
                buffer.baseAddress!.initialize(from: storage.assumingMemoryBound(to: UInt8.self), count: byteCount)
            }
            initializedCount = byteCount
        }
    }
}

extension SluiceError {
    static func decompressedBytesMaxExceeded(codecName: String, limit: Int) -> SluiceError {
        SluiceError(
            .limitExceeded, "\(codecName) payload decompresses to more than decompressedBytesMax (\(limit) bytes)")
    }

    static func corruptCompressedData(codecName: String, _ detail: String) -> SluiceError {
        SluiceError(.compressionFailed, "corrupt \(codecName) data: \(detail)")
    }
}
