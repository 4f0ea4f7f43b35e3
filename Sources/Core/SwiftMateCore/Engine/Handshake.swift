// The handshake, written once: the client's side (host and join client) and the relay's, as pure state machines.

/// A host's or join client's side of the handshake: its `hello`, then what the relay's first answer means.
///
/// Pure: it takes messages and returns results; the caller sends and receives.
public struct ClientHandshake: Sendable {
    /// The first frame this side sends.
    public let hello: Hello

    /// A handshake that opens with `hello`.
    public init(hello: Hello) {
        self.hello = hello
    }

    /// The relay's first message (nil: the link closed): the welcome, or the error that ends this connection
    /// (`.refused` with the relay's reason, `.cannotResume` when a resume ticket was refused, `.connectionLost`,
    /// `.protocolViolation`).
    public func answer(_ message: Message?) throws(SwiftMateError) -> Welcome {
        switch message {
        case .welcome(let welcome)?: return welcome
        case .refused(.cannotResume, let reason)?: throw SwiftMateError(.cannotResume, reason)
        case .refused(_, let reason)?: throw SwiftMateError(.refused, reason)
        case nil: throw SwiftMateError(.connectionLost, "the relay closed the connection during the handshake")
        default: throw SwiftMateError(.protocolViolation, "the relay answered hello with something other than welcome")
        }
    }
}

/// The relay's side of the handshake: the first frame, then who the peer is and whether it may in.
///
/// Pure: each event returns the one action the relay performs next (answering a question about the peer feeds the
/// next event). Every refusal and its wording is here.
struct RelayHandshake: Sendable {
    /// What the relay does next.
    enum Action: Equatable, Sendable {
        /// Send `refused` and close; with `delay`, after the random refusal delay (a wrong guess costs time).
        /// `log` is what the relay's log says of it (nil: nothing).
        case refuse(RefusalCode, reason: String, delay: Bool, log: String?)
        /// Close without an answer (the link failed).
        case close(log: String)
        /// A host: may it open sessions (its proven key or API key, `relay.hosts`)? Answer with `hostChecked`.
        case checkHost(Hello)
        /// A viewer: look up its token and whether its key is admitted. Answer with `tokenLookedUp`.
        case lookUpToken(String)
        /// Open a session for this host with `codec`.
        case openSession(Hello, codec: String)
        /// Join this viewer to the token's session with `codec`.
        case join(Hello, codec: String)
    }

    private enum State: Sendable {
        case awaitingHello
        case checkingHost(Hello, codec: String)
        case lookingUp(Hello, codec: String)
        case done
    }

    private var state = State.awaitingHello
    private let protocolVersion: UInt32
    private let codecs: [String]
    private let handshakesPerAddress: Int

    /// A handshake for a relay speaking `protocolVersion` with `codecs` enabled (in its preference order).
    init(protocolVersion: UInt32 = Hello.currentProtocolVersion, codecs: [String], handshakesPerAddress: Int) {
        self.protocolVersion = protocolVersion
        self.codecs = codecs
        self.handshakesPerAddress = handshakesPerAddress
    }

    /// The peer's address already has its limit of connections in their handshake.
    mutating func tooManyFromAddress() -> Action {
        state = .done
        return .refuse(.overloaded, reason: """
            too many connections from your address are still in their handshake (limit \(handshakesPerAddress)); \
            close some and try again
            """, delay: false, log: "refused: its address has \(handshakesPerAddress) connections in their handshake already")
    }

    /// The first frame could not be read.
    mutating func failed(_ error: any Error) -> Action {
        state = .done
        switch error {
        case let error as SwiftMateError where error.code == .overloaded:
            return .refuse(.overloaded, reason: error.message, delay: false, log: "refused: \(error.message)")
        case let error as SwiftMateError where error.code == .frameTooLarge || error.code == .malformedMessage:
            return .refuse(.badRequest, reason: "bad hello: \(error.message)", delay: false, log: "bad handshake: \(error.message)")
        default:
            return .close(log: "bad handshake: \(error)")
        }
    }

