// The YAML configuration: what each key means, its checks, and the values host and relay run with.
import Foundation

/// A checked configuration file (`~/.config/swiftmate/config.yaml` or `-f FILE`).
///
/// ```yaml
/// transports: {tcp: {nodelay: true, keepalive: true}}   # options per transport
/// codecs: {zlib: {level: 6}, lz4: {acceleration: 1}}    # options per codec
/// host:
///   relay: tcp://relay.example.com:7022                 # absent: an embedded relay on 127.0.0.1; a list: each tried in turn
///   codecs: [lz4, zlib, none]                           # offered, preferred first
///   headless_size: 80x24
///   reconnect: true
///   command: [bash, -l]                                 # default: $SHELL
///   frontends: [{recorder: {path: "~/casts/{session}.cast"}}]
///   record_at_relay: false                              # ask the relay to record (relay.recording.mode: requested)
///   api_key: KEY                                        # for a relay that lists its hosts (relay.hosts.api_keys)
///   foreground_restart: true                            # -F: start the command again when it exits
///   replay_bytes: 16777216                              # output kept until the relay acknowledges it, sent again after a lost link
/// session:
///   authorized_keys: ~/.ssh/authorized_keys              # only these keys may join (rw and ro)
///   size_policy: smallest                               # smallest | host | largest | fixed COLSxROWS
///   name: build                                         # a named session NAMESPACE/build (-n; with an API key the relay knows,
///                                                       # or NAMESPACE/build where the relay lets SSH keys own namespaces)
///   read_only_name: build-ro                            # its read-only name (-r)
///   approve_joiners: false                              # viewers wait until the host lets them in (--approve)
/// relay:
///   listen: [ssh://0.0.0.0:2222, tcp://127.0.0.1:7022]
///   public_host: relay.example.com
///   state_dir: /var/lib/swiftmate
///   codecs: [lz4, zlib, none]
///   recording: {mode: all, directory: /var/lib/swiftmate/casts, record_input: true}   # mode: all | requested
///   hosts: {authorized_keys: /etc/swiftmate/hosts.pub, api_keys: [KEY]}   # who may open sessions (default: anyone)
///   access:
///     api_keys: {KEY: NAMESPACE}                        # named sessions NAMESPACE/NAME for hosts with such a key (-n, -k)
///     owned_namespaces: true                            # a host's SSH key owns each namespace it is first to name (-n NS/NAME)
///   limits: {viewer_queue_bytes: 8388608, max_sessions: 1000, max_viewers: 200, tail_bytes: 65536, max_frame_bytes: 1048576,
///            hello_bytes: 262144, handshake_bytes: 33554432, handshakes_per_address: 32, inbound_bytes: 1048576}   # every limit: examples/relay.yaml
/// ```
public struct SwiftMateConfig: Sendable {
    /// A frontend chosen in YAML: its name and options section.
    public struct FrontendChoice: Sendable {
        /// Registry name.
        public var name: String
        /// Its options.
        public var options: ConfigNode

        /// A choice.
        public init(name: String, options: ConfigNode) {
            self.name = name
            self.options = options
        }
    }

