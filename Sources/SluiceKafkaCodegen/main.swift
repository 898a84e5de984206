/// sluice-kafka-codegen: generates the Kafka protocol codecs of `SluiceKafkaProtocol` from Apache Kafka's JSON
/// message specs.
///
/// Regenerate, from the repository root:
///
///     swift run sluice-kafka-codegen
///
/// It reads the specs from `../shared/kafka-protocol/messages` (relative to the repository root) and writes one
/// file per message, plus `ApiKey.swift`, into `Sources/SluiceKafkaProtocol/Generated/`. The output depends only on
/// the specs and this generator: running it twice writes the same bytes, and files whose content did not change are
/// not rewritten.
///
/// Options:
///
///     --specs DIR    read the specs from DIR (also accepted as the first positional argument)
///     --output DIR   write the Swift files into DIR
///     --check        write nothing; exit 1 if any generated file is missing or differs (for CI)
///
/// To generate another API, add its name to `generatedApis` below (the spec files are `<Name>Request.json` and
/// `<Name>Response.json`) and run the command again.
import Foundation

/// The APIs whose request and response bodies are generated, by Kafka's name.
let generatedApis = [
    "Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch", "FindCoordinator", "JoinGroup",
    "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake", "ApiVersions",
    "CreateTopics", "DeleteTopics", "DeleteRecords", "InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn",
    "AddOffsetsToTxn", "EndTxn", "TxnOffsetCommit", "DescribeConfigs", "AlterConfigs", "SaslAuthenticate",
    "CreatePartitions", "DeleteGroups", "IncrementalAlterConfigs", "OffsetDelete", "DescribeCluster",
    "DescribeProducers", "DescribeTransactions", "ListTransactions",
]

/// Specs that are not request/response pairs: the headers, and structures clients embed in bytes fields.
let generatedStructures = [
    "RequestHeader", "ResponseHeader", "ConsumerProtocolSubscription", "ConsumerProtocolAssignment",
]

struct Options {
    var specs: URL
    var output: URL
    var check = false

    init(arguments: [String]) throws {
        let root = Self.repositoryRoot()
        self.specs = root.appendingPathComponent("../shared/kafka-protocol/messages").standardizedFileURL
        self.output = root.appendingPathComponent("Sources/SluiceKafkaProtocol/Generated")
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--specs":
                guard let value = remaining.popFirst() else { throw CodegenError("--specs needs a directory") }
                self.specs = URL(fileURLWithPath: value)
            case "--output":
                guard let value = remaining.popFirst() else { throw CodegenError("--output needs a directory") }
                self.output = URL(fileURLWithPath: value)
            case "--check":
                self.check = true
            case "-h", "--help":
                print("usage: swift run sluice-kafka-codegen [--specs DIR | DIR] [--output DIR] [--check]")
                exit(0)
            default:
                guard !argument.hasPrefix("-") else { throw CodegenError("unknown option \(argument)") }
                self.specs = URL(fileURLWithPath: argument)
            }
        }
    }

    /// The current directory when it is the package root (as under `swift run`), else the root this source file
    /// was compiled from.
    static func repositoryRoot() -> URL {
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let marker = current.appendingPathComponent("Sources/SluiceKafkaCodegen").path
        if FileManager.default.fileExists(atPath: marker) { return current }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .deletingLastPathComponent()
            .deletingLastPathComponent()
    }
}

func loadSpec(_ name: String, from directory: URL) throws -> MessageSpec {
    let url = directory.appendingPathComponent(name + ".json")
    guard FileManager.default.fileExists(atPath: url.path) else {
        throw CodegenError("no spec \(url.path)")
    }
    return try MessageSpec(contentsOf: url)
}

/// The generated files by name, in a fixed order.
func generateFiles(specs: URL) throws -> [(name: String, content: String)] {
    var files: [(name: String, content: String)] = []
    var pairs: [(request: MessageSpec, response: MessageSpec)] = []
    for api in generatedApis {
        let request = try loadSpec(api + "Request", from: specs)
        let response = try loadSpec(api + "Response", from: specs)
        guard request.kind == "request", response.kind == "response" else {
            throw CodegenError("\(api): expected a request and a response spec")
        }
        pairs.append((request, response))
        for spec in [request, response] {
            files.append((spec.name + ".swift", try MessageEmitter(spec: spec).emitFile()))
        }
    }
    for name in generatedStructures {
        let spec = try loadSpec(name, from: specs)
        files.append((spec.name + ".swift", try MessageEmitter(spec: spec).emitFile()))
    }
    files.append(("ApiKey.swift", try ApiKeyEmitter(pairs: pairs).emitFile()))
    return files.sorted { $0.name < $1.name }
}

func run() throws -> Int32 {
    let options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
    let files = try generateFiles(specs: options.specs)
    let manager = FileManager.default
    let expectedNames = Set(files.map(\.name))
    let existing = (try? manager.contentsOfDirectory(atPath: options.output.path)) ?? []
    // Files this generator wrote earlier for specs no longer in the lists.
    let stale = existing.filter { name in
        guard name.hasSuffix(".swift"), !expectedNames.contains(name) else { return false }
        let url = options.output.appendingPathComponent(name)
        let content = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return content.hasPrefix("// Generated by sluice-kafka-codegen")
    }
    var changed: [String] = []
    for file in files {
        let url = options.output.appendingPathComponent(file.name)
        let current = try? String(contentsOf: url, encoding: .utf8)
        if current != file.content { changed.append(file.name) }
    }
    if options.check {
        for name in changed { print("out of date: \(name)") }
        for name in stale { print("stale: \(name)") }
        if changed.isEmpty && stale.isEmpty {
            print("\(files.count) generated files are up to date")
            return 0
        }
        print("run `swift run sluice-kafka-codegen` to regenerate")
        return 1
    }
    try manager.createDirectory(at: options.output, withIntermediateDirectories: true)
    for file in files where changed.contains(file.name) {
        try Data(file.content.utf8).write(to: options.output.appendingPathComponent(file.name), options: .atomic)
    }
    for name in stale {
        try manager.removeItem(at: options.output.appendingPathComponent(name))
    }
    print(
        "sluice-kafka-codegen: \(files.count) files in \(options.output.path) "
            + "(\(changed.count) written, \(stale.count) removed) from \(options.specs.path)"
    )
    return 0
}

do {
    exit(try run())
} catch {
    FileHandle.standardError.write(Data("sluice-kafka-codegen: \(error)\n".utf8))
    exit(2)
}
