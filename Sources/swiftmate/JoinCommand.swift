// `swiftmate join URL`: join a session in this terminal; Enter ~. detaches.
import ArgumentParser
import SwiftMateCore
import SwiftMateSystem

struct JoinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Join a session: swiftmate join tcp://HOST:PORT/TOKEN. Type Enter ~. to detach (~~ sends ~).")

    @Argument(help: "The session URL, tcp://HOST:PORT/TOKEN.")
    var url: String

    @Option(name: .customShort("f"), help: ArgumentHelp("Configuration file.", valueName: "config"))
    var config: String?

    @Option(name: .long, help: "Codecs to offer, preferred first, comma-separated.")
    var codecs: String?

    func run() async throws {
        Composition.bootstrapLogging(toStdout: false, level: .error)
        let setup = try Composition.load(configPath: config)
        let registry = setup.registry
        let endpoint = try Endpoint(parsing: url)
        guard !endpoint.path.isEmpty else {
            throw ValidationError("the URL has no token: expected \(endpoint.scheme)://\(endpoint.host):\(endpoint.port)/TOKEN")
        }
        let transport = try registry.transport(endpoint.scheme)
        let offered = try codecs.map { try HostSession.parseCodecs($0, registry: registry) } ?? setup.config.hostCodecs
        let client = JoinClient(transport: transport, registry: registry, endpoint: endpoint, codecs: offered)
        let runner = JoinRunner()
        do {
            let outcome = try await runner.run(client: client)
            print("\r\n[swiftmate: \(outcome.reason)]")
        } catch let error as SwiftMateError {
            printError("swiftmate: \(error.message)")
            throw ExitCode(error.code == .refused ? 2 : 1)
        }
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileDescriptorIO.writeAll(2, Array((text + "\n").utf8))
}
