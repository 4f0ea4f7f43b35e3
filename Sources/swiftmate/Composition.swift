// The executable's composition: configuration and plugins come from the SwiftMate library; logging is set up here, once.
import Logging
import SwiftMate
import SwiftMateCore

enum Composition {
    /// The built-in plugins plus the configuration checked against them, options bound.
    static func load(configPath: String?, sshStateDirectory: String? = nil) throws -> SwiftMateSetup {
        try SwiftMateSetup.load(configPath: configPath, sshStateDirectory: sshStateDirectory)
    }

    /// Sets up logging once: to stderr normally, to stdout for `-F` (as tmate does).
    static func bootstrapLogging(toStdout: Bool, level: Logger.Level) {
        SwiftMateSetup.bootstrapLogging(toStdout: toStdout, level: level)
    }
}
