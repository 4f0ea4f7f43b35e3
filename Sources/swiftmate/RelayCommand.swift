// `swiftmate relay`: run a relay from the command line and/or the `relay:` section of the config.
import ArgumentParser
import Logging
import SwiftMate
import SwiftMateCore
import SwiftMateSSH

struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Run a relay that hosts publish to and viewers join (ssh TOKEN@relay).",
        subcommands: [RelayServeCommand.self, RelayFingerprintsCommand.self],
        defaultSubcommand: RelayServeCommand.self)
}

struct RelayServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve (the default).")

    @Option(name: .customShort("f"), help: ArgumentHelp("Configuration file (its relay: section).", valueName: "config"))
    var config: String?

    @Option(name: .long, help: "Where to listen (ssh://HOST:PORT, tcp://HOST:PORT); repeat for several. Default ssh://127.0.0.1:2222 and tcp://127.0.0.1:7022.")
    var listen: [String] = []

    @Option(name: .long, help: "Directory for the relay's state (SSH host keys).")
    var stateDir: String?

    @Option(name: .long, help: "Host name put in connection strings.")
    var publicHost: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown log level '\(logLevel)'; known: trace, debug, info, notice, warning, error, critical")
        }
        SwiftMateSetup.bootstrapLogging(toStdout: true, level: level)
        let logger = Logger(label: "swiftmate.relay")
        let setup = try SwiftMateSetup.load(configPath: config, sshStateDirectory: stateDir)
        var options = setup.config.relay
        if let publicHost { options.publicHost = publicHost }
        // Resume tickets are signed with a key kept beside the host keys, so a restarted relay takes its hosts back.
        let stateDirectory = stateDir ?? setup.config.stateDir ?? SSHTransport.defaultStateDirectory
        options.resumeTickets = try ResumeTickets(stateDirectory: stateDirectory)
        // Namespaces owned by hosts' keys are kept there too, so a restart keeps who owns what.
        if options.ownedNamespaces { options.namespaceOwners = try NamespaceOwners(stateDirectory: stateDirectory) }
        let relay = try await RelayServer.start(setup: setup, listen: try listen.map { try Endpoint(parsing: $0) }, options: options, logger: logger)
        for e in relay.endpoints { logger.info("listening on \(e)") }
        await relay.wait()
    }
}

struct RelayFingerprintsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprints",
        abstract: "Print the relay's SSH host-key fingerprints (creating the keys if needed), for hosts to pin.",
        discussion: """
            One SHA256:… line per key, as a host's --relay-fingerprint and host.relay_fingerprints take them;             --yaml prints the block to paste into a host's config file.
            """)

    @Option(name: .customShort("f"), help: ArgumentHelp("Configuration file (its relay.state_dir).", valueName: "config"))
    var config: String?

    @Option(name: .long, help: "Directory for the relay's state (SSH host keys).")
    var stateDir: String?

    @Flag(name: .long, help: "Print the host config's YAML block (host.relay_fingerprints).")
    var yaml = false

    func run() async throws {
        let setup = try SwiftMateSetup.load(configPath: config)
        let keys = try SwiftMateSetup.relayHostKeys(stateDirectory: stateDir ?? setup.config.stateDir)
        guard yaml else { return keys.forEach { print($0.fingerprint) } }
        print("host:\n  relay_fingerprints:")
        for key in keys { print("    - \(key.fingerprint)   # \(key.type)") }
    }
}
