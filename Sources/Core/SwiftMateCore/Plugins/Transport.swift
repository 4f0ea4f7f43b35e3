// The transport plugin protocol: an ordered, reliable byte link that connects and listens.

/// Where to connect or listen: a transport name plus host and port (`tcp://HOST:PORT`).
public struct Endpoint: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The transport's registry name (`tcp`, `ssh`, …), from the URL scheme.
    public var scheme: String
    /// Host name or address.
    public var host: String
    /// TCP port (0 asks the system for a free one when listening).
    public var port: Int
    /// The path after the port, without its leading `/` (a join URL's token); empty when absent.
    public var path: String

    /// Makes an endpoint.
    public init(scheme: String, host: String, port: Int, path: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
    }

    /// Parses `SCHEME://HOST:PORT[/PATH]`; `[v6addr]` is accepted for IPv6 hosts.
    public init(parsing text: String, defaultPort: Int? = nil) throws {
        let bad = { (why: String) in
            SwiftMateError(.badURL, "bad URL '\(text)': \(why); expected SCHEME://HOST:PORT, e.g. tcp://127.0.0.1:7022")
        }
        guard let sep = text.range(of: "://") else { throw bad("no scheme") }
        scheme = String(text[..<sep.lowerBound]).lowercased()
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" }) else { throw bad("bad scheme") }
        var rest = Substring(text[sep.upperBound...])
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        } else {
            path = ""
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad("unclosed [") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw bad("junk after ]") }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        guard !host.isEmpty else { throw bad("no host") }
        if let portText {
            guard let p = Int(portText), (0...65535).contains(p) else { throw bad("port must be 0-65535") }
            port = p
        } else if let defaultPort {
            port = defaultPort
        } else {
            throw bad("no port")
        }
    }

    /// `scheme://host:port` (plus `/path` when there is one).
    public var description: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(h):\(port)" + (path.isEmpty ? "" : "/\(path)")
    }
}

/// What an accepted connection carries.
public enum ConnectionKind: Sendable, Equatable {
    /// The framed SwiftMate protocol (hosts and `swiftmate join`).
    case framed
    /// A plain terminal (e.g. an OpenSSH client): raw keystrokes in, terminal output out. The token
    /// came with the transport's own login (the SSH user name), with the client's window size.
    case terminal(token: String, cols: UInt16, rows: UInt16)
}

/// What a listener with its own logins (SSH) asks the relay while a client authenticates, before any
/// connection exists. Called from the transport's threads: must not block or wait.
public protocol AccessPolicy: Sendable {
    /// Whether logging in as `token` needs a public key (the session admits only listed keys).
    func requiresPublicKey(token: String) -> Bool
    /// Whether the key `key` (`TYPE BASE64`, as in authorized_keys) may log in as `token`.
    func admits(token: String, key: String) -> Bool
}

/// Writes bytes to a connection's peer, in order.
///
/// Threading: callable from any task; calls must not overlap (one writer task per connection).
public protocol ByteWriter: Sendable {
    /// Writes `bytes`; returns when the transport has taken them (applying back-pressure).
    func write(_ bytes: [UInt8]) async throws
    /// Closes the connection (both directions): the peer sees end of stream and `inbound` ends.
    func close() async
    /// Writes `message` and closes, telling the peer it was turned away where the transport can say so (an ssh
    /// viewer's client then exits with status 1, as for a failed command). The default writes and closes.
    func refuse(_ message: [UInt8]) async
}

extension ByteWriter {
    /// Writes `message` and closes.
    public func refuse(_ message: [UInt8]) async {
        try? await write(message)
        await close()
    }
}

/// One accepted or connected link.
public struct Connection: Sendable {
    /// Bytes from the peer, in order; ends at end of stream and throws on failure.
    public var inbound: any AsyncSequence<[UInt8], any Error> & Sendable
    /// Bytes to the peer.
    public var outbound: any ByteWriter
    /// The peer's address, for logs and `viewerJoined`.
    public var peer: String
    /// Framed protocol or plain terminal.
    public var kind: ConnectionKind
    /// Window-size changes of a `.terminal` connection (empty for framed ones).
    public var windowChanges: AsyncStream<(cols: UInt16, rows: UInt16)>
    /// The public key the peer proved it holds (`TYPE BASE64`), when the transport authenticates keys.
    public var publicKey: String?
    /// The name of the transport it came over (`ssh`, `tcp`; empty when not said), for the host to see who joins.
    public var transport = ""
    /// The loop this connection's I/O runs on, when the transport runs it on one of the listener's loops
    /// (`ListenContext.loops`); the relay then pins the connection's session there, or runs the connection's work on
    /// its session's loop.
    public var loop: IOLoop?

