// The registry: YAML names → plugin factories, built once at the composition root.

/// Maps registry names (`tcp`, `lz4`, `recorder`, …) to factories that take their YAML section.
///
/// Built at the composition root (the executable, or an embedder's `main`) and passed down; Core
/// never registers concrete plugins itself.
public struct PluginRegistry: Sendable {
    /// Builds a transport from its options section (an empty mapping when absent).
    public typealias TransportFactory = @Sendable (ConfigNode) throws -> any Transport
    /// Builds a codec from its options section.
    public typealias CodecFactory = @Sendable (ConfigNode) throws -> any Codec
    /// Builds a frontend from its options section and the session's context.
    public typealias FrontendFactory = @Sendable (ConfigNode, FrontendContext) throws -> any Frontend

    private var transports: [String: TransportFactory] = [:]
    private var codecs: [String: CodecFactory] = [:]
    private var frontends: [String: FrontendFactory] = [:]
    private var frontendChecks: [String: @Sendable (ConfigNode) throws -> Void] = [:]

    /// An empty registry except for the `none` codec, which every peer understands.
    public init() {
        codecs["none"] = { _ in NoCodec() }
    }

    /// Registers (or replaces) a transport under `name`.
    public mutating func register(transport name: String, _ factory: @escaping TransportFactory) { transports[name] = factory }
    /// Registers (or replaces) a codec under `name`.
    public mutating func register(codec name: String, _ factory: @escaping CodecFactory) { codecs[name] = factory }
    /// Registers (or replaces) a frontend under `name`. `check` validates an options section without
    /// building the frontend (for `config check`: building a recorder creates its file).
    public mutating func register(frontend name: String, check: (@Sendable (ConfigNode) throws -> Void)? = nil,
                                  _ factory: @escaping FrontendFactory) {
        frontends[name] = factory
        frontendChecks[name] = check
    }

    /// Registered transport names, sorted.
    public var transportNames: [String] { transports.keys.sorted() }
    /// Registered codec names, sorted.
    public var codecNames: [String] { codecs.keys.sorted() }
    /// Registered frontend names, sorted.
    public var frontendNames: [String] { frontends.keys.sorted() }

    private static func unknown(_ kind: String, _ name: String, _ known: [String], at node: ConfigNode?) -> SwiftMateError {
        let text = "unknown \(kind) '\(name)'; known: \(known.isEmpty ? "(none registered)" : known.joined(separator: ", "))"
        if let node { return SwiftMateError(.unknownPlugin, node.error(text).message) }
        return SwiftMateError(.unknownPlugin, text)
    }

    /// Builds the transport `name`. `at` is the config node that named it, for the error message.
    public func transport(_ name: String, options: ConfigNode? = nil, at: ConfigNode? = nil) throws -> any Transport {
        guard let f = transports[name] else { throw Self.unknown("transport", name, transportNames, at: at) }
        return try f(options ?? .empty())
    }

    /// Builds the codec `name`.
    public func codec(_ name: String, options: ConfigNode? = nil, at: ConfigNode? = nil) throws -> any Codec {
        guard let f = codecs[name] else { throw Self.unknown("codec", name, codecNames, at: at) }
        return try f(options ?? .empty())
    }

    /// Builds the frontend `name`.
    public func frontend(_ name: String, options: ConfigNode? = nil, context: FrontendContext, at: ConfigNode? = nil) throws -> any Frontend {
        guard let f = frontends[name] else { throw Self.unknown("frontend", name, frontendNames, at: at) }
        return try f(options ?? .empty(), context)
    }

    /// Makes the configured options the ones every later build of these plugins gets
    /// (the YAML `codecs:` and `transports:` sections).
    public mutating func bind(codecOptions: [String: ConfigNode], transportOptions: [String: ConfigNode]) {
        for (name, options) in codecOptions {
            if let f = codecs[name] { codecs[name] = { _ in try f(options) } }
        }
        for (name, options) in transportOptions {
            if let f = transports[name] { transports[name] = { _ in try f(options) } }
        }
    }

    /// Throws `unknownPlugin` (naming the known ones, and `at`'s key path) unless a transport `name` is registered.
    public func requireTransport(_ name: String, at: ConfigNode? = nil) throws {
        guard hasTransport(name) else { throw Self.unknown("transport", name, transportNames, at: at) }
    }

    /// Throws `unknownPlugin` unless a codec `name` is registered.
    public func requireCodec(_ name: String, at: ConfigNode? = nil) throws {
        guard hasCodec(name) else { throw Self.unknown("codec", name, codecNames, at: at) }
    }

    /// Throws `unknownPlugin` unless a frontend `name` is registered, and the frontend's own check
    /// of `options` (when it registered one) fails.
    public func requireFrontend(_ name: String, options: ConfigNode? = nil, at: ConfigNode? = nil) throws {
        guard hasFrontend(name) else { throw Self.unknown("frontend", name, frontendNames, at: at) }
        if let options, let check = frontendChecks[name] { try check(options) }
    }

    /// Whether a name is registered for that kind (for config checks).
    public func hasTransport(_ name: String) -> Bool { transports[name] != nil }
    /// Whether a codec name is registered.
    public func hasCodec(_ name: String) -> Bool { codecs[name] != nil }
    /// Whether a frontend name is registered.
    public func hasFrontend(_ name: String) -> Bool { frontends[name] != nil }
}

/// What a frontend factory may know about where it runs.
public struct FrontendContext: Sendable {
    /// `host` or `relay`.
    public var side: String
    /// The session's id when known.
    public var sessionID: String

    /// Makes a context.
    public init(side: String, sessionID: String) {
        self.side = side
        self.sessionID = sessionID
    }
}
