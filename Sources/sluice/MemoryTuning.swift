import CSluiceMalloc

/// Process-wide allocator settings for long-running data paths (`sluice serve`).
///
/// A broker lives on buffers of up to a megabyte: socket reads and produce requests gathered across
/// reads, each released once its append is done. glibc serves allocations above its mmap threshold
/// (128 KiB at first) with fresh mappings and trims freed memory at the top of a heap back to the
/// kernel, so every such buffer costs page faults and zeroed pages again: about 6% of the broker's
/// CPU under a produce load of 1 MiB requests, measured with `perf record`. Raising both thresholds
/// keeps those buffers in the heap, reused from one request to the next.
enum MemoryTuning {
    /// Allocations up to this many bytes come from the heap, not from their own mapping
    /// (glibc caps the value at 32 MiB on 64-bit systems).
    static let mmapThresholdBytes: Int32 = 16 * 1024 * 1024
    /// Free bytes at the top of a heap kept for reuse before any are given back to the kernel.
    static let trimThresholdBytes: Int32 = 256 * 1024 * 1024

    /// Whether the settings took (false off glibc).
    @discardableResult
    static func applyForServer() -> Bool {
        csluice_set_malloc_thresholds(Self.mmapThresholdBytes, Self.trimThresholdBytes) != 0
    }
}
