import Crypto
import Foundation

/// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no channel
/// binding, the user name left empty (the server takes it from the startup message).
/// A pure state machine: feed it the server's messages, send what it returns.
public struct SCRAMSHA256Client: Sendable {
    public static let mechanism = "SCRAM-SHA-256"
    /// The most PBKDF2 iterations accepted from a server: bounds the work a server can ask for.
    public static let iterationCountMax = 1_000_000

    let user: String
    let password: String
    let clientNonce: String
    private var clientFirstBare = ""
    private var expectedServerSignature: [UInt8]?

    public init(user: String = "", password: String, clientNonce: String? = nil) {
        self.user = user
        self.password = password
        self.clientNonce = clientNonce ?? Self.randomNonce()
    }

    static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<18).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
    }

    /// The client-first message.
    public mutating func clientFirstMessage() -> String {
        self.clientFirstBare = "n=\(self.user),r=\(self.clientNonce)"
        return "n,," + self.clientFirstBare
    }

    /// The client-final message answering the server-first message.
    public mutating func clientFinalMessage(serverFirst: String) throws(CDCError) -> String {
        var attributes: [Character: String] = [:]
        for part in serverFirst.split(separator: ",") where part.count >= 2 && part.dropFirst().first == "=" {
            attributes[part.first!] = String(part.dropFirst(2))
        }
        guard let nonce = attributes["r"], nonce.hasPrefix(self.clientNonce), let saltText = attributes["s"],
              let salt = Data(base64Encoded: saltText), let iterationText = attributes["i"], let iterations = Int(iterationText),
              iterations >= 1 else {
            throw CDCError(.authenticationFailed, "malformed SCRAM server-first message")
        }
        guard iterations <= Self.iterationCountMax else {
            throw CDCError(.limitExceeded, "the server asks for \(iterations) SCRAM iterations, above iterationCountMax (\(Self.iterationCountMax))")
        }
        let saltedPassword = Self.pbkdf2(password: Array(self.password.utf8), salt: Array(salt), iterations: iterations)
        let clientKey = Self.hmac(key: saltedPassword, Array("Client Key".utf8))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = Array("\(self.clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
        let clientSignature = Self.hmac(key: storedKey, authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = Self.hmac(key: saltedPassword, Array("Server Key".utf8))
        self.expectedServerSignature = Self.hmac(key: serverKey, authMessage)
        return withoutProof + ",p=" + Data(proof).base64EncodedString()
    }

    /// Checks the server-final message: the server proves it knew the password too.
    public func verify(serverFinal: String) throws(CDCError) {
        if serverFinal.hasPrefix("e=") {
            throw CDCError(.authenticationFailed, "SCRAM authentication failed: \(serverFinal.dropFirst(2))")
        }
        guard serverFinal.hasPrefix("v="), let signature = Data(base64Encoded: String(serverFinal.dropFirst(2).prefix { $0 != "," })),
              let expected = self.expectedServerSignature, Array(signature) == expected else {
            throw CDCError(.authenticationFailed, "the server's SCRAM signature does not verify")
        }
    }

    static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// PBKDF2-HMAC-SHA-256 with one output block (RFC 5802's Hi()).
    static func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var block = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = block
        for _ in 1..<iterations {
            block = Array(HMAC<SHA256>.authenticationCode(for: block, using: key))
            for index in 0..<result.count { result[index] ^= block[index] }
        }
        return result
    }
}

/// PostgreSQL's md5 password method: "md5" + md5hex(md5hex(password + user) + salt).
public func pgMD5Password(user: String, password: String, salt: [UInt8]) -> String {
    func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    let inner = hex(Insecure.MD5.hash(data: Array((password + user).utf8)))
    return "md5" + hex(Insecure.MD5.hash(data: Array(inner.utf8) + salt))
}
