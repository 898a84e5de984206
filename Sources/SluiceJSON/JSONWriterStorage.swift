/// The bytes of a `JSONWriter`: one allocation at a stable address, so that the writer stores through a
/// pointer without the per-call work of `Array.append` or of `withUnsafeMutableBufferPointer` closures.
///
/// A class only to give the allocation a lifetime; `JSONWriter` copies it before writing when it is shared
/// (copy on write), so the writer keeps value semantics.
final class JSONWriterStorage: @unchecked Sendable {
    // @unchecked: the bytes are only written through a writer that holds the only reference (checked before
    // every write), so no two threads ever touch the same storage mutably.
    private(set) var bytes: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        self.bytes = .allocate(capacity: self.capacity)
        // Initialised once, so that the writer may read whole words past what it wrote.
        self.bytes.initialize(repeating: 0, count: self.capacity)
    }

    deinit {
        self.bytes.deallocate()
    }

    /// A copy of the first `byteCount` bytes, with the same capacity.
    func copy(byteCount: Int) -> JSONWriterStorage {
        let copy = JSONWriterStorage(capacity: self.capacity)
        copy.bytes.update(from: self.bytes, count: byteCount)
        return copy
    }

    /// Makes room for at least `capacity` bytes, keeping the first `byteCount`; at least doubles, so that
    /// growth is amortised.
    func grow(toHold capacity: Int, keeping byteCount: Int) {
        let newCapacity = max(capacity, 2 * self.capacity)
        let newBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBytes.initialize(repeating: 0, count: newCapacity)
        newBytes.update(from: self.bytes, count: byteCount)
        self.bytes.deallocate()
        self.bytes = newBytes
        self.capacity = newCapacity
    }
}
