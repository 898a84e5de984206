/// The result of scanning one document: one slot per path of a `JSONFieldSet`, saying what the path holds and
/// where its value's bytes are.
///
/// Make one per pipeline stage and hand it to every scan: a scan overwrites the slots in place, so reusing it
/// allocates nothing. Slots hold byte offsets, not pointers; read a value with `value(_:in:)` while the same
/// document is at hand.
public struct JSONFields: Sendable {
    /// What one path held in the last document scanned.
    public struct Slot: Sendable, Hashable {
        public var kind: JSONKind
        /// Whether the string (kind `.string`) has backslash escapes: without them its bytes are its text.
        @usableFromInline var stringHasEscapes: Bool
        /// The value's bytes in the document, quotes and brackets included; empty when absent.
        public var byteRange: Range<Int>

        /// The slot of a path not found.
        public static let absent = Slot(kind: .absent, stringHasEscapes: false, byteRange: 0..<0)

        @usableFromInline
        init(kind: JSONKind, stringHasEscapes: Bool, byteRange: Range<Int>) {
            self.kind = kind
            self.stringHasEscapes = stringHasEscapes
            self.byteRange = byteRange
        }
    }

    @usableFromInline var slots: [Slot]
    /// The keys of the documents scanned before, which make the next document of the same shape faster to scan.
    var keyCache = JSONKeyCache()

    /// Empty slots for the paths of `fieldSet`, all absent until a scan fills them.
    public init(for fieldSet: JSONFieldSet) {
        self.slots = Array(repeating: .absent, count: fieldSet.pathCount)
    }

    /// The number of slots: the field set's path count.
    @inlinable
    public var slotCount: Int { self.slots.count }

    /// What path `index` (its position in the field set) held in the last document scanned.
    @inlinable
    public subscript(index: Int) -> Slot { self.slots[index] }

    /// The kind of path `index`'s value.
    @inlinable
    public func kind(_ index: Int) -> JSONKind { self.slots[index].kind }

    /// Path `index`'s value in `document`, which must be the document last scanned into these fields: the value
    /// points into it, so it is valid only while `document`'s memory is.
    @inlinable @inline(__always)
    public func value(_ index: Int, in document: UnsafeRawBufferPointer) -> JSONValue {
        let slot = self.slots[index]
        guard slot.kind != .absent, let base = document.baseAddress else {
            return JSONValue(absentIn: document)
        }
        // A different, shorter document would let the value read out of bounds.
        precondition(slot.byteRange.upperBound <= document.count, "the document is not the one scanned")
        return JSONValue(
            kind: slot.kind,
            bytes: UnsafeRawBufferPointer(start: base + slot.byteRange.lowerBound, count: slot.byteRange.count),
            byteOffset: slot.byteRange.lowerBound,
            stringHasEscapes: slot.stringHasEscapes
        )
    }

    /// The slots and the key cache's entries, for one scan.
    mutating func withUnsafeMutableBuffers(
        _ body: (UnsafeMutableBufferPointer<Slot>, UnsafeMutableBufferPointer<JSONKeyCache.Entry>) throws(JSONError) -> Void
    ) throws(JSONError) {
        try self.slots.withUnsafeMutableBufferPointer { (slots) throws(JSONError) in
            try self.keyCache.entries.withUnsafeMutableBufferPointer { (entries) throws(JSONError) in
                try body(slots, entries)
            }
        }
    }

    /// Marks every slot absent: what a failed scan leaves.
    mutating func clear() {
        for index in self.slots.indices { self.slots[index] = .absent }
    }
}
