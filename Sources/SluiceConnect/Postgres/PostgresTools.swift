import Foundation

/// Where this machine's PostgreSQL programs are, for what starts its own server (`sluice bench cdc`,
/// the CDC tests): the directory of the real `initdb` found on PATH (PATH may hold links to a few
/// tools only), then the newest `/usr/lib/postgresql/*/bin` (Debian's layout).
public enum PostgresTools {
    /// The first candidate directory holding every one of `tools`, or nil.
    public static func binDirectory(holding tools: [String]) -> String? {
        var candidates: [String] = []
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let initdb = "\(directory)/initdb"
            guard FileManager.default.isExecutableFile(atPath: initdb) else { continue }
            let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: initdb)).map {
                $0.hasPrefix("/") ? $0 : "\(directory)/\($0)"
            } ?? initdb
            candidates.append(URL(fileURLWithPath: resolved).deletingLastPathComponent().path)
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap { Int($0) }.sorted()
        candidates += versions.reversed().map { "/usr/lib/postgresql/\($0)/bin" }
        return candidates.first { candidate in
            tools.allSatisfy { FileManager.default.isExecutableFile(atPath: "\(candidate)/\($0)") }
        }
    }
}
