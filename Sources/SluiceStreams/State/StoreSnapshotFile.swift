import NIOCore
import SluiceCore
import SluiceLog

/// A store's local snapshot: every entry as of a changelog offset, so that a restart loads it and
/// replays only the changelog after that offset.
///
/// Layout: magic "SLSS", version (1 byte), changelog offset (8), entry count (8), then per entry a
/// key length (4), key, value length (4), value; a CRC32C (4) of everything before it. A snapshot
/// that fails any check is ignored and the changelog is replayed whole: a snapshot is only a cache.
struct StoreSnapshotFile {
    let path: String
    let directory: String

    static let magic: [UInt8] = Array("SLSS".utf8)
    static let version: UInt8 = 1

    init(directory: String, task: TaskId, store: String) {
        self.directory = "\(directory)/\(task)"
        self.path = "\(self.directory)/\(store).snapshot"
    }

    func write(changelogOffset: Int64, entries: some Sequence<([UInt8], [UInt8])>) throws {
        var buffer = ByteBufferAllocator().buffer(capacity: 4096)
        buffer.writeBytes(Self.magic)
        buffer.writeInteger(Self.version)
        buffer.writeInteger(changelogOffset)
        let countIndex = buffer.writerIndex
        buffer.writeInteger(Int64(0))
        var count: Int64 = 0
        for (key, value) in entries {
            buffer.writeInteger(UInt32(key.count))
            buffer.writeBytes(key)
            buffer.writeInteger(UInt32(value.count))
            buffer.writeBytes(value)
            count += 1
        }
        buffer.setInteger(count, at: countIndex)
        let crc = buffer.withUnsafeReadableBytes { CRC32C.checksum($0) }
        buffer.writeInteger(crc)
        try FileSystem.makeDirectory(self.directory)
        try FileSystem.writeAtomically(Array(buffer.readableBytesView), to: self.path)
    }

    /// The snapshot, or nil when there is none or it does not check out.
    func load() -> (changelogOffset: Int64, entries: [(ByteBuffer, ByteBuffer)])? {
        guard FileSystem.exists(self.path), let bytes = try? FileSystem.readAll(self.path), bytes.count >= 25 else { return nil }
        var buffer = ByteBuffer(bytes: bytes)
        let body = bytes.count - 4
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<body])) }
        guard buffer.getInteger(at: body, as: UInt32.self) == crc,
              buffer.readBytes(length: 4) == Self.magic, buffer.readInteger(as: UInt8.self) == Self.version,
              let offset = buffer.readInteger(as: Int64.self), let count = buffer.readInteger(as: Int64.self), count >= 0 else {
            return nil
        }
        var entries: [(ByteBuffer, ByteBuffer)] = []
        entries.reserveCapacity(Int(min(count, 1 << 20)))
        for _ in 0..<count {
            guard let keyLength = buffer.readInteger(as: UInt32.self), let key = buffer.readSlice(length: Int(keyLength)),
                  let valueLength = buffer.readInteger(as: UInt32.self), let value = buffer.readSlice(length: Int(valueLength)),
                  buffer.readerIndex <= body else {
                return nil
            }
            entries.append((key, value))
        }
        return (offset, entries)
    }

    func remove() {
        try? FileSystem.remove(self.path)
    }
}
