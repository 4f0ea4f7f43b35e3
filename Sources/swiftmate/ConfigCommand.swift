// `swiftmate config check FILE` (validate a configuration file against the built-in plugins) and `config convert` (from tmate's).
import ArgumentParser
import SwiftMate
import SwiftMateCore

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Work with configuration files.",
        subcommands: [Check.self, Convert.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check FILE: errors name the key path, the bad value and the allowed ones.")

        @Argument(help: "The YAML file to check.")
        var file: String

        func run() async throws {
            do {
                let config = try SwiftMateConfig.load(path: file, registry: .builtins())
                print("\(file): OK (host relay: \(config.hostRelay?.description ?? "embedded"), relay listens on: \(config.relayListen.isEmpty ? "default" : config.relayListen.map(\.description).joined(separator: ", ")))")
            } catch let error as SwiftMateError {
                printError(error.message)
                throw ExitCode(1)
            }
        }
    }

    struct Convert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "convert",
            abstract: "Print tmate's configuration (~/.tmate.conf) as SwiftMate YAML; what has no SwiftMate meaning is listed in comments.")

        @Argument(help: "The tmate configuration file (default ~/.tmate.conf).")
        var file: String?

        func run() async throws {
            do {
                guard let tmate = try TmateConfig.load(path: file ?? TmateConfig.defaultPath) else { throw ExitCode(1) }
                print(tmate.yaml(), terminator: "")
            } catch let error as SwiftMateError {
                printError("swiftmate: \(error.message)")
                throw ExitCode(1)
            }
        }
    }
}
