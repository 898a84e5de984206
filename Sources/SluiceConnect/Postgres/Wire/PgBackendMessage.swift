import NIOCore

/// The fields of an ErrorResponse or NoticeResponse, by their one-letter codes.
public struct PgErrorFields: Sendable, Equatable, CustomStringConvertible {
    public var fields: [UInt8: String]

    public init(fields: [UInt8: String]) { self.fields = fields }

    public var severity: String { self.fields[UInt8(ascii: "S")] ?? "" }
    /// The SQLSTATE code (`C`).
    public var sqlState: String { self.fields[UInt8(ascii: "C")] ?? "" }
    public var message: String { self.fields[UInt8(ascii: "M")] ?? "" }
    public var detail: String? { self.fields[UInt8(ascii: "D")] }
    public var hint: String? { self.fields[UInt8(ascii: "H")] }

    public var description: String {
        var text = "\(self.severity) \(self.sqlState): \(self.message)"
        if let detail { text += " (\(detail))" }
        if let hint { text += " hint: \(hint)" }
        return text
    }
}

/// One column of a RowDescription.
public struct PgColumnDescription: Sendable, Equatable {
    public var name: String
    public var tableOID: UInt32
    public var attributeNumber: Int16
    public var typeOID: UInt32
    public var typeSize: Int16
    public var typeModifier: Int32
    public var formatCode: Int16
}

/// The messages a PostgreSQL backend sends that this client understands. Others decode to `.other`.
public enum PgBackendMessage: Sendable, Equatable {
    case authenticationOk
    case authenticationCleartextPassword
    case authenticationMD5Password(salt: [UInt8])
    case authenticationSASL(mechanisms: [String])
    case authenticationSASLContinue([UInt8])
    case authenticationSASLFinal([UInt8])
    case parameterStatus(name: String, value: String)
    case backendKeyData(processID: Int32, secretKey: Int32)
    case readyForQuery(transactionStatus: UInt8)
    case rowDescription([PgColumnDescription])
    /// Column values in text format; nil is SQL NULL.
    case dataRow([[UInt8]?])
    case commandComplete(tag: String)
    case emptyQueryResponse
    case errorResponse(PgErrorFields)
    case noticeResponse(PgErrorFields)
    case copyBothResponse
    case copyOutResponse
    case copyInResponse
    case copyData(ByteBuffer)
    case copyDone
    case other(type: UInt8)

    /// The largest message accepted from a server: a bound on what one message may make us buffer.
    public static let messageBytesMax = 256 * 1024 * 1024

    /// Decodes one message from the front of `buffer`, or returns nil (consuming nothing) when the
    /// message is not complete yet.
    public static func decode(from buffer: inout ByteBuffer, messageBytesMax: Int = Self.messageBytesMax) throws(CDCError) -> PgBackendMessage? {
        guard buffer.readableBytes >= 5,
              let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 1, as: Int32.self) else { return nil }
        guard length >= 4 else { throw CDCError(.protocolViolation, "a backend message '\(Character(Unicode.Scalar(type)))' has length \(length)") }
        guard Int(length) <= messageBytesMax else {
            throw CDCError(.limitExceeded, "a backend message of \(length) bytes exceeds messageBytesMax (\(messageBytesMax))")
        }
        guard buffer.readableBytes >= 1 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        var body = buffer.readSlice(length: Int(length) - 4)!
        return try Self.decodeBody(type: type, body: &body)
    }

    static func decodeBody(type: UInt8, body: inout ByteBuffer) throws(CDCError) -> PgBackendMessage {
        func malformed() -> CDCError { CDCError(.protocolViolation, "malformed backend message '\(Character(Unicode.Scalar(type)))'") }
        switch type {
        case UInt8(ascii: "R"):
            guard let code = body.readInteger(as: Int32.self) else { throw malformed() }
            switch code {
            case 0: return .authenticationOk
            case 3: return .authenticationCleartextPassword
            case 5:
                guard let salt = body.readBytes(length: 4) else { throw malformed() }
                return .authenticationMD5Password(salt: salt)
            case 10:
                var mechanisms: [String] = []
                while let name = body.readNullTerminated(), !name.isEmpty { mechanisms.append(name) }
                return .authenticationSASL(mechanisms: mechanisms)
            case 11: return .authenticationSASLContinue(body.readBytes(length: body.readableBytes) ?? [])
            case 12: return .authenticationSASLFinal(body.readBytes(length: body.readableBytes) ?? [])
            default:
                throw CDCError(.authenticationFailed, "the server asks for authentication method \(code), which this client does not support (use trust, password, md5 or scram-sha-256)")
            }
        case UInt8(ascii: "S"):
            guard let name = body.readNullTerminated(), let value = body.readNullTerminated() else { throw malformed() }
            return .parameterStatus(name: name, value: value)
        case UInt8(ascii: "K"):
            guard let pid = body.readInteger(as: Int32.self), let key = body.readInteger(as: Int32.self) else { throw malformed() }
            return .backendKeyData(processID: pid, secretKey: key)
        case UInt8(ascii: "Z"):
            guard let status = body.readInteger(as: UInt8.self) else { throw malformed() }
            return .readyForQuery(transactionStatus: status)
        case UInt8(ascii: "T"):
            guard let count = body.readInteger(as: Int16.self), count >= 0 else { throw malformed() }
            var columns: [PgColumnDescription] = []
            columns.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let name = body.readNullTerminated(), let table = body.readInteger(as: UInt32.self),
                      let attribute = body.readInteger(as: Int16.self), let typeOID = body.readInteger(as: UInt32.self),
                      let size = body.readInteger(as: Int16.self), let modifier = body.readInteger(as: Int32.self),
                      let format = body.readInteger(as: Int16.self) else { throw malformed() }
                columns.append(PgColumnDescription(name: name, tableOID: table, attributeNumber: attribute, typeOID: typeOID,
                                                   typeSize: size, typeModifier: modifier, formatCode: format))
            }
            return .rowDescription(columns)
        case UInt8(ascii: "D"):
            guard let count = body.readInteger(as: Int16.self), count >= 0 else { throw malformed() }
            var values: [[UInt8]?] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let length = body.readInteger(as: Int32.self) else { throw malformed() }
                if length < 0 {
                    values.append(nil)
                } else {
                    guard let bytes = body.readBytes(length: Int(length)) else { throw malformed() }
                    values.append(bytes)
                }
            }
            return .dataRow(values)
        case UInt8(ascii: "C"):
            guard let tag = body.readNullTerminated() else { throw malformed() }
            return .commandComplete(tag: tag)
        case UInt8(ascii: "I"):
            return .emptyQueryResponse
        case UInt8(ascii: "E"), UInt8(ascii: "N"):
            var fields: [UInt8: String] = [:]
            while let code = body.readInteger(as: UInt8.self), code != 0 {
                guard let value = body.readNullTerminated() else { throw malformed() }
                fields[code] = value
            }
            let parsed = PgErrorFields(fields: fields)
            return type == UInt8(ascii: "E") ? .errorResponse(parsed) : .noticeResponse(parsed)
        case UInt8(ascii: "W"): return .copyBothResponse
        case UInt8(ascii: "H"): return .copyOutResponse
        case UInt8(ascii: "G"): return .copyInResponse
        case UInt8(ascii: "d"): return .copyData(body)
        case UInt8(ascii: "c"): return .copyDone
        default: return .other(type: type)
        }
    }
}

/// Frames backend messages for a NIO pipeline.
struct PgMessageDecoder: ByteToMessageDecoder {
    typealias InboundOut = PgBackendMessage

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try PgBackendMessage.decode(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }
}
