// The relay's tunables, from YAML (`relay:`) or defaults.

/// Limits and settings of a relay.
public struct RelayOptions: Sendable {
    /// Codecs the relay accepts, in its own preference order (the host's order wins when both allow).
    public var codecs: [String] = ["lz4", "zlib", "none"]
    /// Bytes one viewer may have queued before its backlog is dropped (it is then repainted from the latest keyframe).
    public var viewerQueueBytes = 8 << 20
    /// Bytes queued towards a host (viewer input and events) before they are dropped.
    public var hostQueueBytes = 1 << 20
    /// Bytes a connection's peer may have sent that the relay has not read yet (`relay.limits.inbound_bytes`);
    /// past it the transport stops reading from that peer (which then waits) until the relay catches up.
    public var inboundBytes = ListenContext.defaultInboundBytes
    /// Largest frame accepted from a peer.
    public var maxFrameSize = Framing.defaultMaxFrameSize
    /// Largest first frame (`hello`) accepted from a connection (`relay.limits.hello_bytes`); a host's hello
    /// carries its authorized keys, a viewer's is a few hundred bytes.
    public var helloBytes = 256 << 10
    /// Bytes all connections still in their handshake may hold together, above 4 KiB each
    /// (`relay.limits.handshake_bytes`); a connection that would pass it is refused ("try again").
    public var handshakeBytes = 32 << 20
    /// Connections one address may have in their handshake at once (`relay.limits.handshakes_per_address`).
    public var handshakesPerAddress = 32
    /// Hands freed memory back to the system after a burst of held handshakes (a flood that was refused);
    /// the relay server sets it (glibc's `malloc_trim`: freed blocks in every thread's arena are kept by the
    /// allocator otherwise, and the process would stay at its peak). Nil does nothing.
    public var returnFreedMemory: (@Sendable () -> Void)?
    /// Most live sessions.
    public var maxSessions = 1000
    /// Most viewers in one session.
    public var maxViewersPerSession = 200
    /// Output after the host's latest keyframe (bytes) past which the relay asks the host for a fresh one;
    /// with a host that sends no keyframes, the output replayed to late joiners (from a line start).
    public var tailBytes = 64 << 10
    /// Delay range before answering a failed token lookup, in milliseconds.
    public var refusalDelayMillis: ClosedRange<Int> = 50...200
    /// During bulk output, how long a viewer's writer lets output gather before its next write (0 turns it
    /// off; keystroke echo is never delayed). An in-process host hands over every PTY read as it comes, so
    /// this is where a burst becomes a few large writes instead of one per 4 KiB.
    public var coalesceMicros = 3000
    /// Seconds a new connection has to send its `Hello`.
    public var helloTimeoutSeconds = 10
    /// Host name put in connection strings; nil means the listen address (or this machine's name for a wildcard).
    public var publicHost: String?

    /// Draws the session for an ssh viewer whose window is not the session's size (clipped or padded, from a
    /// screen model of its own); nil sends such viewers the stream as it is. Given the session's and the
    /// window's sizes.
    public var viewerScreen: (@Sendable (_ session: (cols: UInt16, rows: UInt16), _ window: (cols: UInt16, rows: UInt16)) -> any JoinDisplay)?
    /// How long a session whose host link was lost waits for its host to resume it (viewers staying), when the host
    /// can (it has a ticket); 0: the session ends with the link.
    public var resumeGraceSeconds = 60

    /// Signs and checks hosts' resume tickets (from the relay's state directory); nil: no tickets, a lost host's
    /// session is gone with it.
    public var resumeTickets: ResumeTickets?

    /// API key → namespace (`relay.access.api_keys`): a host sending one of these keys may open named sessions
    /// `NAMESPACE/NAME` (`SessionNames`). Empty: no named sessions but those of `namespaceOwners`.
    public var namespaces: [String: String] = [:]
    /// Whether hosts' SSH keys may own namespaces (`relay.access.owned_namespaces`); the relay's command then sets
    /// `namespaceOwners` from its state directory.
    public var ownedNamespaces = false
    /// The namespaces owned by hosts' SSH keys (`NamespaceOwners`); nil: namespaces come from API keys only.
    public var namespaceOwners: NamespaceOwners?
    /// Who may open sessions (`relay.hosts`); nil: anyone who can reach the relay.
    public var hostAccess: HostAccess?

    /// Session recording at the relay (`relay.recording`); nil records nothing.
    public var recording: RelayRecording?

    /// The defaults.
    public init() {}
}

/// Which sessions the relay records, and with which frontend options.
public struct RelayRecording: Sendable {
    /// Which sessions.
    public enum Mode: String, Sendable, CaseIterable {
        /// Every session (an audit trail the host cannot switch off).
        case all
        /// Sessions whose host asks (`host.record_at_relay: true`).
        case requested
    }

    /// Which sessions are recorded.
    public var mode: Mode
    /// The frontend that records (`recorder`).
    public var frontend: String
    /// Its options (`directory`, `format`, `record_input`, …).
    public var options: ConfigNode

    /// A policy.
    public init(mode: Mode, frontend: String = "recorder", options: ConfigNode) {
        self.mode = mode
        self.frontend = frontend
        self.options = options
    }

    /// Whether a host saying `hello` is recorded.
    public func applies(to hello: Hello) -> Bool {
        mode == .all || hello.options["record"] == "true"
    }
}

extension RelayOptions {
    /// How a viewer's writer paces bulk output (`coalesceMicros`).
    var viewerPacing: BulkPacing { BulkPacing(pause: .microseconds(coalesceMicros)) }
}
