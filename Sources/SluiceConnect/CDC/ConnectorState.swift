import NIOCore
import Foundation
import SluiceCore
import SluiceLog

/// What the connector records about itself in the log (a compacted single-partition topic
/// `__sluice_cdc_state.<slot>`): whether the initial snapshot finished, from which slot and at
/// which consistent point. A snapshot that is `started` but not `done` is restarted from scratch.
struct ConnectorState: Codable, Equatable {
    enum Snapshot: String, Codable {
        case started
        case done
        /// No snapshot was taken (snapshot mode `never`); streaming started from the slot's creation.
        case skipped
    }

    var slot: String
    var snapshot: Snapshot
    var consistentPoint: String?
    var tables: [String]

    static func topic(slot: String) -> String { "__sluice_cdc_state.\(slot)" }

    static func read(log: Log, slot: String) throws(CDCError) -> ConnectorState? {
        let topic = Self.topic(slot: slot)
        guard log.topicNames.contains(topic) else { return nil }
        do {
            let partition = try log.partition(TopicPartition(topic, 0))
            var offset = partition.startOffset
            var last: ConnectorState?
            while offset < partition.logEndOffset {
                let (records, next) = try partition.readRecords(from: offset, maxBytes: 1024 * 1024)
                guard next > offset else { break }
                for record in records {
                    guard let value = record.value else { continue }
                    last = try? JSONDecoder().decode(ConnectorState.self, from: Data(value.readableBytesView))
                }
                offset = next
            }
            return last
        } catch {
            throw CDCError(.log, "cannot read the connector state in \(topic)", underlying: error)
        }
    }

    /// Appends this state durably.
    func write(log: Log) throws(CDCError) {
        let topic = Self.topic(slot: self.slot)
        do {
            if !log.topicNames.contains(topic) {
                var config = TopicConfig(partitionCount: 1)
                config.cleanupPolicy = .compact
                try? log.createTopic(topic, config: config)
            }
            let partition = try log.partition(TopicPartition(topic, 0))
            let value = Array(try JSONEncoder().encode(self))
            var builder = RecordBatchBuilder()
            builder.append(ProducerRecord(key: Array("state".utf8), value: value, timestamp: currentTimeMillis()))
            _ = try partition.append(try builder.build())
            try partition.flush()
        } catch {
            throw CDCError(.log, "cannot write the connector state to \(topic)", underlying: error)
        }
    }
}
