import CSluiceMalloc

/// Process-wide allocator settings for long-running data paths (`sluice serve`).
///
/// A broker lives on buffers of up to a megabyte: socket reads and produce requests gathered across
/// reads, each read on an event loop and let go on an append lane once appended. glibc serves
/// allocations above its mmap threshold (128 KiB at first) with fresh mappings, and gives back what
/// is free at the top of a heap: past the trim threshold for the main heap, past the top pad (128
/// KiB at first) for the heaps of the other threads' arenas (glibc 2.36). Either way the next
/// buffer costs page faults and zeroed pages again. Measured with `perf record` on the event loop
/// under `scripts/bench-broker`'s produce load: a fifth of its CPU in page faults, and
/// `strace -e madvise` counted 40 to 106 gave-backs of 3 to 6 MiB in 2 s; none with these settings.
public enum MemoryTuning {
    /// Allocations up to this many bytes come from the heap, not from their own mapping
    /// (glibc caps the value at 32 MiB on 64-bit systems).
    static let mmapThresholdBytes: Int32 = 16 * 1024 * 1024
    /// Free bytes at the top of a heap kept for reuse before any are given back to the kernel.
    static let trimThresholdBytes: Int32 = 256 * 1024 * 1024
    /// Free bytes kept at the top of every heap, the arenas' heaps too: room for the requests in
    /// flight. It bounds what an idle broker holds for nothing, per arena (glibc makes at most
    /// eight per core).
    static let topPadBytes: Int32 = 16 * 1024 * 1024

    /// Whether the settings took (false off glibc).
    @discardableResult
    public static func applyForServer() -> Bool {
        csluice_set_malloc_thresholds(Self.mmapThresholdBytes, Self.trimThresholdBytes, Self.topPadBytes) != 0
    }
}
