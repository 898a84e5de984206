/// The scanner's view of one document: its bounds, the compiled paths it looks for and the slots it fills.
/// `JSONScanner` makes one on the stack per document; nothing here allocates.
///
/// It validates the whole document against JSON's grammar (RFC 8259) and, along the paths of the field set,
/// records where values are. Skipped values are validated exactly as the requested ones; only key matching and
/// slot writes are extra along the paths.
///
/// One loop with explicit stacks rather than recursive descent: the position, the depth and the current node
/// stay in registers, and a value costs no call, where a recursive scanner pays a call, its register saves and
/// its return for every value. Two stacks: one bit per open container (object or array), and a frame for each
/// open container on a requested path, which is as deep as the longest path and no deeper.
struct JSONScanCursor {
    let start: UnsafeRawPointer
    let end: UnsafeRawPointer
    let nodes: UnsafeBufferPointer<JSONFieldSet.Node>
    let edges: UnsafeBufferPointer<JSONFieldSet.Edge>
    let keyWords: UnsafeBufferPointer<UInt64>
    let subtreeSlots: UnsafeBufferPointer<Int32>
    let slots: UnsafeMutableBufferPointer<JSONFields.Slot>
    /// The keys of earlier documents (`JSONKeyCache`), read and written by this scan.
    let keyCache: UnsafeMutableBufferPointer<JSONKeyCache.Entry>
    /// Room for one more frame than the field set's longest path has keys.
    let pathFrames: UnsafeMutableBufferPointer<PathFrame>
    /// Bit d-1 set when the container open at depth d is an object: `JSONLimits.nestingDepthMax` bits.
    let objectBits: UnsafeMutablePointer<UInt64>

    /// The words of `objectBits`.
    static let objectBitWordCount = (JSONLimits.nestingDepthMax + 63) / 64

    /// The path frames scratch memory on the stack holds: 32 frames and the object bits fit the 1 KiB the
    /// standard library allocates on the stack, for paths of up to 31 keys.
    static let stackPathFrameCount = 32

    /// The scratch memory a scan needs for `pathFrameCount` path frames and the object bits.
    static func scratchByteCount(pathFrameCount: Int) -> Int {
        pathFrameCount * MemoryLayout<PathFrame>.stride + Self.objectBitWordCount * MemoryLayout<UInt64>.stride
    }

    /// A cursor over `start..<end`, with its stacks in `scratch` (`scratchByteCount(pathFrameCount:)` bytes,
    /// aligned for `PathFrame`).
    init(start: UnsafeRawPointer, end: UnsafeRawPointer, nodes: UnsafeBufferPointer<JSONFieldSet.Node>,
         edges: UnsafeBufferPointer<JSONFieldSet.Edge>, keyWords: UnsafeBufferPointer<UInt64>,
         subtreeSlots: UnsafeBufferPointer<Int32>, slots: UnsafeMutableBufferPointer<JSONFields.Slot>,
         keyCache: UnsafeMutableBufferPointer<JSONKeyCache.Entry>, scratch: UnsafeMutableRawPointer, pathFrameCount: Int) {
        self.start = start
        self.end = end
        self.nodes = nodes
        self.edges = edges
        self.keyWords = keyWords
        self.subtreeSlots = subtreeSlots
        self.slots = slots
        self.keyCache = keyCache
        self.pathFrames = UnsafeMutableBufferPointer(
            start: scratch.bindMemory(to: PathFrame.self, capacity: pathFrameCount), count: pathFrameCount
        )
        self.objectBits = (scratch + pathFrameCount * MemoryLayout<PathFrame>.stride)
            .bindMemory(to: UInt64.self, capacity: Self.objectBitWordCount)
    }

    /// No node: the value is on no requested path and is only validated.
    static let noNode: Int32 = -1

