/// One value of a scanned document: its kind and its bytes, with readers that convert it on demand.
///
/// A view, not a copy: `bytes` points into the document, so a value is valid only while the document's memory
/// is (use it inside the `withUnsafeBytes` or `withUnsafeReadableBytes` that scanned the document). Readers throw
/// `JSONError` with code `.typeMismatch` when the value is of another kind (an absent value included).
public struct JSONValue {
    public let kind: JSONKind
    /// The value's text exactly as in the document: quotes of a string, brackets of a container included.
    /// Pass it to `JSONWriter.raw(_:)` to forward a nested object unchanged.
    public let bytes: UnsafeRawBufferPointer
    /// Where the value starts in the document, in bytes; the document's length for an absent value.
    public let byteOffset: Int
    @usableFromInline let stringHasEscapes: Bool

    @usableFromInline
    init(kind: JSONKind, bytes: UnsafeRawBufferPointer, byteOffset: Int, stringHasEscapes: Bool) {
        self.kind = kind
        self.bytes = bytes
        self.byteOffset = byteOffset
        self.stringHasEscapes = stringHasEscapes
    }

    @usableFromInline
    init(absentIn document: UnsafeRawBufferPointer) {
        self.init(kind: .absent, bytes: UnsafeRawBufferPointer(start: nil, count: 0), byteOffset: document.count,
                  stringHasEscapes: false)
    }

    @inlinable
    public var isAbsent: Bool { self.kind == .absent }

    @inlinable
    public var isNull: Bool { self.kind == .null }

    /// The value of a `true` or `false`.
    @inlinable
    public func bool() throws(JSONError) -> Bool {
        guard self.kind == .bool else { throw self.mismatch(expected: .bool) }
        return self.bytes[0] == UInt8(ascii: "t")
    }

    /// The error for reading this value as `expected`; kept out of line so that readers inline small.
    @usableFromInline @inline(never)
    func mismatch(expected: JSONKind) -> JSONError {
        JSONError(.typeMismatch, at: self.byteOffset, "expected \(expected), found \(self.kind)")
    }
}
