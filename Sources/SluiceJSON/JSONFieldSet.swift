/// The paths a pipeline reads from its JSON records, compiled once into a trie that the scanner walks while it
/// reads a document, so that a key is matched by comparing its raw bytes with a few candidates and nothing else.
///
/// A path names object keys from the document's root: `["bid", "price"]` is the value of key `price` inside the
/// object under key `bid`. The empty path `[]` is the whole document. A path may be a prefix of another
/// (`["bid"]` and `["bid", "price"]`): the scanner then records the object and reads into it.
///
/// Keys are compared as UTF-8 bytes after the document's escapes are resolved (so `"pr\u0069ce"` matches
/// `price`), never by Unicode canonical equivalence: JSON keys are sequences of code points. Paths do not index
/// into arrays. A scan allocates nothing for paths of up to 31 keys (its stacks fit on the machine stack), and
/// one buffer per scan beyond.
public struct JSONFieldSet: Sendable {
    /// The paths in the order given; a path's position is the index of its slot in `JSONFields`.
    public let paths: [[String]]

    /// One object level the scanner may read into: its outgoing keys, and the slot of the value that reaches it.
    struct Node: Sendable {
        /// The index in `edges` of the first key under this node; its keys are contiguous.
        var firstEdge: Int32
        var edgeCount: Int32
        /// The slot recording this node's value, or -1 where no path ends here.
        var slot: Int32
        /// The range in `subtreeSlots` of the slots strictly below this node, cleared when the scanner meets the
        /// node's key a second time in a document, so that the last duplicate of a key wins even for the paths
        /// inside it.
        var subtreeSlotStart: Int32
        var subtreeSlotEnd: Int32
    }

    /// One key leading from a node to a child node.
    struct Edge: Sendable {
        /// What the document holds from the key's first byte on when this is its key, as a little-endian
        /// integer: the key's first 8 bytes, or all of a shorter key and its closing quote. With `probeMask` it
        /// recognises a short key in one comparison, before its end has been looked for.
        var probeWord: UInt64
        var probeMask: UInt64
        var keyByteCount: Int32
        /// The index in `keyWords` of the key's first 8 bytes.
        var firstKeyWord: Int32
        var target: Int32
        /// Whether the key has no byte that a document must escape (a quote, a backslash, a control
        /// character), so that the document can hold it as it is and raw bytes can match it.
        var isPlain: Bool

        init(key: [UInt8], firstKeyWord: Int32, target: Int32) {
            var probe = key.prefix(8) + (key.count < 8 ? [UInt8(ascii: "\"")] : [])
            self.probeMask = probe.count == 8 ? ~0 : (1 << UInt64(probe.count * 8)) - 1
            probe += repeatElement(0, count: 8 - probe.count)
            self.probeWord = probe.withUnsafeBytes { JSONWordScan.load($0.baseAddress!) }
            self.keyByteCount = Int32(key.count)
            self.firstKeyWord = firstKeyWord
            self.target = target
            self.isPlain = !key.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }
    }

    /// The nodes (node 0 is the document's root), the edges, every key's UTF-8 bytes zero-padded to whole
    /// 8-byte words read as little-endian integers (so that the scanner compares 8 key bytes at a time), and
    /// the slots below each node.
    let tables: JSONFieldTables
    /// The most keys in one path: the scanner keeps a frame for each open container on a path, so at most one
    /// more than this.
    let keyCountMax: Int

    /// Compiles `paths`. Each path may appear once (a repeated path is a programmer error and traps).
    public init(_ paths: [[String]]) {
        precondition(paths.count < Int(Int32.max), "too many JSON paths")
        self.paths = paths
        self.keyCountMax = paths.map(\.count).max() ?? 0

        final class Builder {
            var slot: Int32 = -1
            var children: [(key: [UInt8], node: Builder)] = []
        }
        let root = Builder()
        for (index, path) in paths.enumerated() {
            var node = root
            for key in path {
                let keyBytes = Array(key.utf8)
                if let child = node.children.first(where: { $0.key == keyBytes }) {
                    node = child.node
                } else {
                    let child = Builder()
                    node.children.append((keyBytes, child))
                    node = child
                }
            }
            precondition(node.slot < 0, "JSON path \(path) is listed twice")
            node.slot = Int32(index)
        }

        // Breadth first, so that each node's keys sit next to each other in `edges`.
        var order = [root]
        var nodes: [Node] = []
        var edges: [Edge] = []
        var keyWords: [UInt64] = []
        var next = 0
        while next < order.count {
            let builder = order[next]
            next += 1
            nodes.append(Node(firstEdge: Int32(edges.count), edgeCount: Int32(builder.children.count),
                              slot: builder.slot, subtreeSlotStart: 0, subtreeSlotEnd: 0))
            for (key, child) in builder.children {
                edges.append(Edge(key: key, firstKeyWord: Int32(keyWords.count), target: Int32(order.count)))
                order.append(child)
                keyWords.append(contentsOf: Self.littleEndianWords(key))
            }
        }

        // One spare word, so that the word storage is never empty, even when every key is "".
        keyWords.append(0)

        var subtreeSlots: [Int32] = []
        func collectSlots(below index: Int) {
            let node = nodes[index]
            for edge in edges[Int(node.firstEdge)..<Int(node.firstEdge + node.edgeCount)] {
                let target = Int(edge.target)
                if nodes[target].slot >= 0 { subtreeSlots.append(nodes[target].slot) }
                collectSlots(below: target)
            }
        }
        for index in nodes.indices {
            nodes[index].subtreeSlotStart = Int32(subtreeSlots.count)
            collectSlots(below: index)
            nodes[index].subtreeSlotEnd = Int32(subtreeSlots.count)
        }

        self.tables = JSONFieldTables(nodes: nodes, edges: edges, keyWords: keyWords, subtreeSlots: subtreeSlots)
    }

    /// The number of paths, and so of slots in a `JSONFields` made for this set.
    public var pathCount: Int { self.paths.count }

    /// The slot index of `path`, or nil when the set does not hold it.
    public func index(of path: [String]) -> Int? {
        self.paths.firstIndex(of: path)
    }

    private static func littleEndianWords(_ bytes: [UInt8]) -> [UInt64] {
        stride(from: 0, to: bytes.count, by: 8).map { wordStart in
            var word: UInt64 = 0
            for offset in 0..<min(8, bytes.count - wordStart) {
                word |= UInt64(bytes[wordStart + offset]) << (8 * UInt64(offset))
            }
            return word
        }
    }
}
