import ArgumentParser
import SluiceCore
import SluiceLog

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Inspect the embedded log's files.", subcommands: [Verify.self, Dump.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every batch (size, CRC, offsets) and every index of a data directory; exit 1 on a problem.",
            discussion: "Reads the files as they are and changes nothing. The directory must not be open in another process.")
        @Option(help: "The data directory of the embedded log.") var dataDir: String = "./sluice-data"
        @Option(help: "Verify only this topic.") var topic: String?

        func run() async throws {
            try await reportingErrors {
                let report = try LogInspector.verify(directory: self.dataDir, topic: self.topic)
                for partition in report.partitions {
                    let range = partition.firstOffset.map { "offsets \($0)-\(partition.nextOffset - 1)" } ?? "empty"
                    printFlushed("\(partition.topicPartition): \(partition.segmentCount) segment\(partition.segmentCount == 1 ? "" : "s"), \(partition.batchCount) batches, \(partition.byteCount) bytes, \(range): \(partition.problems.isEmpty ? "ok" : "\(partition.problems.count) problem\(partition.problems.count == 1 ? "" : "s")")")
                    for problem in partition.problems { printFlushed("  problem: \(problem)") }
                    for warning in partition.warnings { printFlushed("  note: \(warning)") }
                }
                if !report.cleanShutdown { printFlushed("note: the log was not shut down cleanly; opening it runs recovery") }
                guard report.isClean else {
                    printError("error: the log has problems (see above)")
                    throw ExitCode(1)
                }
                printFlushed("verified: no problems")
            }
        }
    }

    struct Dump: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print segments, batch headers, indexes, producer state and aborted transactions.")
        @Option(help: "The data directory of the embedded log.") var dataDir: String = "./sluice-data"
        @Option(help: "The topic to dump.") var topic: String
        @Option(help: "Only this partition.") var partition: Int32?
        @Flag(help: "Print every batch header.") var batches = false
        @Flag(help: "Print index entries.") var indexes = false

        func run() async throws {
            try await reportingErrors {
                for dump in try LogInspector.dump(directory: self.dataDir, topic: self.topic, partition: self.partition) {
                    printFlushed("\(dump.topicPartition): log start offset \(dump.logStartOffset.map(String.init) ?? "-"), recovery point \(dump.recoveryPoint.map(String.init) ?? "-")")
                    for segment in dump.segments {
                        let next = segment.batches.last.map { $0.lastOffset + 1 } ?? segment.baseOffset
                        printFlushed("  segment \(segment.baseOffset): \(segment.byteCount) bytes, \(segment.batches.count) batches, offsets \(segment.baseOffset)-\(next - 1), \(segment.offsetIndex.count) offset index entries, \(segment.timeIndex.count) time index entries")
                        if let problem = segment.problem { printFlushed("    problem: \(problem)") }
                        for aborted in segment.abortedTransactions {
                            printFlushed("    aborted transaction: producer \(aborted.producerId), offsets \(aborted.firstOffset)-\(aborted.lastOffset), last stable offset \(aborted.lastStableOffset)")
                        }
                        if self.batches {
                            for batch in segment.batches {
                                var line = "    batch at byte \(batch.position): offsets \(batch.baseOffset)-\(batch.lastOffset), \(batch.recordCount) records, \(batch.byteCount) bytes, max timestamp \(batch.maxTimestamp), compression \(batch.compression)"
                                if batch.producerId >= 0 { line += ", producer \(batch.producerId) epoch \(batch.producerEpoch) sequence \(batch.baseSequence)" }
                                if batch.isTransactional { line += ", transactional" }
                                if let control = batch.control { line += ", control \(control)" }
                                printFlushed(line)
                            }
                        }
                        if self.indexes {
                            for entry in segment.offsetIndex { printFlushed("    offset index: offset \(entry.offset) at byte \(entry.position)") }
                            for entry in segment.timeIndex { printFlushed("    time index: timestamp \(entry.timestamp) at offset \(entry.offset)") }
                        }
                    }
                    if let snapshot = dump.snapshotOffset {
                        printFlushed("  producer state (snapshot at offset \(snapshot)): \(dump.producers.count) producer\(dump.producers.count == 1 ? "" : "s")")
                        for producer in dump.producers {
                            var line = "    producer \(producer.producerId): epoch \(producer.epoch)"
                            if let sequence = producer.lastSequence { line += ", last sequence \(sequence)" }
                            if let offset = producer.lastOffset { line += ", last offset \(offset)" }
                            if let first = producer.currentTransactionFirstOffset { line += ", open transaction from offset \(first)" }
                            printFlushed(line)
                        }
                    }
                }
            }
        }
    }
}