    /// An open container on a requested path.
    struct PathFrame: Sendable {
        /// The container's node, whose slot (if any) records it when it closes.
        var valueNode: Int32
        /// The node whose keys are looked for inside the container: `valueNode` for an object with paths below
        /// it, else `noNode`.
        var objectNode: Int32
        /// How many containers are open, this one included.
        var depth: Int
        /// Where the container opens, in bytes from the document's start.
        var startOffset: Int
    }

    /// Scans the document: one value, whitespace around it, nothing else.
    func scanDocument() throws(JSONError) {
        for index in self.slots.indices { self.slots[index] = .absent }
        // Bit n set once node n's key has been met (nodes 64 and up are not tracked): meeting it again is a
        // duplicate key, whose value must replace everything the first one set below it.
        var visitedNodes: UInt64 = 0
        var position = self.skipWhitespace(from: self.start)
        var depth = 0
        var pathFrameCount = 0
        // The node of the value at `position`, or `noNode`: the root's is node 0.
        var valueNode: Int32 = 0
        // The node whose keys the innermost open object is matched against (or `noNode`), whether the innermost
        // container is an object, and whether a key comes next.
        var objectNode = Self.noNode
        var isObject = false
        var keyIsNext = false
        // How many keys came before in the document: the key's place in the key cache.
        var keyPlace = 0

        value: while true {
            if keyIsNext {
                keyIsNext = false
                let valueStart: UnsafeRawPointer
                if let cached = self.cachedKey(at: position, place: keyPlace, objectNode: objectNode) {
                    (valueStart, valueNode) = cached
                } else {
                    (valueStart, valueNode) = try self.scanKey(at: position, place: keyPlace, objectNode: objectNode)
                }
                keyPlace &+= 1
                if valueNode != Self.noNode {
                    let visitedBit: UInt64 = valueNode < 64 ? 1 << UInt64(valueNode) : 0
                    if visitedNodes & visitedBit != 0 || visitedBit == 0 { self.clearSlots(below: valueNode) }
                    visitedNodes |= visitedBit
                }
                position = self.skipWhitespace(from: valueStart)
            }

            guard position < self.end else { throw self.truncated(at: position, expecting: "a value") }
            let opening = position.load(as: UInt8.self)
            if opening == UInt8(ascii: "{") || opening == UInt8(ascii: "[") {
                guard depth < JSONLimits.nestingDepthMax else { throw self.tooDeep(at: position) }
                isObject = opening == UInt8(ascii: "{")
                let bit: UInt64 = 1 << UInt64(depth & 63)
                if isObject {
                    self.objectBits[depth >> 6] |= bit
                } else {
                    self.objectBits[depth >> 6] &= ~bit
                }
                depth += 1
                objectNode = Self.noNode
                if valueNode >= 0 {
                    if isObject && self.nodes[Int(valueNode)].edgeCount > 0 { objectNode = valueNode }
                    self.pathFrames[pathFrameCount] = PathFrame(valueNode: valueNode, objectNode: objectNode,
                                                                depth: depth, startOffset: position - self.start)
                    pathFrameCount += 1
                }
                position = self.skipWhitespace(from: position + 1)
                guard position < self.end else {
                    throw self.truncated(at: position, expecting: isObject ? "a key or '}'" : "a value or ']'")
                }
                // An empty container is closed below, like any finished value.
                if position.load(as: UInt8.self) != (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    keyIsNext = isObject
                    valueNode = Self.noNode
                    continue value
                }
            } else {
                // A string, number or literal, here rather than in a function of its own: the compiler kept that
                // one out of line, and the call with its register saves cost as much as a short value's scan.
                let valueStart = position
                let kind: JSONKind
                var stringHasEscapes = false
                switch opening {
                case UInt8(ascii: "\""):
                    (position, stringHasEscapes) = try self.skipString(openingAt: position)
                    kind = .string
                case UInt8(ascii: "1")...UInt8(ascii: "9"):
                    position = try self.skipUnsignedInteger(at: position)
                    kind = .number
                case UInt8(ascii: "-"), UInt8(ascii: "0"):
                    position = try self.skipNumber(at: position)
                    kind = .number
                case UInt8(ascii: "t"):
                    position = try self.skipLiteral(.trueLiteral, at: position)
                    kind = .bool
                case UInt8(ascii: "f"):
                    position = try self.skipLiteral(.falseLiteral, at: position)
                    kind = .bool
                case UInt8(ascii: "n"):
                    position = try self.skipLiteral(.nullLiteral, at: position)
                    kind = .null
                default:
                    throw self.unexpected(at: position, expecting: "a value")
                }
                if valueNode >= 0 {
                    self.record(valueNode, kind: kind, from: valueStart, to: position, stringHasEscapes: stringHasEscapes)
                }
            }

            // After a value: the next element of the innermost container, or its end (and maybe more ends).
            while depth > 0 {
                position = self.skipWhitespace(from: position)
                guard position < self.end else {
                    throw self.truncated(at: position, expecting: isObject ? "',' or '}'" : "',' or ']'")
                }
                let separator = position.load(as: UInt8.self)
                if separator == UInt8(ascii: ",") {
                    position = self.skipWhitespace(from: position + 1)
                    keyIsNext = isObject
                    valueNode = Self.noNode
                    continue value
                }
                guard separator == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                    throw self.unexpected(at: position, expecting: isObject ? "',' or '}'" : "',' or ']'")
                }
                position += 1
                if pathFrameCount > 0 && self.pathFrames[pathFrameCount - 1].depth == depth {
                    pathFrameCount -= 1
                    let frame = self.pathFrames[pathFrameCount]
                    self.record(frame.valueNode, kind: isObject ? .object : .array,
                                from: self.start + frame.startOffset, to: position, stringHasEscapes: false)
                }
                depth -= 1
                if depth > 0 {
                    isObject = self.objectBits[(depth - 1) >> 6] & (1 << UInt64((depth - 1) & 63)) != 0
                }
                objectNode = pathFrameCount > 0 && self.pathFrames[pathFrameCount - 1].depth == depth
                    ? self.pathFrames[pathFrameCount - 1].objectNode : Self.noNode
            }
            break
        }

