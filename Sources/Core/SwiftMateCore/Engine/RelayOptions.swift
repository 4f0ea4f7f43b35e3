// The relay's tunables, from YAML (`relay:`) or defaults.

/// Limits and settings of a relay.
public struct RelayOptions: Sendable {
    /// Codecs the relay accepts, in its own preference order (the host's order wins when both allow).
    public var codecs: [String] = ["lz4", "zlib", "none"]
    /// Bytes one viewer may have queued before its backlog is dropped (it then gets a notice and the live stream).
    public var viewerQueueBytes = 8 << 20
    /// Bytes queued towards a host (viewer input and events) before they are dropped.
    public var hostQueueBytes = 1 << 20
    /// Largest frame accepted from a peer.
    public var maxFrameSize = Framing.defaultMaxFrameSize
    /// Most live sessions.
    public var maxSessions = 1000
    /// Most viewers in one session.
    public var maxViewersPerSession = 200
    /// Output kept for late joiners (bytes), replayed from the first line start inside it.
    public var tailBytes = 64 << 10
    /// Delay range before answering a failed token lookup, in milliseconds.
    public var refusalDelayMillis: ClosedRange<Int> = 50...200
    /// Seconds a new connection has to send its `Hello`.
    public var helloTimeoutSeconds = 10
    /// Host name put in connection strings; nil means the listen address (or this machine's name for a wildcard).
    public var publicHost: String?

    /// The defaults.
    public init() {}
}
