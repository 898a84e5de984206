extension Array {
    /// Hands each element to `body`, first to last, moved out of the array, which it consumes.
    ///
    /// Batches pass from operator to operator with their ownership: a step that builds the next batch from
    /// this one moves each record instead of copying it (a copy retains every string and object in it, and
    /// destroying the batch releases them all again). The storage is reversed in place (moves only), then
    /// emptied from its end. When it is shared, the first mutation copies it, as any array would.
    @inlinable
    consuming func consumeEach(_ body: (consuming Element) throws -> Void) rethrows {
        var elements = self
        elements.withUnsafeMutableBufferPointer { $0.reverse() }
        // `removeLast`, not `while let ... popLast()`: binding the optional made the compiler copy each element.
        while !elements.isEmpty { try body(elements.removeLast()) }
    }

    /// Hands the key and value of each record to `body` moved out of the batch, which it consumes, with the
    /// record's time and watermark: first to last, as `consumeEach`.
    ///
    /// Passing `record.value` of a moved record on to a `consuming` parameter still copied the value (and
    /// destroyed the record after): the compiler does not take one field out of an owned struct. So each record
    /// is moved into scratch memory and its key and value are moved out of it field by field; the fields left
    /// (time and watermark) are trivial, so the scratch memory is never deinitialized.
    @inlinable
    consuming func consumeEachRecord<Key, Value>(
        _ body: (consuming Key, consuming Value, _ timestamp: Int64, _ watermark: Int64) throws -> Void
    ) rethrows where Element == StreamRecord<Key, Value> {
        var elements = self
        elements.withUnsafeMutableBufferPointer { $0.reverse() }
        try withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { scratch in
            let record = scratch.baseAddress!
            let raw = UnsafeMutableRawPointer(record)
            let key = (raw + MemoryLayout<Element>.offset(of: \.key)!).assumingMemoryBound(to: Key.self)
            let value = (raw + MemoryLayout<Element>.offset(of: \.value)!).assumingMemoryBound(to: Value.self)
            let timestamp = (raw + MemoryLayout<Element>.offset(of: \.timestamp)!).assumingMemoryBound(to: Int64.self)
            let watermark = (raw + MemoryLayout<Element>.offset(of: \.watermark)!).assumingMemoryBound(to: Int64.self)
            while !elements.isEmpty {
                record.initialize(to: elements.removeLast())
                try body(key.move(), value.move(), timestamp.pointee, watermark.pointee)
            }
        }
    }
}
