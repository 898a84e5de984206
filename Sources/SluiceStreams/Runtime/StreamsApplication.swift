import Foundation
import SluiceCore
import SluiceLog

/// Runs a topology: creates its internal topics, makes a task per input partition of each
/// sub-topology, spreads the tasks over stream threads, and commits as the settings say.
///
/// ```swift
/// let app = try StreamsApplication(topology: builder.build(), client: EmbeddedLogClient(log: log), settings: settings)
/// try app.start()
/// ...
/// app.stop()
/// try app.awaitTermination()
/// ```
public final class StreamsApplication: @unchecked Sendable {
    public let topology: Topology
    public let client: any LogClient
    public let settings: StreamsSettings
    public let metrics: StreamsMetrics
    private var threads: [StreamThread] = []
    private var osThreads: [Thread] = []
    private let done = DispatchSemaphore(value: 0)

    public init(topology: Topology, client: any LogClient, settings: StreamsSettings) throws(StreamsError) {
        try settings.validate()
        self.topology = topology
        self.client = client
        self.settings = settings
        self.metrics = StreamsMetrics(applicationId: settings.applicationId)
    }

    private func name(_ suffix: String) -> String { "\(self.settings.applicationId)-\(suffix)" }

    /// Partition counts of every sub-topology's inputs; internal topics get theirs from their writers.
    private func resolvePartitionCounts() throws(StreamsError) -> (tasks: [Int: Int32], topics: [String: Int32], upstream: [String: Int]) {
        var taskCounts: [Int: Int32] = [:]
        var topicCounts: [String: Int32] = [:]
        var upstream: [String: Int] = [:]
        var progress = true
        while progress && taskCounts.count < self.topology.subtopologies.count {
            progress = false
            for subtopology in self.topology.subtopologies where taskCounts[subtopology.index] == nil {
                var counts: [Int32] = []
                var ready = true
                for source in subtopology.sources {
                    guard case .source(let spec) = self.topology.nodes[source].kind else { continue }
                    if spec.isInternal {
                        guard let internalTopic = self.topology.internalTopics.first(where: { $0.suffix == spec.topic }),
                              let writer = self.topology.subtopologies.first(where: { $0.nodes.contains(internalTopic.writer) }),
                              let writerTasks = taskCounts[writer.index] else {
                            ready = false
                            break
                        }
                        var count = writerTasks
                        if case .repartition(let requested?) = internalTopic.kind { count = requested }
                        topicCounts[self.name(spec.topic)] = count
                        upstream[spec.topic] = Int(writerTasks)
                        counts.append(count)
                    } else {
                        guard let count = try self.client.partitionCount(of: spec.topic) else {
                            throw StreamsError(.invalidTopology, "input topic \(spec.topic) does not exist")
                        }
                        counts.append(count)
                    }
                }
                guard ready else { continue }
                guard let first = counts.first, counts.allSatisfy({ $0 == first }) else {
                    throw StreamsError(.invalidTopology, "the inputs of sub-topology \(subtopology.index) are not co-partitioned: \(counts) partitions")
                }
                taskCounts[subtopology.index] = first
                progress = true
            }
        }
        guard taskCounts.count == self.topology.subtopologies.count else {
            throw StreamsError(.invalidTopology, "repartition topics form a cycle")
        }
        return (taskCounts, topicCounts, upstream)
    }

