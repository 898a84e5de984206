// An application of its own that uses Sluice as a library: clicks per user per minute, from a topic of
// the embedded log to another, exactly once. Run it with:
//
//     swift run windowed-counts /tmp/windowed-counts
//
// It writes a few sample clicks first (so that it has something to count), runs the pipeline to the
// end of its input, and prints the counts.
import Foundation
import SluiceCore
import SluiceLog
import SluiceStreams

let directory = CommandLine.arguments.dropFirst().first ?? "/tmp/sluice-windowed-counts"
let log = try Log(directory: directory)
let client = EmbeddedLogClient(log: log)

// Sample input: 600 clicks by 5 users over 5 minutes of event time.
if try client.partitionCount(of: "clicks") == nil {
    try log.createTopic("clicks", config: TopicConfig(partitionCount: 2))
    try log.createTopic("clicks-per-minute", config: TopicConfig(partitionCount: 1))
    let start: Int64 = 1_700_000_000_000
    for partition in Int32(0)..<2 {
        var builder = RecordBatchBuilder()
        for index in 0..<300 {
            let user = "user-\(Int(partition) + 2 * (index % 3))"
            builder.append(ProducerRecord(key: Array(user.utf8), value: withUnsafeBytes(of: Int64(1).bigEndian) { Array($0) },
                                          timestamp: start + Int64(index) * 1_000))
        }
        _ = try log.partition(TopicPartition("clicks", partition)).append(try builder.build())
    }
}

// The pipeline.
let builder = StreamsBuilder()
builder.stream("clicks", key: .string, value: .int64, outOfOrdernessMs: 2_000)
    .groupByKey(key: .string, value: .int64)
    .windowedBy(.tumbling(size: 60_000))
    .count()
    .toStream()
    .to("clicks-per-minute", key: .windowed(.string), value: .int64)

var settings = StreamsSettings(applicationId: "windowed-counts", stateDirectory: directory + "/state")
settings.stopAtEnd = true  // a bounded run: stop once the input is read, completing every window
let app = try StreamsApplication(topology: try builder.build(), client: client, settings: settings)
try app.run()

// The results.
let partition = try log.partition(TopicPartition("clicks-per-minute", 0))
let (records, _) = try partition.readRecords(from: 0, maxBytes: 1 << 20, isolation: .readCommitted)
for record in records {
    let windowed = try Serde<Windowed<String>>.windowed(.string).deserialize(record.key)
    let count = try Serde<Int64>.int64.deserialize(record.value)
    print("\(windowed.key) \(windowed.window): \(count) clicks")
}
try log.close()
