import SluiceCore

extension Partition {
    /// Deletes whole segments past `retention.ms` or beyond `retention.bytes`, oldest first, never the
    /// active segment and never data above the high watermark. Returns the segments deleted.
    @discardableResult
    public func applyRetention(now: Int64 = currentTimeMillis()) throws(SluiceError) -> Int {
        // An expired active segment is rolled so that it can go too.
        try self.lock.withLock { () throws(SluiceError) in
            guard self.config.cleanupPolicy.contains(.delete), !self.isClosed, self.failure == nil,
                  self.config.retentionMs >= 0, !self.activeSegment.isEmpty,
                  now - self.activeSegment.retentionTimestamp > self.config.retentionMs,
                  self.activeSegment.nextOffset <= self.highWatermarkLocked else { return }
            try self.roll()
        }
        // Unsealed segments (this roll's or earlier ones') are sealed first, so that they may go too;
        // a seal that fails (a full disk) does not stop the deletions that free space.
        try? self.sealPendingSegments()
        let removed: [Segment] = try self.lock.withLock { () throws(SluiceError) -> [Segment] in
            guard self.config.cleanupPolicy.contains(.delete), !self.isClosed, self.failure == nil else { return [] }
            var totalBytes = self.segments.reduce(0) { $0 + $1.byteCount }
            var removed: [Segment] = []
            while self.segments.count > 1 {
                let oldest = self.segments[0]
                guard oldest.nextOffset <= self.highWatermarkLocked, !oldest.sealPending else { break }
                let expired = self.config.retentionMs >= 0 && now - oldest.retentionTimestamp > self.config.retentionMs
                let oversized = self.config.retentionBytes >= 0 && totalBytes - oldest.byteCount >= self.config.retentionBytes
                guard expired || oversized else { break }
                removed.append(self.segments.removeFirst())
                totalBytes -= oldest.byteCount
            }
            guard !removed.isEmpty else { return [] }
            try self.advanceLogStartOffset(to: self.segments[0].baseOffset)
            return removed
        }
        for segment in removed { try segment.deleteFiles() }
        if !removed.isEmpty { try FileSystem.syncDirectory(self.directory) }
        return removed.count
    }

    /// Moves the log start offset forward (retention, or a delete-records request). Lock held.
    func advanceLogStartOffset(to offset: Int64) throws(SluiceError) {
        guard offset > self.logStartOffset else { return }
        self.logStartOffset = offset
        try self.writeLogStartOffset()
        self.producerState.removeProducers(before: offset)
    }

    /// Deletes records below `offset` (Kafka's DeleteRecords): segments wholly below go, reads below
    /// it fail as out of range.
    public func deleteRecords(before offset: Int64) throws(SluiceError) {
        // Segments left unsealed by a roll are sealed first, so that those wholly below go now.
        try? self.sealPendingSegments()
        let removed: [Segment] = try self.lock.withLock { () throws(SluiceError) -> [Segment] in
            guard offset <= self.highWatermarkLocked else {
                throw SluiceError(.offsetOutOfRange, "cannot delete records before \(offset): the high watermark is \(self.highWatermarkLocked)")
            }
            try self.advanceLogStartOffset(to: offset)
            var removed: [Segment] = []
            while self.segments.count > 1 && self.segments[0].nextOffset <= offset && self.segments[1].baseOffset <= offset
                    && !self.segments[0].sealPending {
                removed.append(self.segments.removeFirst())
            }
            return removed
        }
        for segment in removed { try segment.deleteFiles() }
    }
}
