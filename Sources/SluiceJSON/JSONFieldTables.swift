/// A compiled field set's tables at stable addresses, so that a scan reads them through pointers it takes
/// once, without a closure per table per document.
///
/// Written once in `init`, read-only afterwards, freed with the last `JSONFieldSet` that holds it.
final class JSONFieldTables: @unchecked Sendable {
    // @unchecked: the memory is only written in init, before the instance is shared.
    let nodes: UnsafeBufferPointer<JSONFieldSet.Node>
    let edges: UnsafeBufferPointer<JSONFieldSet.Edge>
    let keyWords: UnsafeBufferPointer<UInt64>
    let subtreeSlots: UnsafeBufferPointer<Int32>

    init(nodes: [JSONFieldSet.Node], edges: [JSONFieldSet.Edge], keyWords: [UInt64], subtreeSlots: [Int32]) {
        self.nodes = Self.copy(nodes)
        self.edges = Self.copy(edges)
        self.keyWords = Self.copy(keyWords)
        self.subtreeSlots = Self.copy(subtreeSlots)
    }

    deinit {
        self.nodes.deallocate()
        self.edges.deallocate()
        self.keyWords.deallocate()
        self.subtreeSlots.deallocate()
    }

    private static func copy<Element>(_ elements: [Element]) -> UnsafeBufferPointer<Element> {
        let buffer = UnsafeMutableBufferPointer<Element>.allocate(capacity: elements.count)
        _ = buffer.initialize(from: elements)
        return UnsafeBufferPointer(buffer)
    }
}
