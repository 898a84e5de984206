/// The startup and authentication exchange of a connection, as a pure state machine: it is given
/// each backend message and says what to do. Supports trust, cleartext password, md5 and SCRAM-SHA-256.
struct PgStartupStateMachine {
    enum Action: Equatable {
        case send(PgFrontendMessage)
        /// Nothing to do; wait for the next message.
        case wait
        /// ReadyForQuery arrived: the connection is usable.
        case ready
    }

    private enum State {
        case authenticating
        case scram(SCRAMSHA256Client)
        case authenticated
        case ready
    }

    let user: String
    let password: String?
    private var state = State.authenticating
    private(set) var parameters: [String: String] = [:]

    init(user: String, password: String?) {
        self.user = user
        self.password = password
    }

    private func requirePassword() throws(CDCError) -> String {
        guard let password = self.password else {
            throw CDCError(.authenticationFailed, "the server asks for a password for user \(self.user) and none was given")
        }
        return password
    }

    mutating func receive(_ message: PgBackendMessage) throws(CDCError) -> Action {
        switch (self.state, message) {
        case (_, .errorResponse(let fields)):
            throw PgConnection.error(fields, doing: "connecting as \(self.user)")
        case (_, .noticeResponse), (_, .other):
            return .wait
        case (.authenticating, .authenticationOk), (.scram, .authenticationOk):
            self.state = .authenticated
            return .wait
        case (.authenticating, .authenticationCleartextPassword):
            return .send(.password(try self.requirePassword()))
        case (.authenticating, .authenticationMD5Password(let salt)):
            return .send(.password(pgMD5Password(user: self.user, password: try self.requirePassword(), salt: salt)))
        case (.authenticating, .authenticationSASL(let mechanisms)):
            guard mechanisms.contains(SCRAMSHA256Client.mechanism) else {
                throw CDCError(.authenticationFailed, "the server offers SASL mechanisms \(mechanisms); this client supports \(SCRAMSHA256Client.mechanism)")
            }
            var client = SCRAMSHA256Client(password: try self.requirePassword())
            let first = client.clientFirstMessage()
            self.state = .scram(client)
            return .send(.saslInitialResponse(mechanism: SCRAMSHA256Client.mechanism, data: Array(first.utf8)))
        case (.scram(var client), .authenticationSASLContinue(let data)):
            let final = try client.clientFinalMessage(serverFirst: String(decoding: data, as: UTF8.self))
            self.state = .scram(client)
            return .send(.saslResponse(Array(final.utf8)))
        case (.scram(let client), .authenticationSASLFinal(let data)):
            try client.verify(serverFinal: String(decoding: data, as: UTF8.self))
            return .wait
        case (.authenticated, .parameterStatus(let name, let value)):
            self.parameters[name] = value
            return .wait
        case (.authenticated, .backendKeyData):
            return .wait
        case (.authenticated, .readyForQuery):
            self.state = .ready
            return .ready
        default:
            throw CDCError(.protocolViolation, "unexpected \(message) during startup")
        }
    }
}
