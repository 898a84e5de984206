/// Reads the fields a pipeline asks for from JSON documents in one pass over their UTF-8 bytes, without building
/// a tree and without allocating per document.
///
/// ```swift
/// let scanner = JSONScanner(JSONFieldSet([["event_type"], ["bid", "price"]]))
/// var fields = scanner.makeFields()          // once; reused for every record
/// try record.withUnsafeBytes { document in
///     try scanner.scan(document, into: &fields)
///     let price = try fields.value(1, in: document).int64()
/// }
/// ```
///
/// Every document is validated whole, skipped parts included (see `JSONError` for what is refused and where
/// errors point). When a key appears more than once in an object, the last one wins, as in most parsers: its
/// value, and what the paths below it find, replace the earlier ones.
public struct JSONScanner: Sendable {
    public let fieldSet: JSONFieldSet

    public init(_ fieldSet: JSONFieldSet) {
        self.fieldSet = fieldSet
    }

    /// A scanner for `paths` (see `JSONFieldSet`).
    public init(paths: [[String]]) {
        self.init(JSONFieldSet(paths))
    }

    /// Empty result slots for this scanner's paths; make them once and reuse them.
    public func makeFields() -> JSONFields {
        JSONFields(for: self.fieldSet)
    }

    /// Scans `document`, filling `fields` with what each path holds (`.absent` where it holds nothing).
    /// On an error every slot is left absent.
    public func scan(_ document: UnsafeRawBufferPointer, into fields: inout JSONFields) throws(JSONError) {
        precondition(fields.slotCount == self.fieldSet.pathCount, "fields made for another JSONFieldSet")
        do throws(JSONError) {
            guard let start = document.baseAddress, document.count > 0 else {
                throw JSONError(.truncated, at: 0, "the document is empty")
            }
            // Plain pointers, taken here so that the closure below captures no reference (which it would retain
            // and release per document); `self.fieldSet` keeps the tables alive meanwhile.
            let tables = self.fieldSet.tables
            let (nodes, edges) = (tables.nodes, tables.edges)
            let (keyWords, subtreeSlots) = (tables.keyWords, tables.subtreeSlots)
            let pathFrameCount = self.fieldSet.keyCountMax + 1
            fields.keyCache.prepare(for: tables)
            try fields.withUnsafeMutableBuffers { (slots, keyCache) throws(JSONError) in
                let scan = { (scratch: UnsafeMutableRawBufferPointer) throws(JSONError) in
                    let cursor = JSONScanCursor(
                        start: start, end: start + document.count, nodes: nodes, edges: edges,
                        keyWords: keyWords, subtreeSlots: subtreeSlots, slots: slots, keyCache: keyCache,
                        scratch: scratch.baseAddress!, pathFrameCount: pathFrameCount
                    )
                    try cursor.scanDocument()
                }
                // The open containers' bits and the path frames, on the stack: a size known when compiling
                // keeps the allocation free; only a field set with paths deeper than that pays for one.
                if pathFrameCount <= JSONScanCursor.stackPathFrameCount {
                    try withUnsafeTemporaryAllocation(
                        byteCount: JSONScanCursor.scratchByteCount(pathFrameCount: JSONScanCursor.stackPathFrameCount),
                        alignment: MemoryLayout<JSONScanCursor.PathFrame>.alignment, scan
                    )
                } else {
                    try withUnsafeTemporaryAllocation(
                        byteCount: JSONScanCursor.scratchByteCount(pathFrameCount: pathFrameCount),
                        alignment: MemoryLayout<JSONScanCursor.PathFrame>.alignment, scan
                    )
                }
            }
        } catch {
            fields.clear()
            throw error
        }
    }

    /// Scans `document` (see `scan(_:into:)`); read values afterwards with `document.withUnsafeBytes`.
    public func scan(_ document: [UInt8], into fields: inout JSONFields) throws(JSONError) {
        try document.withUnsafeBufferPointer { (bytes) throws(JSONError) in
            try self.scan(UnsafeRawBufferPointer(bytes), into: &fields)
        }
    }

    /// Checks that `document` is one valid JSON value, reading nothing from it.
    public static func validate(_ document: UnsafeRawBufferPointer) throws(JSONError) {
        var fields = JSONFields(for: Self.validator.fieldSet)
        try Self.validator.scan(document, into: &fields)
    }

    private static let validator = JSONScanner(paths: [])
}