    /// The first frame (nil: the link closed before one came).
    mutating func received(_ first: Message?) -> Action {
        guard case .awaitingHello = state else { return protocolError("a second hello") }
        guard case .hello(let hello)? = first else {
            state = .done
            return first == nil ? .close(log: "closed before its hello")
                : .refuse(.badRequest, reason: "expected a hello message first", delay: false, log: "first message was not hello; closing")
        }
        guard hello.protocolVersion == protocolVersion else {
            state = .done
            return .refuse(.protocolVersion, reason: """
                protocol version \(hello.protocolVersion) is not supported (this relay speaks \(protocolVersion)); upgrade the older side
                """, delay: false, log: nil)
        }
        guard let codec = negotiateCodec(offered: hello.codecs, enabled: codecs) else {
            state = .done
            return .refuse(.noCommonCodec, reason: """
                no common codec: offered \(hello.codecs.joined(separator: ", ")); this relay allows \(codecs.joined(separator: ", "))
                """, delay: false, log: nil)
        }
        switch hello.role {
        case .host:
            state = .checkingHost(hello, codec: codec)
            return .checkHost(hello)
        case .viewer:
            state = .lookingUp(hello, codec: codec)
            return .lookUpToken(hello.token)
        }
    }

    /// Whether the host may open sessions.
    mutating func hostChecked(admitted: Bool) -> Action {
        guard case .checkingHost(let hello, let codec) = state else { return protocolError("a host check") }
        state = .done
        guard admitted else {
            return .refuse(.notAllowed, reason: """
                this relay lets only listed hosts open sessions; connect over ssh with a key in its relay.hosts.authorized_keys, \
                or give an API key from its relay.hosts.api_keys (-k KEY, host.api_key)
                """, delay: true, log: "refused a host: no listed host key or API key")
        }
        return .openSession(hello, codec: codec)
    }

    /// Whether the viewer's token names a live session, and whether the session admits the viewer's key.
    mutating func tokenLookedUp(found: Bool, keyAdmitted: Bool) -> Action {
        guard case .lookingUp(let hello, let codec) = state else { return protocolError("a token lookup") }
        state = .done
        if let refusal = Self.viewerRefusal(found: found, keyAdmitted: keyAdmitted) {
            return .refuse(.invalidToken, reason: refusal.reason, delay: true, log: refusal.log)
        }
        return .join(hello, codec: codec)
    }

    /// Why a viewer may not join, in the words for each kind of link; always after the refusal delay.
    struct ViewerRefusal: Equatable, Sendable {
        /// For a framed viewer (`refused(1, …)`).
        let reason: String
        /// For a terminal viewer (an ssh client's screen, then exit status 1).
        let terminalText: String
        /// For the relay's log.
        let log: String
    }

    /// The refusal for a viewer whose token names no live session, or whose key the session does not admit; nil
    /// when it may join. One rule for framed and terminal viewers.
    static func viewerRefusal(found: Bool, keyAdmitted: Bool) -> ViewerRefusal? {
        if !found {
            return ViewerRefusal(reason: "Invalid or expired session token", terminalText: "Invalid or expired session token",
                                 log: "refused an unknown token")
        }
        if !keyAdmitted {
            return ViewerRefusal(reason: """
                this session admits only listed SSH keys; join it with ssh (the key must be in the host's authorized_keys)
                """, terminalText: "This session admits only listed SSH keys; yours is not one of them.",
                log: "refused: the session admits only listed keys")
        }
        return nil
    }

    /// An event that does not fit the state: the relay's own mistake, not the peer's; the connection closes.
    private mutating func protocolError(_ event: String) -> Action {
        state = .done
        return .close(log: "handshake: \(event) in the wrong state")
    }
}

/// After the welcome: every later frame each way goes through `codec` (the first frames were uncompressed).
func startCodec(_ codec: any Codec, sender: MessageSender, receiver: MessageReceiver, maxFrameSize: Int) async throws {
    try await sender.startCompressing(codec)
    receiver.startDecompressing(try codec.makeDecompressor(limit: maxFrameSize))
}