        position = self.skipWhitespace(from: position)
        guard position == self.end else {
            throw self.error(.trailingData, at: position, "unexpected bytes after the document's value")
        }
    }

    /// Marks absent every slot below `node`: a repeated key's value replaces what the earlier one set there (the
    /// last duplicate wins), and a value that is not an object leaves the paths through it absent.
    func clearSlots(below node: Int32) {
        let fieldNode = self.nodes[Int(node)]
        for index in Int(fieldNode.subtreeSlotStart)..<Int(fieldNode.subtreeSlotEnd) {
            self.slots[Int(self.subtreeSlots[index])] = .absent
        }
    }

    /// Records the value `start..<end` in `node`'s slot, if the node has one.
    @inline(__always)
    func record(_ node: Int32, kind: JSONKind, from start: UnsafeRawPointer, to end: UnsafeRawPointer,
                stringHasEscapes: Bool) {
        let slot = self.nodes[Int(node)].slot
        guard slot >= 0 else { return }
        self.slots[Int(slot)] = JSONFields.Slot(
            kind: kind, stringHasEscapes: stringHasEscapes,
            byteRange: Range(uncheckedBounds: (start - self.start, end - self.start))
        )
    }

    /// Skips whitespace and then `expected`, or throws naming `what` was expected.
    @inline(__always)
    func skip(_ expected: UInt8, at position: UnsafeRawPointer, expecting what: StaticString) throws(JSONError)
        -> UnsafeRawPointer
    {
        // Compact documents have the byte right there.
        if position < self.end && position.load(as: UInt8.self) == expected { return position + 1 }
        let position = self.skipWhitespace(from: position)
        guard position < self.end else { throw self.truncated(at: position, expecting: "\(what)") }
        guard position.load(as: UInt8.self) == expected else {
            throw self.unexpected(at: position, expecting: "\(what)")
        }
        return position + 1
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