    /// Creates the internal topics, settles what a crashed run left open, builds the tasks and starts the threads.
    public func start() throws(StreamsError) {
        let (taskCounts, topicCounts, upstream) = try self.resolvePartitionCounts()
        var written: [String] = [self.settings.deadLetterTopic(self.settings.applicationId), self.settings.lateRecordsTopic(self.settings.applicationId)]
        for topic in written { try self.client.ensureTopic(topic, partitionCount: 1, compacted: false) }
        for internalTopic in self.topology.internalTopics {
            let topic = self.name(internalTopic.suffix)
            switch internalTopic.kind {
            case .repartition:
                try self.client.ensureTopic(topic, partitionCount: topicCounts[topic] ?? 1, compacted: false)
            case .changelog:
                guard let owner = self.topology.subtopologies.first(where: { $0.nodes.contains(internalTopic.writer) }) else { continue }
                try self.client.ensureTopic(topic, partitionCount: taskCounts[owner.index] ?? 1, compacted: true)
            }
            written.append(topic)
        }
        for node in self.topology.nodes {
            guard case .sink(let spec) = node.kind, !spec.isInternal else { continue }
            guard try self.client.partitionCount(of: spec.topic) != nil else {
                throw StreamsError(.invalidTopology, "output topic \(spec.topic) does not exist; create it first")
            }
            written.append(spec.topic)
        }
        let offsetsTopic = self.settings.offsetsTopic
        let transactional = self.settings.guarantee == .exactlyOnce
        // Every producer of an earlier run (with as many threads or more) settles what it left open
        // before the commits are read: an undecided commit record of one thread would otherwise hold
        // the offsets topic's last stable offset below the later commits of the others, which would
        // then be missed and their input processed again.
        for index in 0..<StreamsSettings.threadCountMax {
            try self.client.settleProducer(id: self.producerName(index), writes: written, offsetsTopic: offsetsTopic)
        }
        var committed: [String: TaskCommit] = [:]
        var nextBatchId: Int64 = 0
        for record in try self.client.committedRecords(offsetsTopic: offsetsTopic) {
            for task in record.tasks { committed[task.task] = task }
            if let batchId = record.batchId { nextBatchId = max(nextBatchId, batchId + 1) }
        }
        var taskIds: [TaskId] = []
        for subtopology in self.topology.subtopologies {
            for partition in 0..<(taskCounts[subtopology.index] ?? 0) { taskIds.append(TaskId(subtopology: subtopology.index, partition: partition)) }
        }
        let threadCount = min(self.settings.threadCount, max(1, taskIds.count))
        for index in 0..<threadCount {
            let producerName = self.producerName(index)
            let producer = try self.client.makeProducer(id: producerName, transactional: transactional, writes: written, offsetsTopic: offsetsTopic)
            var tasks: [StreamTask] = []
            for (position, taskId) in taskIds.enumerated() where position % threadCount == index {
                let context = TaskContext(taskId: taskId, applicationId: self.settings.applicationId, producer: producer, client: self.client,
                                          metrics: self.metrics, settings: self.settings, stateDirectory: self.settings.stateDirectory)
                do {
                    tasks.append(try StreamTask(id: taskId, context: context, topology: self.topology,
                                                subtopology: self.topology.subtopologies[taskId.subtopology], upstreamTaskCounts: upstream))
                } catch let error as StreamsError {
                    throw error
                } catch {
                    throw StreamsError(.invalidTopology, "cannot build task \(taskId): \(error)", underlying: error)
                }
            }
            self.threads.append(StreamThread(index: index, tasks: tasks, producer: producer, producerName: producerName, committed: committed,
                                             nextBatchId: nextBatchId, settings: self.settings, client: self.client, metrics: self.metrics))
        }
        for thread in self.threads {
            // Within the 15 bytes a thread name keeps up to stream thread 99.
            let osThread = namedThread("sluice-stream\(thread.index)") { [done] in
                thread.run()
                done.signal()
            }
            osThread.stackSize = 8 << 20
            self.osThreads.append(osThread)
            osThread.start()
        }
    }

    private func producerName(_ index: Int) -> String {
        "\(self.settings.applicationId)-thread-\(index)"
    }

    /// Asks every thread to finish its batch, commit and stop.
    public func stop() {
        for thread in self.threads { thread.requestStop() }
    }

    /// Waits for every thread to end; the first failure is rethrown, and stops the others.
    public func awaitTermination() throws {
        var remaining = self.threads.count
        while remaining > 0 {
            self.done.wait()
            remaining -= 1
            if self.threads.contains(where: { $0.isFinished && $0.failure != nil }) { self.stop() }
        }
        if let failure = self.threads.compactMap(\.failure).first { throw failure }
    }

    /// The first error a stream thread stopped with, if any (the others keep running until `stop()`).
    public var failure: (any Error)? {
        self.threads.first(where: { $0.isFinished && $0.failure != nil })?.failure
    }

    /// Starts, and returns when a bounded run (`stopAtEnd`) finished or `stop()` was called.
    public func run() throws {
        try self.start()
        try self.awaitTermination()
    }

    /// Records the tasks have not read yet, summed.
    public var lag: Int64 {
        self.threads.reduce(0) { total, thread in thread.tasks.reduce(total) { $0 + $1.lag() } }
    }
}
