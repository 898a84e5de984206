import NIOCore

/// What the server sends inside CopyData during START_REPLICATION.
public enum ReplicationMessage: Sendable {
    /// WAL data (here: one pgoutput message) starting at `walStart`.
    case xLogData(walStart: LSN, walEnd: LSN, sendTimeMicros: Int64, data: ByteBuffer)
    /// A keepalive; when `replyRequested`, the server wants a status update now.
    case primaryKeepalive(walEnd: LSN, sendTimeMicros: Int64, replyRequested: Bool)

    public static func decode(_ buffer: ByteBuffer) throws(CDCError) -> ReplicationMessage {
        var body = buffer
        guard let kind = body.readInteger(as: UInt8.self) else { throw CDCError(.protocolViolation, "empty CopyData in replication") }
        switch kind {
        case UInt8(ascii: "w"):
            guard let start = body.readInteger(as: UInt64.self), let end = body.readInteger(as: UInt64.self),
                  let time = body.readInteger(as: Int64.self) else { throw CDCError(.protocolViolation, "truncated XLogData") }
            return .xLogData(walStart: LSN(start), walEnd: LSN(end), sendTimeMicros: time, data: body)
        case UInt8(ascii: "k"):
            guard let end = body.readInteger(as: UInt64.self), let time = body.readInteger(as: Int64.self),
                  let reply = body.readInteger(as: UInt8.self) else { throw CDCError(.protocolViolation, "truncated keepalive") }
            return .primaryKeepalive(walEnd: LSN(end), sendTimeMicros: time, replyRequested: reply != 0)
        default:
            throw CDCError(.protocolViolation, "unknown replication message '\(Character(Unicode.Scalar(kind)))'")
        }
    }

    /// A standby status update: everything up to `flushed` is durable on our side, so the slot may
    /// release WAL before it.
    public static func standbyStatusUpdate(written: LSN, flushed: LSN, applied: LSN, nowMicrosSinceUnixEpoch: Int64, replyRequested: Bool = false) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(ascii: "r"))
        buffer.writeInteger(written.rawValue)
        buffer.writeInteger(flushed.rawValue)
        buffer.writeInteger(applied.rawValue)
        buffer.writeInteger(nowMicrosSinceUnixEpoch - postgresEpochOffsetMicros)
        buffer.writeInteger(UInt8(replyRequested ? 1 : 0))
        return Array(buffer.readableBytesView)
    }
}
