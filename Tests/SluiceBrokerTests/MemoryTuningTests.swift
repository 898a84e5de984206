import Testing
@testable import SluiceBroker

/// `sluice serve`'s allocator settings take where the allocator has them: the header's platform test
/// once ran before the header that defines `__GLIBC__`, so that the settings were never made and
/// nothing said so.
@Suite struct MemoryTuningTests {
    @Test func theAllocatorSettingsTakeOnGlibc() {
        #if os(Linux) && canImport(Glibc)
        #expect(MemoryTuning.applyForServer())
        #else
        #expect(!MemoryTuning.applyForServer())
        #endif
    }
}
