/// The scanner's view of one document: its bounds, the compiled paths it looks for and the slots it fills.
/// `JSONScanner` makes one on the stack per document; nothing here allocates.
///
/// It is a recursive-descent validator that checks the whole document against JSON's grammar (RFC 8259) and,
/// along the paths of the field set, records where values are. Skipped values are validated exactly as the
/// requested ones; only key matching and slot writes are extra along the paths.
///
/// The position is passed in and returned rather than kept in the struct: it then stays in a register, where a
/// stored field would put a store and a reload on the critical path of every byte the scanner steps over.
struct JSONScanCursor {
    let start: UnsafeRawPointer
    let end: UnsafeRawPointer
    let nodes: UnsafeBufferPointer<JSONFieldSet.Node>
    let edges: UnsafeBufferPointer<JSONFieldSet.Edge>
    let keyWords: UnsafeBufferPointer<UInt64>
    let subtreeSlots: UnsafeBufferPointer<Int32>
    let slots: UnsafeMutableBufferPointer<JSONFields.Slot>

    /// No node: the value is on no requested path and is only validated.
    static let noNode: Int32 = -1

    /// Where a value scanned ends, its kind, and whether it was a string with escapes.
    struct ScannedValue {
        var end: UnsafeRawPointer
        var kind: JSONKind
        var stringHasEscapes = false
    }

    /// Scans the document: one value, whitespace around it, nothing else.
    func scanDocument() throws(JSONError) {
        var position = self.skipWhitespace(from: self.start)
        position = try self.scanField(node: 0, at: position, depth: 0)
        position = self.skipWhitespace(from: position)
        guard position == self.end else {
            throw self.error(.trailingData, at: position, "unexpected bytes after the document's value")
        }
    }

    /// Scans the value at `position` whose path leads to `node`, recording it in the node's slot; returns where
    /// the value ends.
    func scanField(node: Int32, at position: UnsafeRawPointer, depth: Int) throws(JSONError) -> UnsafeRawPointer {
        let fieldNode = self.nodes[Int(node)]
        // A repeated key replaces what an earlier one set below it (the last duplicate wins), and a value that is
        // not an object leaves the paths through it absent.
        for index in Int(fieldNode.subtreeSlotStart)..<Int(fieldNode.subtreeSlotEnd) {
            self.slots[Int(self.subtreeSlots[index])] = .absent
        }
        let scanned = try self.scanValue(
            objectNode: fieldNode.edgeCount > 0 ? node : Self.noNode, at: position, depth: depth
        )
        if fieldNode.slot >= 0 {
            self.slots[Int(fieldNode.slot)] = JSONFields.Slot(
                kind: scanned.kind, stringHasEscapes: scanned.stringHasEscapes,
                byteRange: Range(uncheckedBounds: (position - self.start, scanned.end - self.start))
            )
        }
        return scanned.end
    }