    /// The file it came from.
    public var file: String
    /// The file's checked tree (empty without a file): which keys it sets, for settings from elsewhere
    /// (`~/.tmate.conf`) that apply only where the YAML file is silent.
    public var source: ConfigNode = .empty()
    /// Options per transport name.
    public var transportOptions: [String: ConfigNode] = [:]
    /// Options per codec name.
    public var codecOptions: [String: ConfigNode] = [:]
    /// `host.relay`: nil means an embedded relay.
    public var hostRelay: Endpoint?
    /// The rest of `host.relay` when it lists several relays: tried in turn when the one before cannot be reached.
    public var hostFallbackRelays: [Endpoint] = []
    /// `host.codecs`.
    public var hostCodecs = ["lz4", "zlib", "none"]
    /// `host.headless_size`.
    public var headlessSize: (cols: UInt16, rows: UInt16) = (80, 24)
    /// `host.reconnect`.
    public var reconnect = true
    /// `host.command`: nil means `$SHELL`.
    public var command: [String]?
    /// `host.frontends`.
    public var frontends: [FrontendChoice] = []
    /// `host.record_at_relay`: ask the relay to record this session.
    public var recordAtRelay = false
    /// `host.relay_fingerprints`: host-key fingerprints (`SHA256:…`) pinned for the relay (an ssh relay's key
    /// must be one of these, of `transports.ssh.fingerprints` or of the relay's known_relays lines).
    public var relayFingerprints: [String] = []
    /// `host.trust_on_first_use`: an interactive host asks once about a relay nothing is pinned for, and keeps its
    /// key in known_relays (as OpenSSH's known_hosts).
    public var trustOnFirstUse = true
    /// `host.replay_bytes`: output sent to the relay and not yet acknowledged that the host keeps, to send again after
    /// a lost link (past it the oldest goes, and viewers are told how much was skipped).
    public var replayBytes = 16 << 20
    /// `host.foreground_restart`: a headless host (`-F`) starts the command again when it exits (tmate's
    /// `tmate-foreground-restart`).
    public var foregroundRestart = true
    /// `host.api_key`: sent to the relay in the hello (a relay with `relay.hosts.api_keys` requires one).
    public var apiKey: String?
    /// `session.authorized_keys`: only these keys may join (an OpenSSH authorized_keys file).
    public var authorizedKeysFile: String?
    /// `session.name`: a named session (tokens `NAMESPACE/NAME`; the relay gives the namespace for `host.api_key`).
    public var sessionName: String?
    /// `session.read_only_name`: the named session's read-only name (else a random read-only token).
    public var readOnlyName: String?
    /// `session.approve_joiners`: every viewer waits until the host lets it in (`--approve`).
    public var approveJoiners = false
    /// `session.size_policy`.
    public var sizePolicy = SizePolicy.smallest
    /// `relay.listen`.
    public var relayListen: [Endpoint] = []
    /// `relay.state_dir`.
    public var stateDir: String?
    /// `relay.*`: limits, codecs, public host.
    public var relay = RelayOptions()

    /// The defaults (no file).
    public init() {
        file = "(defaults)"
    }

