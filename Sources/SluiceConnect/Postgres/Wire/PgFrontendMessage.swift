import NIOCore

/// The messages a PostgreSQL frontend (client) sends, protocol 3.0, and their encoding.
public enum PgFrontendMessage: Sendable, Equatable {
    /// Startup with its parameters (user, database, replication, GUCs), in order.
    case startup(parameters: [(String, String)])
    /// A cleartext or md5-hashed password.
    case password(String)
    case saslInitialResponse(mechanism: String, data: [UInt8])
    case saslResponse([UInt8])
    case query(String)
    case copyData([UInt8])
    case copyDone
    case terminate

    static let protocolVersion3: Int32 = 196_608

    public static func == (lhs: PgFrontendMessage, rhs: PgFrontendMessage) -> Bool {
        var left = ByteBuffer()
        var right = ByteBuffer()
        lhs.encode(into: &left)
        rhs.encode(into: &right)
        return left == right
    }

    /// Appends the message's bytes (type byte, length, body) to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .startup(let parameters):
            let start = buffer.writerIndex
            buffer.writeInteger(Int32(0))
            buffer.writeInteger(Self.protocolVersion3)
            for (name, value) in parameters {
                buffer.writeNullTerminated(name)
                buffer.writeNullTerminated(value)
            }
            buffer.writeInteger(UInt8(0))
            buffer.setInteger(Int32(buffer.writerIndex - start), at: start)
        case .password(let password):
            Self.framed(UInt8(ascii: "p"), into: &buffer) { $0.writeNullTerminated(password) }
        case .saslInitialResponse(let mechanism, let data):
            Self.framed(UInt8(ascii: "p"), into: &buffer) {
                $0.writeNullTerminated(mechanism)
                $0.writeInteger(Int32(data.count))
                $0.writeBytes(data)
            }
        case .saslResponse(let data):
            Self.framed(UInt8(ascii: "p"), into: &buffer) { $0.writeBytes(data) }
        case .query(let sql):
            Self.framed(UInt8(ascii: "Q"), into: &buffer) { $0.writeNullTerminated(sql) }
        case .copyData(let data):
            Self.framed(UInt8(ascii: "d"), into: &buffer) { $0.writeBytes(data) }
        case .copyDone:
            Self.framed(UInt8(ascii: "c"), into: &buffer) { _ in }
        case .terminate:
            Self.framed(UInt8(ascii: "X"), into: &buffer) { _ in }
        }
    }

    private static func framed(_ type: UInt8, into buffer: inout ByteBuffer, _ body: (inout ByteBuffer) -> Void) {
        buffer.writeInteger(type)
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        body(&buffer)
        buffer.setInteger(Int32(buffer.writerIndex - lengthIndex), at: lengthIndex)
    }
}

extension ByteBuffer {
    mutating func writeNullTerminated(_ string: String) {
        self.writeString(string)
        self.writeInteger(UInt8(0))
    }

    /// Reads a NUL-terminated string, or nil when no NUL is left.
    mutating func readNullTerminated() -> String? {
        guard let end = self.readableBytesView.firstIndex(of: 0) else { return nil }
        let string = self.readString(length: end - self.readerIndex)
        self.moveReaderIndex(forwardBy: 1)
        return string
    }
}
