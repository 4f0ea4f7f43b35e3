// The `ssh` transport on libssh: the relay is an SSH server (viewers join with plain OpenSSH).
import CLibSSH
import Foundation
import Logging
import SwiftMateCore

/// The `ssh` transport.
///
/// Listening: an SSH server whose host keys live in `Options.stateDirectory` (created on first start).
/// A client that asks for a shell is a viewer whose SSH user name is the session token
/// (`ConnectionKind.terminal`); one that asks for the `swiftmate` subsystem speaks the framed protocol.
/// Threading: libssh runs on threads of its own, never on the cooperative pool: the relay's server on `IOLoop`s (the
/// relay's, or its own, one per core by default), each serving many connections non-blocking; a host's link on the
/// host's loop (`ConnectContext.loop`), after a short-lived thread has connected and authenticated it.
public struct SSHTransport: Transport {
    /// The transport's options (YAML `transports: {ssh: {…}}`).
    public struct Options: Sendable {
        /// Where the relay keeps its host keys.
        public var stateDirectory: String
        /// Host-key fingerprints (`SHA256:…`) a host accepts from its relay.
        public var fingerprints: [String] = []
        /// Seconds a new connection has for key exchange and its channel request.
        public var setupSeconds = 30
        /// Loops serving the relay's SSH connections when the relay gives none (`loops`); nil: one per core.
        public var loops: Int?
        /// Most SSH connections served at once; more are closed at once.
        public var maxConnections = 2000
        /// Most connections one client address may have in key exchange or login at once (`max_setups_per_address`).
        public var maxSetupsPerAddress = 32
        /// Most bytes from the relay a host's link holds unread (`inbound_bytes`); past it the link stops reading.
        public var inboundBytes = ListenContext.defaultInboundBytes
        /// The private key a host proves to a relay that lists its hosts (`identity`); nil: ssh-agent and
        /// `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`, tried only when the relay refuses a login without a key.
        public var identity: String?

        /// Defaults: keys in `$XDG_STATE_HOME/swiftmate` (or `~/.local/state/swiftmate`).
        public init(stateDirectory: String = SSHTransport.defaultStateDirectory) {
            self.stateDirectory = stateDirectory
        }

        /// Reads `{state_dir, fingerprints, setup_timeout, max_connections, max_setups_per_address, identity, inbound_bytes, loops}`.
        public init(_ node: ConfigNode) throws {
            self.init()
            try node.checkKeys(["state_dir", "fingerprints", "setup_timeout", "max_connections", "max_setups_per_address", "identity",
                                "inbound_bytes", "loops"])
            if let l = node["loops"] { loops = try l.int(in: 1...256) }
            if let b = node["inbound_bytes"] { inboundBytes = try b.int(in: 4096...(1 << 30)) }
            if let m = node["max_setups_per_address"] { maxSetupsPerAddress = try m.int(in: 1...100_000) }
            if let i = node["identity"] {
                let path = NSString(string: try i.string()).expandingTildeInPath
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw i.error("cannot read the private key '\(path)'; give the host's SSH private key (e.g. ~/.ssh/id_ed25519)")
                }
                identity = path
            }
            if let m = node["max_connections"] { maxConnections = try m.int(in: 1...100_000) }
            if let d = node["state_dir"] { stateDirectory = try d.string() }
            if let f = node["fingerprints"] { fingerprints = try f.fingerprints() }
            if let t = node["setup_timeout"] { setupSeconds = try t.int(in: 1...600) }
        }
    }

    /// `$XDG_STATE_HOME/swiftmate`, else `~/.local/state/swiftmate`.
    public static var defaultStateDirectory: String {
        let env = ProcessInfo.processInfo.environment
        if let state = env["XDG_STATE_HOME"], !state.isEmpty { return state + "/swiftmate" }
        return (env["HOME"] ?? "/tmp") + "/.local/state/swiftmate"
    }

    /// The options in use.
    public let options: Options
    let logger: Logger

    /// A transport with `options`.
    public init(options: Options = Options(), logger: Logger = Logger(label: "swiftmate.ssh")) {
        self.options = options
        self.logger = logger
        ssh_init()
    }

    /// `ssh`.
    public var name: String { "ssh" }

    /// Viewers log in with a key when the session lists keys (`Connection.publicKey`).
    public var provesPublicKeys: Bool { true }

    /// The relay's host keys (created when missing).
    public func hostKeys() throws -> SSHHostKeys {
        try SSHHostKeys.loadOrCreate(in: options.stateDirectory)
    }

    /// Listens on `endpoint` with the host keys from the state directory; every login is accepted.
    public func listen(on endpoint: Endpoint) async throws -> any Listener {
        try await listen(on: endpoint, context: ListenContext())
    }

    /// Listens on `endpoint` (logging the host-key fingerprints); `context.access` decides which tokens need a
    /// listed public key, and no connection's peer gets more than `context.inboundBytes` ahead of the relay.
    public func listen(on endpoint: Endpoint, context: ListenContext) async throws -> any Listener {
        let keys = try hostKeys()
        for line in keys.lines { logger.info("ssh host key \(line)") }
        return try SSHListener(endpoint: endpoint, keys: keys, options: options, context: context, logger: logger)
    }

    /// Connects to a relay over SSH and opens the `swiftmate` subsystem, checking the relay's host key; the link
    /// runs on a loop of its own.
    public func connect(to endpoint: Endpoint) async throws -> Connection {
        try await connect(to: endpoint, context: ConnectContext())
    }

    /// Like `connect(to:)`; the link runs on `context.loop` when there is one (the host's session loop), and proves
    /// a key (`identity`, ssh-agent or the default key files) when `context.proveKey` says the relay needs one.
    public func connect(to endpoint: Endpoint, context: ConnectContext) async throws -> Connection {
        try await SSHClientConnection.open(endpoint, options: options, context: context)
    }
}
