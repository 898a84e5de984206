import NIOCore
import SluiceJSON
import Testing
@testable import SluiceConnect

@Suite struct WireCodecTests {
    @Test func startupMessageBytes() {
        var buffer = ByteBuffer()
        PgFrontendMessage.startup(parameters: [("user", "u"), ("replication", "database")]).encode(into: &buffer)
        let expected: [UInt8] = [0, 0, 0, 37, 0, 3, 0, 0] + Array("user\0u\0replication\0database\0\0".utf8)
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test func queryAndCopyMessages() {
        var buffer = ByteBuffer()
        PgFrontendMessage.query("SELECT 1").encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [UInt8(ascii: "Q"), 0, 0, 0, 13] + Array("SELECT 1\0".utf8))
        buffer.clear()
        PgFrontendMessage.copyData([1, 2]).encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [UInt8(ascii: "d"), 0, 0, 0, 6, 1, 2])
        buffer.clear()
        PgFrontendMessage.saslInitialResponse(mechanism: "SCRAM-SHA-256", data: [7]).encode(into: &buffer)
        #expect(Array(buffer.readableBytesView) == [UInt8(ascii: "p"), 0, 0, 0, 23] + Array("SCRAM-SHA-256\0".utf8) + [0, 0, 0, 1, 7])
    }

    static func frame(_ type: Character, _ body: [UInt8]) -> [UInt8] {
        let length = UInt32(body.count + 4)
        return [UInt8(ascii: type.unicodeScalars.first!), UInt8(length >> 24), UInt8((length >> 16) & 0xFF), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF)] + body
    }

    @Test func decodesBackendMessagesAndWaitsForCompleteOnes() throws {
        var bytes = Self.frame("R", [0, 0, 0, 10] + Array("SCRAM-SHA-256\0SCRAM-SHA-256-PLUS\0\0".utf8))
        bytes += Self.frame("D", [0, 2, 0, 0, 0, 2, UInt8(ascii: "4"), UInt8(ascii: "2"), 0xFF, 0xFF, 0xFF, 0xFF])
        bytes += Self.frame("E", Array("SFATAL\0C28P01\0Mpassword authentication failed\0\0".utf8))
        bytes += Self.frame("Z", [UInt8(ascii: "I")])
        var buffer = ByteBuffer(bytes: bytes.dropLast(1))
        #expect(try PgBackendMessage.decode(from: &buffer) == .authenticationSASL(mechanisms: ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"]))
        #expect(try PgBackendMessage.decode(from: &buffer) == .dataRow([Array("42".utf8), nil]))
        guard case .errorResponse(let fields) = try PgBackendMessage.decode(from: &buffer) else {
            Issue.record("expected an ErrorResponse")
            return
        }
        #expect(fields.sqlState == "28P01")
        #expect(fields.message == "password authentication failed")
        // ReadyForQuery lacks its last byte: nothing is consumed.
        let before = buffer.readerIndex
        #expect(try PgBackendMessage.decode(from: &buffer) == nil)
        #expect(buffer.readerIndex == before)
        buffer.writeInteger(UInt8(ascii: "I"))
        #expect(try PgBackendMessage.decode(from: &buffer) == .readyForQuery(transactionStatus: UInt8(ascii: "I")))
    }

    @Test func rejectsMessagesOverTheLimit() {
        var buffer = ByteBuffer(bytes: [UInt8(ascii: "D"), 0x7F, 0, 0, 0])
        #expect(throws: CDCError.self) { try PgBackendMessage.decode(from: &buffer, messageBytesMax: 1024) }
    }

    @Test func scramRFC7677TestVector() throws {
        var client = SCRAMSHA256Client(user: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(client.clientFirstMessage() == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try client.clientFinalMessage(serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        #expect(final == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
        try client.verify(serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        #expect(throws: CDCError.self) { try client.verify(serverFinal: "v=AAAA") }
    }

    @Test func md5Password() {
        #expect(pgMD5Password(user: "user", password: "secret", salt: [1, 2, 3, 4]) == "md5fccef98e4f1cf6cbe96b743fad4e8bd0")
    }

    @Test func startupStateMachineAnswersMD5AndReportsBadCredentials() throws {
        var machine = PgStartupStateMachine(user: "user", password: "secret")
        #expect(try machine.receive(.authenticationMD5Password(salt: [1, 2, 3, 4])) == .send(.password("md5fccef98e4f1cf6cbe96b743fad4e8bd0")))
        do {
            _ = try machine.receive(.errorResponse(PgErrorFields(fields: [UInt8(ascii: "C"): "28P01", UInt8(ascii: "M"): "bad"])))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .authenticationFailed)
        }
        var ready = PgStartupStateMachine(user: "user", password: nil)
        #expect(try ready.receive(.authenticationOk) == .wait)
        #expect(try ready.receive(.parameterStatus(name: "server_version", value: "15")) == .wait)
        #expect(try ready.receive(.readyForQuery(transactionStatus: UInt8(ascii: "I"))) == .ready)
        #expect(ready.parameters["server_version"] == "15")
        var noPassword = PgStartupStateMachine(user: "user", password: nil)
        #expect(throws: CDCError.self) { try noPassword.receive(.authenticationCleartextPassword) }
    }

    @Test func connectionStrings() throws {
        let keywords = try PgConnectionConfig(parsing: "host=db port=6543 user=alice password='it\\'s x' dbname=shop")
        #expect(keywords.host == "db")
        #expect(keywords.port == 6543)
        #expect(keywords.user == "alice")
        #expect(keywords.password == "it's x")
        #expect(keywords.database == "shop")
        let url = try PgConnectionConfig(parsing: "postgresql://bob:p%40ss@127.0.0.1:5433/inventory")
        #expect(url.user == "bob")
        #expect(url.password == "p@ss")
        #expect(url.port == 5433)
        #expect(url.database == "inventory")
        #expect(throws: CDCError.self) { try PgConnectionConfig(parsing: "host=x bogus=1") }
        #expect(throws: CDCError.self) { try PgConnectionConfig(parsing: "port=notaport") }
    }

    @Test func lsnText() {
        #expect(LSN("16/B374D848")?.rawValue == 0x16_B374_D848)
        #expect(LSN(0x16_B374_D848).description == "16/B374D848")
        #expect(LSN("nope") == nil)
    }
}
