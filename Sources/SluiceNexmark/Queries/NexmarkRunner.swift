import NIOCore
import SluiceCore
import SluiceJSON
import SluiceLog
import SluiceStreams

/// Loads Nexmark events into topics and runs queries over them: what `sluice nexmark`, the
/// benchmark and the tests share.
public enum NexmarkRunner {
    /// Records per batch when loading events.
    public static let loadBatchRecordCount = 1_000

    /// Writes `count` generated events into `topic` of an in-memory log, event number modulo the
    /// partition count picking the partition (as `sluice datagen` does), record time the event time.
    public static func load(_ generator: NexmarkGenerator, count: Int64, into client: MemoryLogClient, topic: String,
                            partitionCount: Int32) throws {
        try client.ensureTopic(topic, partitionCount: partitionCount, compacted: false)
        var builders = Array(repeating: RecordBatchBuilder(), count: Int(partitionCount))
        var encoded: [UInt8] = []
        var generator = generator
        for number in 0..<count {
            guard let event = generator.next() else { break }
            encoded.removeAll(keepingCapacity: true)
            NexmarkJSON.append(event, to: &encoded)
            let partition = Int(number % Int64(partitionCount))
            builders[partition].append(ProducerRecord(key: nil, value: encoded, timestamp: event.dateTime))
            if builders[partition].recordCount >= Self.loadBatchRecordCount {
                try client.append(try builders[partition].build(), to: TopicPartition(topic, Int32(partition)))
                builders[partition] = RecordBatchBuilder()
            }
        }
        for (partition, builder) in builders.enumerated() where builder.recordCount > 0 {
            try client.append(try builder.build(), to: TopicPartition(topic, Int32(partition)))
        }
    }

    /// Writes JSON-lines events (as `sluice datagen nexmark --output` writes them) into `topic`, line
    /// number modulo the partition count picking the partition; each record's time is its event's `dateTime`.
    public static func loadLines(_ bytes: [UInt8], into client: MemoryLogClient, topic: String, partitionCount: Int32) throws -> Int {
        try client.ensureTopic(topic, partitionCount: partitionCount, compacted: false)
        let scanner = JSONScanner(paths: [["person", "dateTime"], ["auction", "dateTime"], ["bid", "dateTime"]])
        var fields = scanner.makeFields()
        var builders = Array(repeating: RecordBatchBuilder(), count: Int(partitionCount))
        var lineNumber = 0
        try bytes.withUnsafeBytes { (all: UnsafeRawBufferPointer) throws in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != UInt8(ascii: "\n") { end += 1 }
                let line = UnsafeRawBufferPointer(rebasing: all[start..<end])
                defer { start = end + 1 }
                if line.isEmpty { continue }
                do {
                    try scanner.scan(line, into: &fields)
                } catch {
                    throw StreamsError(.deserialization, "line \(lineNumber + 1) is not a Nexmark event: \(error)")
                }
                var dateTime: Int64 = 0
                for index in 0..<3 where fields.kind(index) != .absent && fields.kind(index) != .null {
                    dateTime = try fields.value(index, in: line).int64()
                }
                let partition = lineNumber % Int(partitionCount)
                builders[partition].append(ProducerRecord(key: nil, value: Array(line), timestamp: dateTime))
                if builders[partition].recordCount >= Self.loadBatchRecordCount {
                    try client.append(try builders[partition].build(), to: TopicPartition(topic, Int32(partition)))
                    builders[partition] = RecordBatchBuilder()
                }
                lineNumber += 1
            }
        }
        for (partition, builder) in builders.enumerated() where builder.recordCount > 0 {
            try client.append(try builder.build(), to: TopicPartition(topic, Int32(partition)))
        }
        return lineNumber
    }

    /// Runs `query` from `input` to `sink` until the input's end (bounded) and returns the application,
    /// whose metrics tell what it did.
    @discardableResult
    public static func run(_ query: NexmarkQuery, client: any LogClient, input: String, sink: NexmarkSink, settings: StreamsSettings) throws
        -> StreamsApplication {
        let builder = StreamsBuilder()
        NexmarkQueries.build(query, input: input, sink: sink, builder: builder)
        var bounded = settings
        bounded.stopAtEnd = true
        let app = try StreamsApplication(topology: try builder.build(), client: client, settings: bounded)
        try app.run()
        return app
    }
}
