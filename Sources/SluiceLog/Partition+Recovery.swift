import NIOCore
import SluiceCore

extension Partition {
    /// Opens a partition directory, recovering it when the last shutdown was not clean: segments
    /// from the recovery point on are scanned and validated, the log is cut at the first invalid
    /// byte, indexes and producer state are rebuilt. Corruption found is appended to `reports`.
    static func open(
        topicPartition: TopicPartition,
        directory: String,
        config: TopicConfig,
        durability: DurabilityPolicy,
        cleanShutdown: Bool,
        reports: inout [CorruptionReport]
    ) throws(SluiceError) -> Partition {
        try FileSystem.makeDirectory(directory)
        try Self.completeInterruptedSwaps(in: directory)
        let names = try FileSystem.list(directory)
        var baseOffsets = names.compactMap { name -> Int64? in
            guard name.hasSuffix(Segment.logSuffix) else { return nil }
            return Int64(name.dropLast(Segment.logSuffix.count))
        }.sorted()
        let logStartOffset = Self.readOffsetFile(directory + "/" + Self.logStartOffsetFile) ?? baseOffsets.first ?? 0
        let recoveryPoint = cleanShutdown ? Int64.max : (Self.readOffsetFile(directory + "/" + Self.recoveryPointFile) ?? 0)
        if baseOffsets.isEmpty {
            _ = try Segment(creatingIn: directory, baseOffset: logStartOffset)
            try FileSystem.syncDirectory(directory)
            baseOffsets = [logStartOffset]
        }
        var segments: [Segment] = []
        for baseOffset in baseOffsets { segments.append(try Segment(openingIn: directory, baseOffset: baseOffset)) }

        // Segments wholly before the recovery point were synced at roll: their indexes are trusted when
        // they load cleanly. The scan starts at the first segment that is not.
        var scanFrom = segments.count
        for (index, segment) in segments.enumerated() {
            let isLast = index == segments.count - 1
            let beforeRecoveryPoint = isLast ? cleanShutdown : (segments[index + 1].baseOffset <= recoveryPoint)
            if beforeRecoveryPoint, (try? segment.loadIndexes()) != nil { continue }
            scanFrom = index
            break
        }

        // Producer state: the newest snapshot at or below where the scan starts, then replay.
        let scanBase = scanFrom < segments.count ? segments[scanFrom].baseOffset : segments.last!.nextOffset
        var producerState = ProducerStateManager()
        var replayFrom = logStartOffset
        for offset in Self.snapshotOffsets(in: directory).reversed() where offset <= scanBase {
            if let bytes = try? FileSystem.readAll(directory + "/" + ProducerStateManager.snapshotFileName(offset)),
               let loaded = try? ProducerStateManager(snapshot: bytes) {
                producerState = loaded
                replayFrom = offset
                break
            }
        }
        producerState.lastMappedOffset = max(producerState.lastMappedOffset, replayFrom)

        var expectedOffset = segments.first!.baseOffset
        var index = 0
        while index < segments.count {
            let segment = segments[index]
            let mustScan = index >= scanFrom
            let mustReplay = segment.nextOffset > replayFrom || (mustScan && segment.byteCount > 0)
            if mustScan || mustReplay {
                var transactionIndex = TransactionIndex()
                let state = producerState
                var replayed = state
                let result = try segment.scan(expectedFirstOffset: expectedOffset, indexIntervalBytes: config.indexIntervalBytes) { (batch, _) throws(SluiceError) in
                    guard batch.baseOffset >= replayFrom else { return }
                    let info = ProducerBatchInfo(batch)
                    let control = try? batch.controlRecord()
                    if let completed = replayed.update(info, firstOffset: batch.baseOffset, lastOffset: batch.lastOffset, control: control),
                       completed.isAborted {
                        transactionIndex.append(AbortedTransaction(
                            producerId: completed.producerId, firstOffset: completed.firstOffset, lastOffset: completed.markerOffset,
                            lastStableOffset: replayed.firstUnstableOffset ?? batch.nextOffset))
                    }
                }
                producerState = replayed
                if mustScan {
                    segment.reset(byteCount: result.validByteCount, nextOffset: result.nextOffset, maxTimestamp: result.maxTimestamp,
                                  firstBatchTimestamp: result.firstBatchTimestamp, offsetIndex: result.offsetIndex, timeIndex: result.timeIndex,
                                  transactionIndex: transactionIndex, bytesSinceIndexEntry: result.bytesSinceIndexEntry)
                    // What a crash left in the page cache may never have reached the disk: sync it before
                    // anything recovered counts as durable.
                    segment.isDirty = true
                } else if let corruption = result.corruption {
                    // Below the recovery point the data was synced at roll; a scan for producer state that
                    // meets a bad batch there reports it and leaves the data to `log verify`, as Kafka does.
                    reports.append(CorruptionReport(topicPartition: topicPartition, segmentBaseOffset: segment.baseOffset,
                                                    bytePosition: corruption.position, offset: corruption.offset,
                                                    reason: corruption.reason + " (below the recovery point; not truncated)", truncatedByteCount: 0))
                }
                if mustScan, let corruption = result.corruption {
                    let fileSize = try segment.file.size()
                    var truncated = fileSize - corruption.position
                    try segment.file.truncate(to: corruption.position)
                    for later in segments[(index + 1)...] {
                        truncated += later.byteCount
                        try later.deleteFiles()
                    }
                    segments.removeSubrange((index + 1)...)
                    reports.append(CorruptionReport(topicPartition: topicPartition, segmentBaseOffset: segment.baseOffset,
                                                    bytePosition: corruption.position, offset: corruption.offset,
                                                    reason: corruption.reason, truncatedByteCount: truncated))
                    try segment.file.sync()
                    try FileSystem.syncDirectory(directory)
                }
            }
            expectedOffset = segment.nextOffset
            index += 1
        }
        // Snapshots beyond the recovered end describe data that is gone.
        let logEnd = segments.last!.nextOffset
        for offset in Self.snapshotOffsets(in: directory) where offset > logEnd {
            try FileSystem.remove(directory + "/" + ProducerStateManager.snapshotFileName(offset))
        }
        producerState.lastMappedOffset = logEnd
        let partition = Partition(topicPartition: topicPartition, directory: directory, config: config, durability: durability,
                                  segments: segments, logStartOffset: max(logStartOffset, segments.first!.baseOffset),
                                  producerState: producerState, recoveryPoint: min(recoveryPoint, logEnd))
        if !cleanShutdown {
            // Everything recovered is on disk now; indexes are rebuilt in memory. Those of the
            // scanned segments before the active one are written too, as a roll would have, and the
            // recovery point moves past them, so that the next restart trusts them instead of
            // scanning again (a crash before a roll's seal leaves a segment without index files).
            try partition.lock.withLock { () throws(SluiceError) in
                for segment in segments where segment.isDirty { try segment.file.sync(); segment.isDirty = false }
                let rescanned = segments.dropLast().filter { $0.baseOffset >= scanBase }
                guard !rescanned.isEmpty else { return }
                for segment in rescanned {
                    segment.releaseReservedSpace()  // What the crashed process reserved past its end.
                    try segment.persistIndexes()
                }
                try partition.writeRecoveryPoint(partition.activeSegment.baseOffset)
            }
        }
        return partition
    }

