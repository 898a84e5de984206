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
        for edgeIndex in Int(fieldNode.firstEdge)..<Int(fieldNode.firstEdge + fieldNode.edgeCount) {
            let edge = self.edges[edgeIndex]
            if Int(edge.keyByteCount) == keyByteCount
                && self.keyBytes(keyStart, byteCount: keyByteCount, equalWordsFrom: Int(edge.firstKeyWord)) {
                return edge.target
            }
        }
        return Self.noNode
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

    /// Whether the document's `byteCount` bytes at `key` are the key stored from word `firstWord` on.
    @inline(__always)
    func keyBytes(_ key: UnsafeRawPointer, byteCount: Int, equalWordsFrom firstWord: Int) -> Bool {
        var offset = 0
        var wordIndex = firstWord
        while byteCount - offset >= 8 {
            if JSONWordScan.load(key + offset) != self.keyWords[wordIndex] { return false }
            offset += 8
            wordIndex += 1
        }
        let remaining = byteCount - offset
        guard remaining > 0 else { return true }
        let stored = self.keyWords[wordIndex]
        if self.end - (key + offset) >= 8 {
            // The closing quote and what follows it pad the load; the mask drops them.
            let mask: UInt64 = (1 << UInt64(remaining &* 8)) &- 1
            return JSONWordScan.load(key + offset) & mask == stored
        }
        for index in 0..<remaining {
            let byte = (key + offset).load(fromByteOffset: index, as: UInt8.self)
            if byte != UInt8(truncatingIfNeeded: stored >> UInt64(index &* 8)) { return false }
        }
        return true
    }
}
