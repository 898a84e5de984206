/// The keys met in the documents scanned before, remembered by their place in the document, so that the next
/// document of the same shape has each key recognised by one comparison of 16 bytes: records of one stream
/// mostly hold the same keys in the same order.
///
/// An entry holds a key's exact bytes from its opening quote to the `:` right after its closing quote (a
/// compact `"price":`), the object node it was met under and the node it led to. Bytes equal to an entry's are
/// the same key, already validated (only keys without escapes, whose bytes are their text, are remembered), so
/// a hit changes nothing in what a scan checks or finds; a miss takes the ordinary path and remembers the key.
///
/// Two entries per place (the k-th key of a document), the one hit last first, so that a stream mixing two
/// shapes (Nexmark's bids and the odd person or auction) keeps both.
struct JSONKeyCache: Sendable {
    /// One remembered key.
    struct Entry: Sendable {
        /// The key's bytes from its opening quote to its colon, as two little-endian words, zero past the key.
        var words: (UInt64, UInt64)
        /// Which bytes of the two words are the key's.
        var masks: (UInt64, UInt64)
        /// The bytes from the opening quote to the colon, both included.
        var byteCount: Int32
        /// The object node the key was met under (`JSONScanCursor.noNode` for an object off every path);
        /// `emptyObjectNode` for an entry that holds no key.
        var objectNode: Int32
        /// The node the key leads to under `objectNode`.
        var child: Int32

        static let empty = Entry(words: (0, 0), masks: (0, 0), byteCount: 0, objectNode: Self.emptyObjectNode, child: 0)
        /// No object node has this number: an empty entry matches nothing.
        static let emptyObjectNode = Int32.min
    }

    /// The places remembered: keys past the first 32 of a document always take the ordinary path.
    static let keyPlaceCountMax = 32
    /// Entries per place.
    static let waysPerPlace = 2
    /// The most bytes of a remembered key, quotes and colon included: two words.
    static let keyByteCountMax = 16

    var entries: [Entry]
    /// The tables whose nodes the entries name: a cache met with another field set starts empty.
    private var tables: JSONFieldTables?

    init() {
        self.entries = Array(repeating: .empty, count: Self.keyPlaceCountMax * Self.waysPerPlace)
    }

    /// Empties the cache when it was filled under another field set's tables.
    mutating func prepare(for tables: JSONFieldTables) {
        guard self.tables !== tables else { return }
        self.tables = tables
        for index in self.entries.indices { self.entries[index] = .empty }
    }
}

extension JSONScanCursor {
    /// The key opening at `quote` if it is a remembered one, k-th of its document (`place`), under `objectNode`:
    /// where its value starts (after the colon) and the node it leads to. Nil when nothing remembered matches.
    @inline(__always)
    func cachedKey(at quote: UnsafeRawPointer, place: Int, objectNode: Int32) -> (end: UnsafeRawPointer, child: Int32)? {
        guard place < JSONKeyCache.keyPlaceCountMax && self.end - quote >= JSONKeyCache.keyByteCountMax else { return nil }
        let first = JSONWordScan.load(quote)
        let second = JSONWordScan.load(quote + 8)
        let ways = self.keyCache.baseAddress! + place &* JSONKeyCache.waysPerPlace
        var way = 0
        while way < JSONKeyCache.waysPerPlace {
            // Fields read in place: copying the whole entry first made the compiler spill it to the stack.
            let entry = ways + way
            if entry.pointee.objectNode == objectNode && first & entry.pointee.masks.0 == entry.pointee.words.0
                && second & entry.pointee.masks.1 == entry.pointee.words.1 {
                let found = (quote + Int(entry.pointee.byteCount), entry.pointee.child)
                // The way hit last stays first.
                if way > 0 { swap(&ways[0], &ways[way]) }
                return found
            }
            way += 1
        }
        return nil
    }

    /// Remembers the key `quote..<end` (end after its closing quote), k-th of its document, when it can be:
    /// no escapes, a colon right after it, at most `keyByteCountMax` bytes with the colon. It replaces the
    /// entry of its place hit least recently.
    func rememberKey(at quote: UnsafeRawPointer, end keyEnd: UnsafeRawPointer, hasEscapes: Bool, place: Int,
                     objectNode: Int32, child: Int32) {
        let byteCount = keyEnd + 1 - quote
        guard place < JSONKeyCache.keyPlaceCountMax && !hasEscapes && byteCount <= JSONKeyCache.keyByteCountMax
            && self.end - quote >= JSONKeyCache.keyByteCountMax && keyEnd.load(as: UInt8.self) == UInt8(ascii: ":")
        else { return }
        func mask(_ wordIndex: Int) -> UInt64 {
            let bytes = min(max(byteCount - wordIndex * 8, 0), 8)
            return bytes == 8 ? ~0 : (1 << UInt64(bytes * 8)) - 1
        }
        let masks = (mask(0), mask(1))
        let ways = self.keyCache.baseAddress! + place * JSONKeyCache.waysPerPlace
        for way in stride(from: JSONKeyCache.waysPerPlace - 1, to: 0, by: -1) { ways[way] = ways[way - 1] }
        ways[0] = JSONKeyCache.Entry(
            words: (JSONWordScan.load(quote) & masks.0, JSONWordScan.load(quote + 8) & masks.1), masks: masks,
            byteCount: Int32(byteCount), objectNode: objectNode, child: child
        )
    }
}
