/// A pipeline's graph, as built by `StreamsBuilder`: nodes of sources, operators and sinks, cut at
/// repartition topics into sub-topologies. Operators are instantiated from it once per task.
public final class Topology: @unchecked Sendable {
    let nodes: [TopologyNode]
    let subtopologies: [Subtopology]
    /// Internal topics the application creates: repartition and changelog topics, by name suffix.
    let internalTopics: [InternalTopic]

    init(nodes: [TopologyNode], internalTopics: [InternalTopic]) throws(StreamsError) {
        self.nodes = nodes
        self.internalTopics = internalTopics
        self.subtopologies = try Self.cut(nodes)
    }

    /// Connected components of the graph: the sources and nodes each task runs.
    private static func cut(_ nodes: [TopologyNode]) throws(StreamsError) -> [Subtopology] {
        var component = Array(repeating: -1, count: nodes.count)
        var result: [Subtopology] = []
        for start in nodes.indices where component[start] < 0 {
            var members: [Int] = []
            var stack = [start]
            component[start] = result.count
            while let id = stack.popLast() {
                members.append(id)
                for neighbour in nodes[id].children + nodes[id].parents where component[neighbour] < 0 {
                    component[neighbour] = result.count
                    stack.append(neighbour)
                }
            }
            members.sort()
            let sources = members.filter { if case .source = nodes[$0].kind { true } else { false } }
            guard !sources.isEmpty else {
                throw StreamsError(.invalidTopology, "nodes \(members.map { nodes[$0].name }) read from no source")
            }
            result.append(Subtopology(index: result.count, nodes: members, sources: sources))
        }
        return result
    }

    /// A description of the sub-topologies, for people (`sluice` prints it).
    public var description: String {
        var lines: [String] = []
        for subtopology in self.subtopologies {
            lines.append("Sub-topology \(subtopology.index)")
            for id in subtopology.nodes {
                let node = self.nodes[id]
                let next = node.children.map { self.nodes[$0].name }
                lines.append("  \(node.name)\(next.isEmpty ? "" : " -> " + next.joined(separator: ", "))")
            }
        }
        return lines.joined(separator: "\n")
    }
}

struct Subtopology {
    let index: Int
    let nodes: [Int]
    let sources: [Int]
}

/// A topic the application owns; its full name is `<applicationId>-<suffix>`.
struct InternalTopic: Hashable {
    enum Kind: Hashable {
        /// Written by one sub-topology, read by another; partitions as many as the writer's tasks unless set.
        case repartition(partitionCount: Int32?)
        /// A store's changelog, compacted; partitions as many as the store's tasks.
        case changelog
    }

    let suffix: String
    let kind: Kind
    /// The node that writes it (repartition sink) or the store's operator node.
    let writer: Int
}

final class TopologyNode {
    enum Kind {
        case source(SourceSpec)
        case processor
        case sink(SinkSpec)
    }

    let id: Int
    let name: String
    let kind: Kind
    var parents: [Int]
    var children: [Int] = []
    /// Makes the node's operator for one task from its children's operators.
    let make: (TaskContext, [OperatorNode]) throws -> OperatorNode

    init(id: Int, name: String, kind: Kind, parents: [Int], make: @escaping (TaskContext, [OperatorNode]) throws -> OperatorNode) {
        self.id = id
        self.name = name
        self.kind = kind
        self.parents = parents
        self.make = make
    }
}

struct SourceSpec {
    /// The topic's name, or the suffix of an internal (repartition) topic.
    let topic: String
    let isInternal: Bool
    /// Event-time disorder accepted before the watermark passes a record (ms).
    let outOfOrdernessMs: Int64
}

struct SinkSpec {
    let topic: String
    let isInternal: Bool
}

/// Joins children's operators into the one `next` operator a parent forwards to.
func downstreamOperator<Key, Value>(_ children: [OperatorNode], _: Key.Type = Key.self, _: Value.Type = Value.self) -> Operator<Key, Value> {
    switch children.count {
    case 0: return DiscardOperator<Key, Value>()
    case 1: return children[0] as! Operator<Key, Value>
    default: return FanOutOperator(targets: children.map { $0 as! Operator<Key, Value> })
    }
}
