/// Writes `ApiKey.swift`: the enum of the generated APIs with their types, versions and header versions.
struct ApiKeyEmitter {
    struct Api {
        var name: String
        var request: MessageSpec
        var response: MessageSpec
        var apiKey: Int
    }

    let apis: [Api]

    init(pairs: [(request: MessageSpec, response: MessageSpec)]) throws {
        self.apis = try pairs.map { pair in
            guard let key = pair.request.apiKey, key == pair.response.apiKey else {
                throw CodegenError("\(pair.request.name): request and response API keys differ or are missing")
            }
            guard pair.request.validVersions == pair.response.validVersions else {
                throw CodegenError("\(pair.request.name): request and response valid versions differ")
            }
            return Api(
                name: String(pair.request.name.dropLast("Request".count)),
                request: pair.request,
                response: pair.response,
                apiKey: key
            )
        }
        .sorted { $0.apiKey < $1.apiKey }
        var keys: Set<Int> = []
        for api in self.apis where !keys.insert(api.apiKey).inserted {
            throw CodegenError("API key \(api.apiKey) appears twice")
        }
    }

    static func caseName(_ api: Api) -> String {
        SwiftNames.identifier(SwiftNames.lowerCamel(api.name))
    }

    func emitFile() -> String {
        var writer = CodeWriter()
        writer.docComment(
            """
            The Kafka APIs this module has codecs for, by API key, with what a server needs to dispatch a request: \
            the body types, the versions, and the header version each version uses.
            """
        )
        writer.block("public enum ApiKey: Int16, CaseIterable, Sendable {") { writer in
            for api in self.apis {
                writer.line("case \(Self.caseName(api)) = \(api.apiKey)")
            }
            writer.line()
            writer.docComment("Kafka's name for the API, as in its protocol guide (\"Produce\", \"ApiVersions\").")
            self.emitSwitch(&writer, "public var name: String {") { SwiftNames.stringLiteral($0.name) }
            writer.line()
            writer.docComment("The request body type.")
            self.emitSwitch(&writer, "public var requestType: any KafkaMessage.Type {") { "\($0.request.name).self" }
            writer.line()
            writer.docComment("The response body type.")
            self.emitSwitch(&writer, "public var responseType: any KafkaMessage.Type {") {
                "\($0.response.name).self"
            }
            writer.line()
            writer.docComment("The versions the codecs read and write (requests and responses share them).")
            self.emitSwitch(&writer, "public var validVersions: ClosedRange<Int16> {") {
                "\($0.request.validVersions.lowest)...\($0.request.validVersions.highest!)"
            }
            writer.line()
            writer.docComment(
                """
                Whether Kafka marks the latest version unstable (not advertised in ApiVersions unless unstable \
                versions are enabled): a broker should advertise one version less.
                """
            )
            let unstable = self.apis.filter { $0.request.latestVersionUnstable }
            writer.block("public var latestVersionUnstable: Bool {") { writer in
                if unstable.isEmpty {
                    writer.line("false")
                    return
                }
                writer.line("switch self {")
                writer.line("case " + unstable.map { "." + Self.caseName($0) }.joined(separator: ", ") + ": true")
                writer.line("default: false")
                writer.line("}")
            }
            writer.line()
            writer.docComment(
                """
                The request header version of a request of `version`: 2 (compact, tagged fields) for flexible \
                versions, else 1. Versions above the valid ones count as flexible when the API has flexible \
                versions, as in Kafka, so that a newer client's ApiVersions request still parses.
                """
            )
            self.emitSwitch(&writer, "public func requestHeaderVersion(for version: Int16) -> Int16 {") { api in
                let flexible = api.request.flexibleVersions
                return flexible.isNone ? "1" : "version >= \(flexible.lowest) ? 2 : 1"
            }
            writer.line()
            writer.docComment(
                """
                The response header version of a response of `version`: 1 (tagged fields) for flexible versions, \
                else 0; ApiVersions responses always use 0, so that a client that sent a version the broker does \
                not support can still read the answer (KIP-511).
                """
            )
            self.emitSwitch(&writer, "public func responseHeaderVersion(for version: Int16) -> Int16 {") { api in
                let flexible = api.response.flexibleVersions
                if api.name == "ApiVersions" { return "0" }
                return flexible.isNone ? "0" : "version >= \(flexible.lowest) ? 1 : 0"
            }
        }
        return MessageEmitter.fileHeader(source: "the API list in Sources/SluiceKafkaCodegen/main.swift") + writer.text
    }

    func emitSwitch(_ writer: inout CodeWriter, _ header: String, _ value: (Api) -> String) {
        writer.block(header) { writer in
            writer.line("switch self {")
            for api in self.apis {
                writer.line("case .\(Self.caseName(api)): \(value(api))")
            }
            writer.line("}")
        }
    }
}
