/// Snappy's raw block format, written in Swift (no libsnappy is needed).
///
/// A block is the varint of the uncompressed length followed by literal and copy elements. Kafka payloads wrap
/// blocks in the xerial framing (`SnappyCodec+Xerial.swift`); the raw form is also what librdkafka accepts.
/// The compressor follows the reference implementation: 64 KiB fragments, a hash table of 4-byte sequences
/// with a skip that speeds up over incompressible input, and copies of at most 64 bytes.
public enum SnappyCodec {
    static let codecName = "snappy"
    /// The reference compressor's fragment: offsets inside one stay below 65536 (2-byte copy offsets).
    static let fragmentByteCount = 1 << 16
    /// The most bytes one element can produce per input byte (a 3-byte copy of 64 bytes). A block that declares
    /// more is corrupt, so the declared length is believed for allocation only below this ratio.
    static let expansionRatioMax = 22
    /// Bytes at a fragment's end where the match finder stops, so it may load 8 bytes without bounds checks.
    private static let inputMarginBytes = 15
    static let hashTableEntryCountMax = 1 << 14

    /// The largest block `compressBlock` writes for `byteCount` input bytes.
    public static func compressedByteCountMax(_ byteCount: Int) -> Int { 32 + byteCount + byteCount / 6 }

    /// Compresses `input` into one raw snappy block.
    public static func compressBlock(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBytes { Self.compressBlock($0) }
    }

