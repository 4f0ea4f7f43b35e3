// The composition root: the one place that knows the concrete plugins and builds the registry.
import Logging
import SwiftMateCodecs
import SwiftMateCore
import SwiftMateRecorder
import SwiftMateSSH
import SwiftMateTCP

enum Composition {
    /// Every built-in plugin under its YAML name. `sshStateDirectory` (`--state-dir`, `relay.state_dir`)
    /// is where the ssh transport keeps host keys unless its YAML section says `state_dir`.
    static func registry(sshStateDirectory: String? = nil) -> PluginRegistry {
        var registry = PluginRegistry()
        registry.register(transport: "tcp") { try TCPTransport(options: $0) }
        registry.register(transport: "ssh") { node in
            var options = try SSHTransport.Options(node)
            if let dir = sshStateDirectory, node["state_dir"] == nil { options.stateDirectory = dir }
            return SSHTransport(options: options)
        }
        registry.registerBuiltinCodecs()
        registry.registerRecorder()
        return registry
    }

    /// The registry plus the configuration that was checked against it, options bound. The relay's
    /// `state_dir` (unless `sshStateDirectory` overrides it) is where the ssh transport keeps host keys.
    static func load(configPath: String?, sshStateDirectory: String? = nil) throws -> (PluginRegistry, SwiftMateConfig) {
        let config = try SwiftMateConfig.load(path: configPath, registry: registry())
        var registry = registry(sshStateDirectory: sshStateDirectory ?? config.stateDir)
        registry.bind(codecOptions: config.codecOptions, transportOptions: config.transportOptions)
        return (registry, config)
    }

    /// The relay's host-key fingerprints in `stateDirectory` (created when missing), as `TYPE SHA256:…` lines.
    static func fingerprints(stateDirectory: String?) throws -> SSHHostKeys {
        try SSHTransport(options: .init(stateDirectory: stateDirectory ?? SSHTransport.defaultStateDirectory)).hostKeys()
    }

    /// Sets up logging once: to stderr normally, to stdout for `-F` (as tmate does).
    static func bootstrapLogging(toStdout: Bool, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = toStdout ? StreamLogHandler.standardOutput(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
