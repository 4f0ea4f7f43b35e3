// The embedding entry point: the built-in plugins, an embedder's own, and a checked configuration.
import Logging
import SwiftMateANSI
import SwiftMateCodecs
import SwiftMateCore
import SwiftMateRecorder
import SwiftMateSSH
import SwiftMateTCP

extension PluginRegistry {
    /// Every built-in plugin under its YAML name: transports `ssh` and `tcp`, codecs `lz4`, `zlib` and
    /// `none`, frontend `recorder`. `sshStateDirectory` is where the ssh transport keeps host keys unless its
    /// YAML section says `state_dir`.
    public static func builtins(sshStateDirectory: String? = nil) -> PluginRegistry {
        var registry = PluginRegistry()
        registry.register(transport: "tcp") { try TCPTransport(options: $0) }
        registry.register(transport: "ssh") { node in
            var options = try SSHTransport.Options(node)
            if let dir = sshStateDirectory, node["state_dir"] == nil { options.stateDirectory = dir }
            return SSHTransport(options: options)
        }
        registry.registerBuiltinCodecs()
        registry.registerRecorder()
        registry.registerANSI()
        return registry
    }
}

/// A registry (built-ins plus the embedder's own plugins) and a configuration checked against it.
///
/// ```swift
/// let setup = try SwiftMateSetup.load(configPath: "host.yaml") { registry in
///     registry.register(frontend: "stats") { options, context in try StatsFrontend(options: options) }
/// }
/// ```
/// A YAML name that is neither built in nor registered fails here, listing the known names.
public struct SwiftMateSetup: Sendable {
    /// The plugins, with the YAML `transports:` and `codecs:` options bound.
    public var registry: PluginRegistry
    /// The checked configuration.
    public var config: SwiftMateConfig

    /// Loads `configPath` (nil: `~/.config/swiftmate/config.yaml` when it exists, else the defaults).
    /// `plugins` registers the embedder's own plugins beside the built-ins (or replaces one by name).
    /// `sshStateDirectory` overrides `relay.state_dir` for the ssh transport's host keys.
    public static func load(configPath: String?, sshStateDirectory: String? = nil,
                            plugins: (inout PluginRegistry) -> Void = { _ in }) throws -> SwiftMateSetup {
        func registry(_ stateDirectory: String?) -> PluginRegistry {
            var registry = PluginRegistry.builtins(sshStateDirectory: stateDirectory)
            plugins(&registry)
            return registry
        }
        let config = try SwiftMateConfig.load(path: configPath, registry: registry(nil))
        var bound = registry(sshStateDirectory ?? config.stateDir)
        bound.bind(codecOptions: config.codecOptions, transportOptions: config.transportOptions)
        return SwiftMateSetup(registry: bound, config: config)
    }

    /// A join client for `url` (`SCHEME://HOST:PORT/TOKEN`) over the transport its scheme names, offering
    /// `codecs` (nil: `host.codecs`). Run it with your own `JoinTerminal` (`client.run(size:input:sizes:terminal:)`), or with
    /// `JoinRunner` from SwiftMateSystem for this process's terminal.
    /// With `reconnect` (the default) a lost link is made again by itself, resuming from the last byte shown.
    public func joinClient(url: String, codecs: [String]? = nil, reconnect: Bool = true) throws -> JoinClient {
        let endpoint = try Endpoint(parsing: url)
        guard !endpoint.path.isEmpty else {
            throw SwiftMateError(.badURL, "the URL has no token: expected \(endpoint.scheme)://\(endpoint.host):\(endpoint.port)/TOKEN")
        }
        let offered = codecs ?? config.hostCodecs
        for name in offered { try registry.requireCodec(name) }
        return JoinClient(transport: try registry.transport(endpoint.scheme), registry: registry, endpoint: endpoint, codecs: offered,
                          reconnect: reconnect)
    }

    /// Sets up logging for the process (call once, first): to stderr, or stdout, at `level` and above.
    public static func bootstrapLogging(toStdout: Bool = false, level: Logger.Level = .warning) {
        LoggingSystem.bootstrap { label in
            var handler = toStdout ? StreamLogHandler.standardOutput(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// The relay's SSH host keys in `stateDirectory` (created when missing): each key's type and `SHA256:…` fingerprint.
    public static func relayHostKeys(stateDirectory: String?) throws -> [(type: String, fingerprint: String)] {
        try SSHTransport(options: .init(stateDirectory: stateDirectory ?? SSHTransport.defaultStateDirectory)).hostKeys().keys
            .map { ($0.type, $0.fingerprint) }
    }
}