    /// Scans any value at `position`. `objectNode` is the node whose keys to look for if the value is an object;
    /// `depth` counts the containers around the value.
    @inline(__always)
    func scanValue(objectNode: Int32, at position: UnsafeRawPointer, depth: Int) throws(JSONError) -> ScannedValue {
        guard position < self.end else { throw self.truncated(at: position, expecting: "a value") }
        switch position.load(as: UInt8.self) {
        case UInt8(ascii: "\""):
            let (end, hasEscapes) = try self.skipString(openingAt: position)
            return ScannedValue(end: end, kind: .string, stringHasEscapes: hasEscapes)
        case UInt8(ascii: "{"):
            return ScannedValue(end: try self.scanObject(node: objectNode, at: position, depth: depth + 1),
                                kind: .object)
        case UInt8(ascii: "["):
            return ScannedValue(end: try self.scanArray(at: position, depth: depth + 1), kind: .array)
        case UInt8(ascii: "t"):
            return ScannedValue(end: try self.skipLiteral(JSONScanCursor.trueLiteral, at: position), kind: .bool)
        case UInt8(ascii: "f"):
            return ScannedValue(end: try self.skipLiteral(JSONScanCursor.falseLiteral, at: position), kind: .bool)
        case UInt8(ascii: "n"):
            return ScannedValue(end: try self.skipLiteral(JSONScanCursor.nullLiteral, at: position), kind: .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return ScannedValue(end: try self.skipNumber(at: position), kind: .number)
        default:
            throw self.unexpected(at: position, expecting: "a value")
        }
    }

    /// Scans the object opening at `position`, the `depth`th container open, reading into `node`'s keys.
    func scanObject(node: Int32, at opening: UnsafeRawPointer, depth: Int) throws(JSONError) -> UnsafeRawPointer {
        guard depth <= JSONLimits.nestingDepthMax else { throw self.tooDeep(at: opening) }
        var position = self.skipWhitespace(from: opening + 1)
        guard position < self.end else { throw self.truncated(at: position, expecting: "a key or '}'") }
        if position.load(as: UInt8.self) == UInt8(ascii: "}") { return position + 1 }
        while true {
            guard position < self.end else { throw self.truncated(at: position, expecting: "a key") }
            guard position.load(as: UInt8.self) == UInt8(ascii: "\"") else {
                throw self.unexpected(at: position, expecting: "a key (a string)")
            }
            let keyStart = position + 1
            let (keyEnd, keyHasEscapes) = try self.skipString(openingAt: position)
            position = self.skipWhitespace(from: keyEnd)
            guard position < self.end else { throw self.truncated(at: position, expecting: "':'") }
            guard position.load(as: UInt8.self) == UInt8(ascii: ":") else {
                throw self.unexpected(at: position, expecting: "':' after a key")
            }
            position = self.skipWhitespace(from: position + 1)
            let child = node == Self.noNode
                ? Self.noNode
                : self.child(of: node, keyStart: keyStart, keyEnd: keyEnd - 1, keyHasEscapes: keyHasEscapes)
            if child == Self.noNode {
                position = try self.scanValue(objectNode: Self.noNode, at: position, depth: depth).end
            } else {
                position = try self.scanField(node: child, at: position, depth: depth)
            }
            position = self.skipWhitespace(from: position)
            guard position < self.end else { throw self.truncated(at: position, expecting: "',' or '}'") }
            let separator = position.load(as: UInt8.self)
            if separator == UInt8(ascii: ",") {
                position = self.skipWhitespace(from: position + 1)
            } else if separator == UInt8(ascii: "}") {
                return position + 1
            } else {
                throw self.unexpected(at: position, expecting: "',' or '}'")
            }
        }
    }

    /// Scans the array opening at `position`, the `depth`th container open. Paths do not index arrays, so its
    /// elements are only validated.
    func scanArray(at opening: UnsafeRawPointer, depth: Int) throws(JSONError) -> UnsafeRawPointer {
        guard depth <= JSONLimits.nestingDepthMax else { throw self.tooDeep(at: opening) }
        var position = self.skipWhitespace(from: opening + 1)
        guard position < self.end else { throw self.truncated(at: position, expecting: "a value or ']'") }
        if position.load(as: UInt8.self) == UInt8(ascii: "]") { return position + 1 }
        while true {
            position = try self.scanValue(objectNode: Self.noNode, at: position, depth: depth).end
            position = self.skipWhitespace(from: position)
            guard position < self.end else { throw self.truncated(at: position, expecting: "',' or ']'") }
            let separator = position.load(as: UInt8.self)
            if separator == UInt8(ascii: ",") {
                position = self.skipWhitespace(from: position + 1)
            } else if separator == UInt8(ascii: "]") {
                return position + 1
            } else {
                throw self.unexpected(at: position, expecting: "',' or ']'")
            }
        }
    }

    @inline(__always)
    func skipWhitespace(from position: UnsafeRawPointer) -> UnsafeRawPointer {
        var position = position
        while position < self.end {
            let byte = position.load(as: UInt8.self)
            // Compact documents have no whitespace: one comparison says so.
            guard byte <= 0x20 else { return position }
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return position }
            position += 1
        }
        return position
    }
}
