extension JSONScanCursor {
    /// The child of `node` under the key whose content (between the quotes) is `keyStart..<keyEnd`, or `noNode`.
    @inline(__always)
    func child(of node: Int32, keyStart: UnsafeRawPointer, keyEnd: UnsafeRawPointer, keyHasEscapes: Bool) -> Int32 {
        let fieldNode = self.nodes[Int(node)]
        let keyByteCount = keyEnd - keyStart
        if keyHasEscapes {
            return self.child(of: fieldNode, escapedKey: UnsafeRawBufferPointer(start: keyStart, count: keyByteCount))
        }
        // Most keys of a record are on no path; their length alone usually says so.
        guard fieldNode.keyByteCountMask & JSONFieldSet.Node.keyByteCountBit(keyByteCount) != 0 else {
            return Self.noNode
        }
        let firstWord = self.firstWord(ofKeyAt: keyStart, byteCount: keyByteCount)
        for edgeIndex in Int(fieldNode.firstEdge)..<Int(fieldNode.firstEdge + fieldNode.edgeCount) {
            let edge = self.edges[edgeIndex]
            if Int(edge.keyByteCount) == keyByteCount && edge.firstWord == firstWord
                && (keyByteCount <= 8 || self.keyBytes(keyStart, byteCount: keyByteCount, equalWordsFrom: edge)) {
                return edge.target
            }
        }
        return Self.noNode
    }

    /// The first (up to) 8 bytes of the key at `key` as a little-endian integer, zero-padded like
    /// `JSONFieldSet.Edge.firstWord`.
    @inline(__always)
    func firstWord(ofKeyAt key: UnsafeRawPointer, byteCount: Int) -> UInt64 {
        if byteCount >= 8 { return JSONWordScan.load(key) }
        if self.end - key >= 8 {
            // The closing quote and what follows it pad the load; the mask drops them.
            return JSONWordScan.load(key) & ((1 << UInt64(byteCount &* 8)) &- 1)
        }
        var word: UInt64 = 0
        for index in 0..<byteCount {
            word |= UInt64(key.load(fromByteOffset: index, as: UInt8.self)) << UInt64(index &* 8)
        }
        return word
    }

    /// Whether the bytes after the first 8 of the key at `key` are those of `edge`'s key (of the same length).
    func keyBytes(_ key: UnsafeRawPointer, byteCount: Int, equalWordsFrom edge: JSONFieldSet.Edge) -> Bool {
        var offset = 8
        var wordIndex = Int(edge.firstKeyWord) + 1
        while byteCount - offset >= 8 {
            if JSONWordScan.load(key + offset) != self.keyWords[wordIndex] { return false }
            offset += 8
            wordIndex += 1
        }
        let remaining = byteCount - offset
        guard remaining > 0 else { return true }
        return self.firstWord(ofKeyAt: key + offset, byteCount: remaining) == self.keyWords[wordIndex]
    }

    /// The slow path for keys with escapes: each candidate is compared with the key's escapes resolved.
    @inline(never)
    func child(of fieldNode: JSONFieldSet.Node, escapedKey: UnsafeRawBufferPointer) -> Int32 {
        let keyWordBytes = UnsafeRawPointer(self.keyWords.baseAddress!)
        for edgeIndex in Int(fieldNode.firstEdge)..<Int(fieldNode.firstEdge + fieldNode.edgeCount) {
            let edge = self.edges[edgeIndex]
            let wanted = UnsafeRawBufferPointer(start: keyWordBytes + Int(edge.firstKeyWord) * 8,
                                                count: Int(edge.keyByteCount))
            if JSONStringDecoder.decoded(escapedKey, equals: wanted) { return edge.target }
        }
        return Self.noNode
    }
}
