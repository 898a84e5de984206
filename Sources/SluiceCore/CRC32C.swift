import CSluiceCRC32C

/// CRC32C (Castagnoli), the checksum of Kafka's RecordBatch v2. Uses the CPU's CRC32 instruction
/// where there is one, a table otherwise.
public enum CRC32C {
    /// The CRC of `bytes`, continuing from `crc` (0 to start).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        sluice_crc32c_extend(crc, bytes.baseAddress, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// The table implementation, for tests that compare both paths.
    public static func portableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        sluice_crc32c_extend_portable(crc, bytes.baseAddress, bytes.count)
    }

    /// Whether the hardware instruction is in use.
    public static var isHardwareAccelerated: Bool { sluice_crc32c_hardware_available() != 0 }
}
