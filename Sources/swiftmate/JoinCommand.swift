// `swiftmate join URL`: join a session in this terminal; Enter ~. detaches.
import ArgumentParser
import SwiftMate
import SwiftMateANSI
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
        SwiftMateSetup.bootstrapLogging(toStdout: false, level: .error)
        let setup = try SwiftMateSetup.load(configPath: config)
        let client: JoinClient
        do {
            client = try setup.joinClient(url: url, codecs: try codecs.map(HostSession.codecList))
        } catch let error as SwiftMateError {
            throw ValidationError(error.message)
        }
        // Draws the session clipped or padded when this terminal is not the session's size.
        let runner = JoinRunner(screen: LocalTerminal.isInteractive ? ViewerScreen(terminal: LocalTerminal.size() ?? (80, 24)) : nil)
        do {
            let outcome = try await runner.run(client: client)
            print("\r\n[swiftmate: \(outcome.reason)]")
            if outcome.removed { throw ExitCode(2) }
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
