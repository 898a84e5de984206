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
        while let element = elements.popLast() { try body(element) }
    }
}