    static func readOffsetFile(_ path: String) -> Int64? {
        guard let bytes = try? FileSystem.readAll(path), bytes.count == 8 else { return nil }
        return readBigEndian(bytes, 0)
    }

    /// Finishes or undoes a compaction that a crash interrupted: `.cleaned` files were not complete
    /// and are removed; a `.swap` file was complete and replaces the segments it covers.
    static func completeInterruptedSwaps(in directory: String) throws(SluiceError) {
        let names = try FileSystem.list(directory)
        for name in names where name.hasSuffix(Segment.cleanedSuffix) || name.hasSuffix(".tmp") {
            try FileSystem.remove(directory + "/" + name)
        }
        for name in names where name.hasSuffix(Segment.swapSuffix) {
            guard let base = Int64(name.dropLast(Segment.swapSuffix.count)) else { continue }
            let swapPath = directory + "/" + name
            let coveredEnd = try LogCleaner.nextOffset(ofSegmentFile: swapPath)
            for other in names where other.hasSuffix(Segment.logSuffix) {
                guard let otherBase = Int64(other.dropLast(Segment.logSuffix.count)), otherBase > base, otherBase < coveredEnd else { continue }
                for suffix in [Segment.logSuffix, Segment.indexSuffix, Segment.timeIndexSuffix, Segment.transactionIndexSuffix] {
                    try FileSystem.remove(Segment.path(directory, otherBase, suffix))
                }
            }
            for suffix in [Segment.indexSuffix, Segment.timeIndexSuffix, Segment.transactionIndexSuffix] {
                try FileSystem.remove(Segment.path(directory, base, suffix))
            }
            try FileSystem.rename(swapPath, Segment.path(directory, base, Segment.logSuffix))
            try FileSystem.syncDirectory(directory)
        }
    }
}