    /// The default file: `$XDG_CONFIG_HOME/swiftmate/config.yaml` or `~/.config/swiftmate/config.yaml`.
    public static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        let base = env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((env["HOME"] ?? "/") + "/.config")
        return base + "/swiftmate/config.yaml"
    }

    /// Loads `path` (or the default file when nil; a missing default file means defaults) and checks it.
    public static func load(path: String?, registry: PluginRegistry) throws -> SwiftMateConfig {
        let file = path ?? defaultPath
        guard FileManager.default.fileExists(atPath: file) else {
            if path == nil { return SwiftMateConfig() }
            throw SwiftMateError(.badConfig, "\(file): no such file; give an existing config file (see examples/)")
        }
        guard let data = FileManager.default.contents(atPath: file), data.count <= 1 << 20 else {
            throw SwiftMateError(.badConfig, "\(file): cannot read it, or it is larger than 1 MiB")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SwiftMateError(.badConfig, "\(file): not UTF-8 text")
        }
        return try parse(yaml: text, file: file, registry: registry)
    }

    /// Parses and checks YAML text against the registry's names.
    /// Every error is one line (a value quoted in it may hold line breaks or control characters: they are escaped).
    public static func parse(yaml: String, file: String, registry: PluginRegistry) throws -> SwiftMateConfig {
        do {
            return try checked(yaml: yaml, file: file, registry: registry)
        } catch let error as SwiftMateError {
            throw SwiftMateError(error.code, ConfigNode.oneLine(error.message))
        }
    }

    private static func checked(yaml: String, file: String, registry: PluginRegistry) throws -> SwiftMateConfig {
        let root = try ConfigNode.parse(yaml: yaml, file: file)
        var config = SwiftMateConfig()
        config.file = file
        config.source = root
        try root.checkKeys(["transports", "codecs", "host", "relay", "session"])
        if let session = root["session"] {
            try session.checkKeys(["authorized_keys", "size_policy", "name", "read_only_name", "approve_joiners"])
            config.approveJoiners = try session["approve_joiners"]?.bool() ?? false
            if let a = session["authorized_keys"] { config.authorizedKeysFile = try a.string() }
            for (key, what) in [("name", "a session name"), ("read_only_name", "the read-only name")] {
                guard let n = session[key] else { continue }
                let text = try n.string()
                if let problem = SessionNames.problem(withQualified: text, what: what) { throw n.error(problem) }
                if key == "name" { config.sessionName = text } else { config.readOnlyName = text }
            }
            if let p = session["size_policy"] {
                let text = try p.string()
                guard let policy = SizePolicy(text) else { throw p.error("'\(text)' is not a size policy; allowed: \(SizePolicy.help)") }
                config.sizePolicy = policy
            }
        }
        // Building each plugin once checks both its name and its options section.
        for (name, options) in try root["transports"]?.entries() ?? [] {
            _ = try registry.transport(name, options: options, at: options)
            config.transportOptions[name] = options
        }
        for (name, options) in try root["codecs"]?.entries() ?? [] {
            _ = try registry.codec(name, options: options, at: options)
            config.codecOptions[name] = options
        }
        if let host = root["host"] { try config.readHost(host, registry: registry) }
        if let relay = root["relay"] { try config.readRelay(relay, registry: registry) }
        return config
    }

    private static func codecList(_ node: ConfigNode, registry: PluginRegistry) throws -> [String] {
        let names = try node.list().map { try $0.choice(registry.codecNames) }
        guard !names.isEmpty else { throw node.error("needs at least one codec; known: \(registry.codecNames.joined(separator: ", "))") }
        return names
    }

    private static func recording(_ node: ConfigNode, registry: PluginRegistry) throws -> RelayRecording? {
        let entries = try node.entries()
        guard let modeNode = node["mode"] else {
            throw node.error("needs `mode: all` (every session) or `mode: requested` (hosts that ask), or `mode: off`")
        }
        let mode = try modeNode.choice(RelayRecording.Mode.allCases.map(\.rawValue) + ["off"])
        let options = ConfigNode(path: node.path, value: .map(entries.filter { $0.key != "mode" }), file: node.file)
        try registry.requireFrontend("recorder", options: options, at: node)
        guard let chosen = RelayRecording.Mode(rawValue: mode) else { return nil }
        return RelayRecording(mode: chosen, options: options)
    }

    /// `relay.hosts: {authorized_keys: FILE, api_keys: [KEY, …]}`: who may open sessions.
    /// `relay.access`: `api_keys: {KEY: NAMESPACE, …}`, the keys that let hosts open named sessions in a namespace.
    private static func namespaces(_ node: ConfigNode) throws -> [String: String] {
        try node.checkKeys(["api_keys", "owned_namespaces"])
        var namespaces: [String: String] = [:]
        for (key, value) in try node["api_keys"]?.entries() ?? [] {
            if let problem = apiKeyProblem(key) { throw value.error(problem) }
            let namespace = try value.string()
            if let problem = SessionNames.problem(with: namespace, what: "the namespace") {
                throw value.error(problem + " (named sessions' tokens are NAMESPACE/NAME)")
            }
            namespaces[key] = namespace
        }
        return namespaces
    }

    /// Why `text` cannot be an API key, or nil.
    private static func apiKeyProblem(_ text: String) -> String? {
        text.utf8.count >= 16 && text.utf8.count <= 256 && text.allSatisfy({ $0.isASCII && !$0.isWhitespace }) ? nil
            : "an API key is 16 to 256 characters without spaces (e.g. from `openssl rand -base64 24`)"
    }

    private static func hostAccess(_ node: ConfigNode) throws -> HostAccess {
        try node.checkKeys(["authorized_keys", "api_keys"])
        var access = HostAccess()
        if let file = node["authorized_keys"] {
            let path = NSString(string: try file.string()).expandingTildeInPath
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw file.error("cannot read '\(path)'; give an OpenSSH authorized_keys file of the hosts' public keys")
            }
            do {
                access.keys = Set(try AuthorizedKeys.parse(text, source: path))
            } catch let error as SwiftMateError {
                throw file.error(error.message)
            }
        }
        for key in try node["api_keys"]?.list() ?? [] {
            let text = try key.string()
            if let problem = apiKeyProblem(text) { throw key.error(problem) }
            access.apiKeys.append(text)
        }
        guard !access.keys.isEmpty || !access.apiKeys.isEmpty else {
            throw node.error("lists no host keys and no API keys, so no host could open a session; give authorized_keys or api_keys, or remove relay.hosts")
        }
        return access
    }

    private static func url(_ node: ConfigNode, registry: PluginRegistry) throws -> Endpoint {
        let endpoint: Endpoint
        do {
            endpoint = try Endpoint(parsing: try node.string())
        } catch let error as SwiftMateError where error.code == .badURL {
            throw node.error(error.message)
        }
        try registry.requireTransport(endpoint.scheme, at: node)
        return endpoint
    }

    private mutating func readHost(_ host: ConfigNode, registry: PluginRegistry) throws {
        try host.checkKeys(["relay", "codecs", "headless_size", "reconnect", "command", "frontends", "record_at_relay", "api_key",
                            "relay_fingerprints", "trust_on_first_use", "foreground_restart", "replay_bytes"])
        if let r = host["replay_bytes"] { replayBytes = try r.int(in: 65536...(1 << 30)) }
        if let t = host["trust_on_first_use"] { trustOnFirstUse = try t.bool() }
        if let r = host["foreground_restart"] { foregroundRestart = try r.bool() }
        if let f = host["relay_fingerprints"] { relayFingerprints = try f.fingerprints() }
        if let k = host["api_key"] { apiKey = try k.string() }
        if let r = host["record_at_relay"] { recordAtRelay = try r.bool() }
        if let r = host["relay"] {
            // One URL, or a list: the first is used, the others when it cannot be reached (one transport for all).
            if case .list(let items) = r.value {
                let all = try items.map { try Self.url($0, registry: registry) }
                guard let first = all.first else { throw r.error("lists no relay; give one URL or a list of them") }
                if let other = all.first(where: { $0.scheme != first.scheme }) {
                    throw r.error("lists relays over \(first.scheme) and \(other.scheme); list relays of one transport")
                }
                hostRelay = first
                hostFallbackRelays = Array(all.dropFirst())
            } else {
                hostRelay = try Self.url(r, registry: registry)
            }
        }
        if let c = host["codecs"] { hostCodecs = try Self.codecList(c, registry: registry) }
        if let s = host["headless_size"] { headlessSize = try s.size() }
        if let r = host["reconnect"] { reconnect = try r.bool() }
        if let c = host["command"] {
            command = try c.list().map { try $0.string() }
            if command?.isEmpty == true { throw c.error("an empty command; give a program and its arguments, e.g. [bash, -l]") }
        }
        for item in try host["frontends"]?.list() ?? [] {
            let name: String, options: ConfigNode
            switch item.value {
            case .scalar(let s): (name, options) = (s, .empty(file: file))
            case .map(let entries) where entries.count == 1: (name, options) = (entries[0].key, entries[0].value)
            default: throw item.error("a frontend is a name or a one-key mapping {NAME: {options}}")
            }
            try registry.requireFrontend(name, options: options, at: item)
            frontends.append(FrontendChoice(name: name, options: options))
        }
    }

    private mutating func readRelay(_ node: ConfigNode, registry: PluginRegistry) throws {
        try node.checkKeys(["listen", "public_host", "state_dir", "codecs", "limits", "recording", "hosts", "access"])
        if let h = node["hosts"] { relay.hostAccess = try Self.hostAccess(h) }
        if let a = node["access"] {
            relay.namespaces = try Self.namespaces(a)
            relay.ownedNamespaces = try a["owned_namespaces"]?.bool() ?? false
        }
        if let r = node["recording"] { relay.recording = try Self.recording(r, registry: registry) }
        if let l = node["listen"] { relayListen = try l.list().map { try Self.url($0, registry: registry) } }
        if let h = node["public_host"] { relay.publicHost = try h.string() }
        if let d = node["state_dir"] { stateDir = try d.string() }
        if let c = node["codecs"] { relay.codecs = try Self.codecList(c, registry: registry) }
        if let limits = node["limits"] {
            try limits.checkKeys(["viewer_queue_bytes", "host_queue_bytes", "max_sessions", "max_viewers", "tail_bytes", "max_frame_bytes",
                                  "hello_bytes", "handshake_bytes", "handshakes_per_address", "hello_timeout_seconds", "inbound_bytes",
                                  "resume_grace_seconds"])
            if let v = limits["resume_grace_seconds"] { relay.resumeGraceSeconds = try v.int(in: 0...86_400) }
            if let v = limits["viewer_queue_bytes"] { relay.viewerQueueBytes = try v.int(in: 65536...(1 << 30)) }
            if let v = limits["max_sessions"] { relay.maxSessions = try v.int(in: 1...1_000_000) }
            if let v = limits["max_viewers"] { relay.maxViewersPerSession = try v.int(in: 1...100_000) }
            if let v = limits["tail_bytes"] { relay.tailBytes = try v.int(in: 0...(16 << 20)) }
            if let v = limits["max_frame_bytes"] { relay.maxFrameSize = try v.int(in: 4096...(16 << 20)) }
            if let v = limits["host_queue_bytes"] { relay.hostQueueBytes = try v.int(in: 65536...(1 << 30)) }
            if let v = limits["hello_bytes"] { relay.helloBytes = try v.int(in: 4096...(16 << 20)) }
            if let v = limits["handshake_bytes"] { relay.handshakeBytes = try v.int(in: 0...(1 << 32)) }
            if let v = limits["handshakes_per_address"] { relay.handshakesPerAddress = try v.int(in: 1...1_000_000) }
            if let v = limits["inbound_bytes"] { relay.inboundBytes = try v.int(in: 4096...(1 << 30)) }
            if let v = limits["hello_timeout_seconds"] { relay.helloTimeoutSeconds = try v.int(in: 1...3600) }
        }
    }
}