    /// Makes a connection record.
    public init(inbound: any AsyncSequence<[UInt8], any Error> & Sendable, outbound: any ByteWriter, peer: String,
                kind: ConnectionKind = .framed,
                windowChanges: AsyncStream<(cols: UInt16, rows: UInt16)> = AsyncStream { $0.finish() },
                publicKey: String? = nil, loop: IOLoop? = nil) {
        self.publicKey = publicKey
        self.loop = loop
        self.inbound = inbound
        self.outbound = outbound
        self.peer = peer
        self.kind = kind
        self.windowChanges = windowChanges
    }
}

/// What the relay tells a listener it starts: who may log in, and how much a peer may leave unread.
public struct ListenContext: Sendable {
    /// Consulted during logins by transports that have their own (SSH); nil: every login is accepted.
    public var access: (any AccessPolicy)?
    /// Most bytes a connection's peer may have sent that the relay has not read yet (`relay.limits.inbound_bytes`):
    /// past it the transport stops reading from that peer, which then waits, as with a full socket buffer.
    public var inboundBytes: Int

    /// The default of `inboundBytes` (and of `relay.limits.inbound_bytes`): 1 MiB.
    public static let defaultInboundBytes = 1 << 20
    /// The loops a listener that runs its own I/O serves its connections on (swift-nio's event loop group); nil: the
    /// listener makes its own.
    public var loops: IOLoopGroup?
    /// For a transport with logins: the loop that a connection logged in as this token belongs on (its session's),
    /// or nil when the token has none yet. A connection moved there before it is handed over shares one thread with
    /// the rest of its session.
    public var loopForLogin: @Sendable (String) -> IOLoop?

    /// A context; the defaults accept every login, allow `defaultInboundBytes` unread and let the listener make
    /// its own loops.
    public init(access: (any AccessPolicy)? = nil, inboundBytes: Int = ListenContext.defaultInboundBytes,
                loops: IOLoopGroup? = nil, loopForLogin: @escaping @Sendable (String) -> IOLoop? = { _ in nil }) {
        self.access = access
        self.inboundBytes = inboundBytes
        self.loops = loops
        self.loopForLogin = loopForLogin
    }
}

/// What a connecting side (a host, a join client) tells its transport.
public struct ConnectContext: Sendable {
    /// The loop the caller's own work runs on (a host's session loop): a transport that runs its own I/O runs the
    /// connection there, so the link's bytes and the caller's code share one thread. Nil: the transport runs the
    /// connection where it likes (a loop of its own).
    public var loop: IOLoop?
    /// Whether the relay needs to know who connects (a named session in a namespace owned by the host's SSH key):
    /// a transport that can prove a key (`ssh`) does so even where the relay would let it in without one.
    public var proveKey: Bool

    /// A context; by default the transport picks its own thread and proves no key it need not.
    public init(loop: IOLoop? = nil, proveKey: Bool = false) {
        self.loop = loop
        self.proveKey = proveKey
    }
}

/// A bound listener: its real address (after port 0 was resolved) and a loop that serves it.
public protocol Listener: Sendable {
    /// The address actually bound.
    var localEndpoint: Endpoint { get }
    /// Accepts connections and runs `handler` for each, concurrently, until the task is cancelled or
    /// `close()` is called. A handler's failure ends only that connection.
    func run(handler: @escaping @Sendable (Connection) async -> Void) async throws
    /// Stops accepting and makes `run` return.
    func close() async
}

/// A transport plugin: an ordered, reliable byte link (`tcp`, `ssh`, in-memory in tests).
///
/// Threading: all methods are async and may be called from any task. Implementations that call
/// blocking C code do so on their own threads, never on the cooperative pool.
public protocol Transport: Sendable {
    /// The registry name, also the URL scheme (`tcp`).
    var name: String { get }
    /// Connects to `endpoint` and returns the link; the caller closes `outbound` when done.
    func connect(to endpoint: Endpoint) async throws -> Connection
    /// Like `connect(to:)`, with what the caller tells its transport (the loop its own work runs on); transports
    /// without I/O threads of their own may ignore it.
    func connect(to endpoint: Endpoint, context: ConnectContext) async throws -> Connection
    /// Binds `endpoint` (port 0 picks a free port) and returns the listener, not yet accepting.
    func listen(on endpoint: Endpoint) async throws -> any Listener
    /// Like `listen(on:)`, with what the relay tells its listeners (logins, inbound limit); transports without
    /// logins or inbound buffers of their own may ignore it.
    func listen(on endpoint: Endpoint, context: ListenContext) async throws -> any Listener
    /// Whether its connections carry a public key the peer proved (`Connection.publicKey`): only such transports
    /// can serve a session that admits listed keys only, so only their connection strings are given out for one.
    var provesPublicKeys: Bool { get }
}

extension Transport {
    /// No key logins.
    public var provesPublicKeys: Bool { false }

    /// Transports without I/O threads of their own: the context does not apply.
    public func connect(to endpoint: Endpoint, context: ConnectContext) async throws -> Connection {
        try await connect(to: endpoint)
    }

    /// Transports without their own logins or inbound buffers: the context does not apply.
    public func listen(on endpoint: Endpoint, context: ListenContext) async throws -> any Listener {
        try await listen(on: endpoint)
    }
}
