extension JSONScanCursor {
    /// Scans the key at `position`, the document's key number `place`, and the `:` after it (the ordinary path,
    /// when the key cache has no match); returns where the `:` ends and the child the key leads to. Out of line:
    /// in a stream of documents of one shape it runs for the first few only.
    @inline(never)
    func scanKey(at position: UnsafeRawPointer, place: Int, objectNode: Int32) throws(JSONError)
        -> (end: UnsafeRawPointer, child: Int32)
    {
        guard position < self.end else { throw self.truncated(at: position, expecting: "a key") }
        guard position.load(as: UInt8.self) == UInt8(ascii: "\"") else {
            throw self.unexpected(at: position, expecting: "a key (a string)")
        }
        let (keyEnd, child, hasEscapes) = try self.scanKey(openingAt: position, objectNode: objectNode)
        let end = try self.skip(UInt8(ascii: ":"), at: keyEnd, expecting: "':' after a key")
        self.rememberKey(at: position, end: keyEnd, hasEscapes: hasEscapes, place: place, objectNode: objectNode,
                         child: child)
        return (end, child)
    }

    /// Scans the key whose opening quote is at `quote`, in an object whose keys are looked for under
    /// `objectNode` (or `noNode`); returns where the key ends (after its closing quote) and the child it leads to.
    ///
    /// A key on a path is recognised from the bytes after its opening quote, compared with each candidate
    /// (`JSONFieldSet.Edge.probeWord`), before its end is looked for: the end is then known from the candidate,
    /// so the next load does not wait for the search, and a short key costs one load and a comparison per
    /// candidate. A key that matches no candidate is skipped as any string, and, if it has escapes, compared
    /// again with them resolved.
    @inline(__always)
    func scanKey(openingAt quote: UnsafeRawPointer, objectNode: Int32) throws(JSONError)
        -> (end: UnsafeRawPointer, child: Int32, hasEscapes: Bool)
    {
        let keyStart = quote + 1
        let isNearEnd = self.end - keyStart < 8
        if objectNode != Self.noNode && !isNearEnd {
            let fieldNode = self.nodes[Int(objectNode)]
            let word = JSONWordScan.load(keyStart)
            for edgeIndex in Int(fieldNode.firstEdge)..<Int(fieldNode.firstEdge + fieldNode.edgeCount) {
                let edge = self.edges[edgeIndex]
                guard word & edge.probeMask == edge.probeWord && edge.isPlain else { continue }
                let keyByteCount = Int(edge.keyByteCount)
                if keyByteCount < 8 { return (keyStart + keyByteCount + 1, edge.target, false) }
                if self.longKey(at: keyStart, matches: edge) { return (keyStart + keyByteCount + 1, edge.target, false) }
            }
        }
        let (end, hasEscapes) = try self.skipString(openingAt: quote)
        // Compared again only where the probes could not decide: escapes, or too few bytes left to load a word.
        guard objectNode != Self.noNode && (hasEscapes || isNearEnd) else { return (end, Self.noNode, hasEscapes) }
        let child = self.child(of: self.nodes[Int(objectNode)],
                               key: UnsafeRawBufferPointer(start: keyStart, count: end - 1 - keyStart),
                               hasEscapes: hasEscapes)
        return (end, child, hasEscapes)
    }

    /// Whether the document holds, at `key`, the rest of `edge`'s key of 8 bytes or more (its first 8 already
    /// match) and then the closing quote.
    func longKey(at key: UnsafeRawPointer, matches edge: JSONFieldSet.Edge) -> Bool {
        let keyByteCount = Int(edge.keyByteCount)
        guard self.end - key > keyByteCount,
              (key + keyByteCount).load(as: UInt8.self) == UInt8(ascii: "\"") else { return false }
        var offset = 8
        var wordIndex = Int(edge.firstKeyWord) + 1
        while keyByteCount - offset >= 8 {
            if JSONWordScan.load(key + offset) != self.keyWords[wordIndex] { return false }
            offset += 8
            wordIndex += 1
        }
        let remaining = keyByteCount - offset
        guard remaining > 0 else { return true }
        // The last 8 bytes of the key, shifted so that its last `remaining` ones are low, as stored.
        let tail = JSONWordScan.load(key + keyByteCount - 8) >> UInt64((8 - remaining) * 8)
        return tail == self.keyWords[wordIndex]
    }

    /// The slow path: each candidate compared with the key's content (between its quotes), escapes resolved.
    @inline(never)
    func child(of fieldNode: JSONFieldSet.Node, key: UnsafeRawBufferPointer, hasEscapes: Bool) -> Int32 {
        let keyWordBytes = UnsafeRawPointer(self.keyWords.baseAddress!)
        for edgeIndex in Int(fieldNode.firstEdge)..<Int(fieldNode.firstEdge + fieldNode.edgeCount) {
            let edge = self.edges[edgeIndex]
            let wanted = UnsafeRawBufferPointer(start: keyWordBytes + Int(edge.firstKeyWord) * 8,
                                                count: Int(edge.keyByteCount))
            let isMatch = hasEscapes
                ? JSONStringDecoder.decoded(key, equals: wanted)
                : key.count == wanted.count && key.elementsEqual(wanted)
            if isMatch { return edge.target }
        }
        return Self.noNode
    }
}
