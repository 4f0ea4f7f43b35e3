// The composition root: the one place that knows the concrete plugins and builds the registry.
import Logging
import SwiftMateCodecs
import SwiftMateCore
import SwiftMateRecorder
import SwiftMateTCP

enum Composition {
    /// Every built-in plugin under its YAML name.
    static func registry() -> PluginRegistry {
        var registry = PluginRegistry()
        registry.register(transport: "tcp") { try TCPTransport(options: $0) }
        registry.registerBuiltinCodecs()
        registry.registerRecorder()
        return registry
    }

    /// The registry plus the configuration that was checked against it, options bound.
    static func load(configPath: String?) throws -> (PluginRegistry, SwiftMateConfig) {
        var registry = registry()
        let config = try SwiftMateConfig.load(path: configPath, registry: registry)
        registry.bind(codecOptions: config.codecOptions, transportOptions: config.transportOptions)
        return (registry, config)
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
