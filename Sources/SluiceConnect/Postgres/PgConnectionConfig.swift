import Foundation

/// Where and as whom to connect: parsed from a libpq-style `key=value` string or a
/// `postgresql://user:password@host:port/dbname` URL.
public struct PgConnectionConfig: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 5432
    public var user = "postgres"
    public var password: String?
    public var database = "postgres"
    public var applicationName = "sluice-cdc"

    public init(host: String = "127.0.0.1", port: Int = 5432, user: String = "postgres", password: String? = nil, database: String = "postgres") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    public init(parsing text: String) throws(CDCError) {
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            try self.init(url: text)
        } else {
            try self.init(keywords: text)
        }
    }

    private init(url text: String) throws(CDCError) {
        guard let components = URLComponents(string: text) else {
            throw CDCError(.invalidConfiguration, "'\(text)' is not a valid postgresql:// URL")
        }
        if let host = components.host, !host.isEmpty { self.host = host }
        if let port = components.port { self.port = port }
        if let user = components.user, !user.isEmpty { self.user = user.removingPercentEncoding ?? user }
        if let password = components.password { self.password = password.removingPercentEncoding ?? password }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        if !path.isEmpty { self.database = path }
        for item in components.queryItems ?? [] {
            try self.apply(item.name, item.value ?? "")
        }
    }

    private init(keywords text: String) throws(CDCError) {
        var index = text.startIndex
        func skipSpaces() { while index < text.endIndex, text[index].isWhitespace { index = text.index(after: index) } }
        while true {
            skipSpaces()
            guard index < text.endIndex else { break }
            guard let equals = text[index...].firstIndex(of: "=") else {
                throw CDCError(.invalidConfiguration, "connection string: '\(text[index...])' is not key=value")
            }
            let key = text[index..<equals].trimmingCharacters(in: .whitespaces)
            index = text.index(after: equals)
            skipSpaces()
            var value = ""
            if index < text.endIndex, text[index] == "'" {
                index = text.index(after: index)
                var closed = false
                while index < text.endIndex {
                    let character = text[index]
                    index = text.index(after: index)
                    if character == "\\", index < text.endIndex {
                        value.append(text[index])
                        index = text.index(after: index)
                    } else if character == "'" {
                        closed = true
                        break
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { throw CDCError(.invalidConfiguration, "connection string: unterminated quote in the value of \(key)") }
            } else {
                while index < text.endIndex, !text[index].isWhitespace {
                    value.append(text[index])
                    index = text.index(after: index)
                }
            }
            try self.apply(key, value)
        }
    }

    private mutating func apply(_ key: String, _ value: String) throws(CDCError) {
        switch key {
        case "host", "hostaddr": self.host = value
        case "port":
            guard let port = Int(value), (1...65_535).contains(port) else {
                throw CDCError(.invalidConfiguration, "connection string: port '\(value)' is not a port number")
            }
            self.port = port
        case "user": self.user = value
        case "password": self.password = value
        case "dbname": self.database = value
        case "application_name": self.applicationName = value
        case "sslmode", "connect_timeout": break
        default: throw CDCError(.invalidConfiguration, "connection string: unknown keyword '\(key)'")
        }
    }
}