    /// Compresses `input` into one raw snappy block.
    public static func compressBlock(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        precondition(input.count <= Int(UInt32.max), "snappy blocks hold at most 4 GiB")
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: Self.hashTableEntryCountMax) { table in
            [UInt8](unsafeUninitializedCapacity: Self.compressedByteCountMax(input.count)) { output, initializedCount in
                initializedCount = Self.compressBlock(input, into: output.baseAddress!, table: table.baseAddress!)
            }
        }
    }

    /// Decompresses one raw snappy block.
    public static func decompressBlock(
        _ input: UnsafeRawBufferPointer,
        decompressedBytesMax: Int
    ) throws(SluiceError) -> [UInt8] {
        let (byteCount, headerByteCount) = try Self.declaredByteCount(input, decompressedBytesMax: decompressedBytesMax)
        return try Self.makeArray(byteCount: byteCount) { (output) throws(SluiceError) in
            try Self.decodeElements(UnsafeRawBufferPointer(rebasing: input[headerByteCount...]), into: output)
        }
    }

    public static func decompressBlock(_ input: [UInt8], decompressedBytesMax: Int) throws(SluiceError) -> [UInt8] {
        try input.withUnsafeBufferPointer { (buffer) throws(SluiceError) in
            try Self.decompressBlock(UnsafeRawBufferPointer(buffer), decompressedBytesMax: decompressedBytesMax)
        }
    }

    // MARK: Decoding

    /// The uncompressed length a block declares and the byte count of that varint, checked against the limit
    /// and against what the rest of the block could possibly produce.
    static func declaredByteCount(
        _ block: UnsafeRawBufferPointer,
        decompressedBytesMax: Int
    ) throws(SluiceError) -> (byteCount: Int, headerByteCount: Int) {
        var value: UInt64 = 0
        var index = 0
        while true {
            guard index < block.count else {
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, "block length truncated")
            }
            guard index < 5 else {
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, "block length varint too long")
            }
            let byte = block[index]
            value |= UInt64(byte & 0x7F) << (7 * UInt64(index))
            index += 1
            if byte & 0x80 == 0 { break }
        }
        guard value <= UInt64(UInt32.max) else {
            throw SluiceError.corruptCompressedData(codecName: Self.codecName, "block length \(value) exceeds 32 bits")
        }
        let byteCount = Int(value)
        if byteCount > decompressedBytesMax {
            throw SluiceError.decompressedBytesMaxExceeded(codecName: Self.codecName, limit: decompressedBytesMax)
        }
        let bodyByteCount = block.count - index
        guard byteCount <= bodyByteCount * Self.expansionRatioMax else {
            throw SluiceError.corruptCompressedData(
                codecName: Self.codecName,
                "block declares \(byteCount) bytes, more than \(bodyByteCount) compressed bytes can hold"
            )
        }
        return (byteCount, index)
    }

    /// An array of exactly `byteCount` bytes that `fill` initialises completely.
    static func makeArray(
        byteCount: Int,
        _ fill: (UnsafeMutableRawBufferPointer) throws(SluiceError) -> Void
    ) throws(SluiceError) -> [UInt8] {
        var failure: SluiceError?
        let output = [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initializedCount in
            do throws(SluiceError) {
                try fill(UnsafeMutableRawBufferPointer(buffer))
                initializedCount = byteCount
            } catch {
                failure = error
                initializedCount = 0
            }
        }
        if let failure { throw failure }
        return output
    }

    /// Decodes the elements of a block (after its length varint) into `output`, which must be exactly the
    /// declared size: every element is bounds-checked against both buffers, and the elements must fill it.
    static func decodeElements(
        _ input: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawBufferPointer
    ) throws(SluiceError) {
        let outputByteCount = output.count
        let inputByteCount = input.count
        guard outputByteCount > 0 else {
            guard inputByteCount == 0 else {
                throw SluiceError.corruptCompressedData(codecName: Self.codecName, "data after an empty block")
            }
            return
        }
        guard let source = input.baseAddress, let destination = output.baseAddress else {
            throw SluiceError.corruptCompressedData(
                codecName: Self.codecName,
                "block declares \(outputByteCount) bytes but holds no elements"
            )
        }
        var ip = 0
        var op = 0
        while ip < inputByteCount {
            let tag = source.load(fromByteOffset: ip, as: UInt8.self)
            ip += 1
            let length: Int
            let offset: Int
            switch tag & 0x03 {
            case 0:
                var literalLength = Int(tag >> 2) + 1
                if literalLength > 60 {
                    let extraByteCount = literalLength - 60
                    guard extraByteCount <= inputByteCount - ip else { throw Self.truncated() }
                    var value = 0
                    for index in 0..<extraByteCount {
                        value |= Int(source.load(fromByteOffset: ip + index, as: UInt8.self)) << (8 * index)
                    }
                    literalLength = value + 1
                    ip += extraByteCount
                }
                if literalLength <= 16 && inputByteCount - ip >= 16 && outputByteCount - op >= 16 {
                    // Short literal with room on both sides: two fixed 8-byte moves instead of a memcpy call.
                    let low = source.loadUnaligned(fromByteOffset: ip, as: UInt64.self)
                    let high = source.loadUnaligned(fromByteOffset: ip + 8, as: UInt64.self)
                    destination.storeBytes(of: low, toByteOffset: op, as: UInt64.self)
                    destination.storeBytes(of: high, toByteOffset: op + 8, as: UInt64.self)
                } else {
                    guard literalLength <= inputByteCount - ip else { throw Self.truncated() }
                    guard literalLength <= outputByteCount - op else { throw Self.overrun(outputByteCount) }
                    (destination + op).copyMemory(from: source + ip, byteCount: literalLength)
                }
                ip += literalLength
                op += literalLength
                continue
            case 1:
                guard ip < inputByteCount else { throw Self.truncated() }
                length = 4 + Int((tag >> 2) & 0x07)
                offset = Int(tag >> 5) << 8 | Int(source.load(fromByteOffset: ip, as: UInt8.self))
                ip += 1
            case 2:
                guard inputByteCount - ip >= 2 else { throw Self.truncated() }
                length = 1 + Int(tag >> 2)
                offset = Int(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: ip, as: UInt16.self)))
                ip += 2
            default:
                guard inputByteCount - ip >= 4 else { throw Self.truncated() }
                length = 1 + Int(tag >> 2)
                offset = Int(UInt32(littleEndian: source.loadUnaligned(fromByteOffset: ip, as: UInt32.self)))
                ip += 4
            }
            guard offset > 0 && offset <= op else {
                throw SluiceError.corruptCompressedData(
                    codecName: Self.codecName,
                    "copy offset \(offset) at output byte \(op) points outside the output"
                )
            }
            guard length <= outputByteCount - op else { throw Self.overrun(outputByteCount) }
            if offset >= 8 && length <= 16 && outputByteCount - op >= 16 {
                // Each 8-byte load reads only bytes already written (offset >= 8), so overlap is harmless; the
                // bytes written past `length` are overwritten by the following elements.
                let low = destination.loadUnaligned(fromByteOffset: op - offset, as: UInt64.self)
                destination.storeBytes(of: low, toByteOffset: op, as: UInt64.self)
                let high = destination.loadUnaligned(fromByteOffset: op - offset + 8, as: UInt64.self)
                destination.storeBytes(of: high, toByteOffset: op + 8, as: UInt64.self)
            } else if offset >= length {
                (destination + op).copyMemory(from: destination + op - offset, byteCount: length)
            } else {
                // An overlapping copy repeats the last `offset` bytes. Copying from the pattern's start while the
                // bytes written stay a multiple of `offset` keeps every memcpy's ranges apart and doubles the
                // chunk each time.
                var written = 0
                while written < length {
                    let chunk = min(written + offset, length - written)
                    (destination + op + written).copyMemory(from: destination + op - offset, byteCount: chunk)
                    written += chunk
                }
            }
            op += length
        }
        guard op == outputByteCount else {
            throw SluiceError.corruptCompressedData(
                codecName: Self.codecName,
                "block declares \(outputByteCount) bytes but its elements produce \(op)"
            )
        }
    }

    private static func truncated() -> SluiceError {
        SluiceError.corruptCompressedData(codecName: Self.codecName, "element truncated")
    }

    private static func overrun(_ declared: Int) -> SluiceError {
        SluiceError.corruptCompressedData(
            codecName: Self.codecName, "elements produce more than the declared \(declared) bytes")
    }

    // MARK: Encoding

    /// Writes the block for `input` at `output` (room for `compressedByteCountMax(input.count)` bytes) and returns
    /// its byte count. `table` has room for `hashTableEntryCountMax` entries and is cleared per fragment.
    static func compressBlock(
        _ input: UnsafeRawBufferPointer,
        into output: UnsafeMutablePointer<UInt8>,
        table: UnsafeMutablePointer<UInt16>
    ) -> Int {
        var op = output
        var length = UInt32(input.count)
        while length >= 0x80 {
            op.pointee = UInt8(truncatingIfNeeded: length) | 0x80
            op += 1
            length >>= 7
        }
        op.pointee = UInt8(length)
        op += 1
        guard let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return op - output }
        var fragmentStart = 0
        while fragmentStart < input.count {
            let fragmentLength = min(Self.fragmentByteCount, input.count - fragmentStart)
            var tableEntryCount = 256
            while tableEntryCount < Self.hashTableEntryCountMax && tableEntryCount < fragmentLength {
                tableEntryCount <<= 1
            }
            table.update(repeating: 0, count: tableEntryCount)
            op = Self.compressFragment(
                base + fragmentStart,
                length: fragmentLength,
                output: op,
                table: table,
                hashShift: UInt32(32 - tableEntryCount.trailingZeroBitCount)
            )
            fragmentStart += fragmentLength
        }
        return op - output
    }

    @inline(__always)
    private static func load32(_ base: UnsafePointer<UInt8>, _ index: Int) -> UInt32 {
        UInt32(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt32.self))
    }

    @inline(__always)
    private static func load64(_ base: UnsafePointer<UInt8>, _ index: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
    }

    @inline(__always)
    private static func hash(_ bytes: UInt32, _ shift: UInt32) -> Int {
        Int(truncatingIfNeeded: (bytes &* 0x1E35_A7BD) >> shift)
    }

    private static func compressFragment(
        _ base: UnsafePointer<UInt8>,
        length: Int,
        output: UnsafeMutablePointer<UInt8>,
        table: UnsafeMutablePointer<UInt16>,
        hashShift shift: UInt32
    ) -> UnsafeMutablePointer<UInt8> {
        var op = output
        var nextEmit = 0
        if length >= Self.inputMarginBytes {
            let ipLimit = length - Self.inputMarginBytes
            var ip = 1
            var nextHash = Self.hash(Self.load32(base, ip), shift)
            search: while true {
                // Look for a 4-byte match; after 32 misses start skipping ahead, one byte more every 32 misses,
                // so incompressible data is passed over quickly.
                var skip = 32
                var nextIp = ip
                var candidate = 0
                repeat {
                    ip = nextIp
                    let currentHash = nextHash
                    nextIp = ip + (skip >> 5)
                    skip += 1
                    if nextIp > ipLimit { break search }
                    nextHash = Self.hash(Self.load32(base, nextIp), shift)
                    candidate = Int(table[currentHash])
                    table[currentHash] = UInt16(truncatingIfNeeded: ip)
                } while Self.load32(base, ip) != Self.load32(base, candidate)

                op = Self.emitLiteral(op, base + nextEmit, length: ip - nextEmit)
                var inputBytes: UInt64
                var candidateBytes: UInt32
                repeat {
                    let matchStart = ip
                    let matched = 4 + Self.matchLength(base, candidate + 4, ip + 4, limit: length)
                    ip += matched
                    op = Self.emitCopy(op, offset: matchStart - candidate, length: matched)
                    nextEmit = ip
                    if ip >= ipLimit { break search }
                    // Hash the positions just before and at the new ip: the first to find later matches, the
                    // second to try an immediate next match without going back to the skipping search.
                    inputBytes = Self.load64(base, ip - 1)
                    table[Self.hash(UInt32(truncatingIfNeeded: inputBytes), shift)] = UInt16(truncatingIfNeeded: ip - 1)
                    let currentHash = Self.hash(UInt32(truncatingIfNeeded: inputBytes >> 8), shift)
                    candidate = Int(table[currentHash])
                    candidateBytes = Self.load32(base, candidate)
                    table[currentHash] = UInt16(truncatingIfNeeded: ip)
                } while UInt32(truncatingIfNeeded: inputBytes >> 8) == candidateBytes
                nextHash = Self.hash(UInt32(truncatingIfNeeded: inputBytes >> 16), shift)
                ip += 1
            }
        }
        if nextEmit < length {
            op = Self.emitLiteral(op, base + nextEmit, length: length - nextEmit)
        }
        return op
    }

    /// How many bytes from `second` on equal those from `first` on (`first` < `second`), up to `limit`.
    @inline(__always)
    private static func matchLength(_ base: UnsafePointer<UInt8>, _ first: Int, _ second: Int, limit: Int) -> Int {
        var matched = 0
        while second + matched + 8 <= limit {
            let difference = Self.load64(base, first + matched) ^ Self.load64(base, second + matched)
            if difference != 0 { return matched + difference.trailingZeroBitCount >> 3 }
            matched += 8
        }
        while second + matched < limit && base[first + matched] == base[second + matched] {
            matched += 1
        }
        return matched
    }

    @inline(__always)
    private static func emitLiteral(
        _ output: UnsafeMutablePointer<UInt8>,
        _ literal: UnsafePointer<UInt8>,
        length: Int
    ) -> UnsafeMutablePointer<UInt8> {
        var op = output
        let lengthMinusOne = length - 1
        if lengthMinusOne < 60 {
            op.pointee = UInt8(truncatingIfNeeded: lengthMinusOne << 2)
            op += 1
        } else {
            var extraByteCount = 0
            var value = lengthMinusOne
            while value > 0 {
                op[1 + extraByteCount] = UInt8(truncatingIfNeeded: value)
                value >>= 8
                extraByteCount += 1
            }
            op.pointee = UInt8(truncatingIfNeeded: (59 + extraByteCount) << 2)
            op += 1 + extraByteCount
        }
        op.update(from: literal, count: length)
        return op + length
    }

    /// Copies longer than 64 bytes are split; the last piece keeps at least 4 bytes so it fits the 1-byte-offset
    /// form when the offset allows.
    @inline(__always)
    private static func emitCopy(
        _ output: UnsafeMutablePointer<UInt8>,
        offset: Int,
        length: Int
    ) -> UnsafeMutablePointer<UInt8> {
        var op = output
        var remaining = length
        while remaining >= 68 {
            op = Self.emitCopyAtMost64(op, offset: offset, length: 64)
            remaining -= 64
        }
        if remaining > 64 {
            op = Self.emitCopyAtMost64(op, offset: offset, length: 60)
            remaining -= 60
        }
        return Self.emitCopyAtMost64(op, offset: offset, length: remaining)
    }

    @inline(__always)
    private static func emitCopyAtMost64(
        _ op: UnsafeMutablePointer<UInt8>,
        offset: Int,
        length: Int
    ) -> UnsafeMutablePointer<UInt8> {
        if length < 12 && offset < 2048 {
            op[0] = UInt8(truncatingIfNeeded: 0x01 | ((length - 4) << 2) | ((offset >> 8) << 5))
            op[1] = UInt8(truncatingIfNeeded: offset)
            return op + 2
        }
        op[0] = UInt8(truncatingIfNeeded: 0x02 | ((length - 1) << 2))
        op[1] = UInt8(truncatingIfNeeded: offset)
        op[2] = UInt8(truncatingIfNeeded: offset >> 8)
        return op + 3
    }
}
