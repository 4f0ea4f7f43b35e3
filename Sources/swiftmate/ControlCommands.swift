// `show-messages`, `wait-ready`, `status --json`, `marker`: ask a running host through its control socket (-S).
import ArgumentParser
import SwiftMateCore
import SwiftMateSystem

/// The control socket option these commands need.
struct SocketFlag: ParsableArguments {
    @Option(name: .customShort("S"), help: ArgumentHelp("The host's control socket (as given to the host with -S).", valueName: "socket"))
    var socket: String
}

private func ask(_ request: String, _ flag: SocketFlag) throws -> String {
    do {
        return try ControlClient.send(request, to: flag.socket)
    } catch let error as SwiftMateError {
        printError("swiftmate: \(error.message)")
        throw ExitCode(1)
    }
}

struct ShowMessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-messages", abstract: "Print the host's log, connection strings included.")
    @OptionGroup var flag: SocketFlag
    func run() async throws { print(try ask("show-messages", flag), terminator: "") }
}

struct WaitReadyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait-ready", abstract: "Wait until the host is connected to its relay.")
    @OptionGroup var flag: SocketFlag
    func run() async throws { _ = try ask("wait-ready", flag) }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Print the host's status: connection strings, viewers.")
    @OptionGroup var flag: SocketFlag
    @Flag(name: .long, help: "Print JSON (the only format for now).")
    var json = false
    func run() async throws { print(try ask("status-json", flag), terminator: "") }
}

struct MarkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "marker",
        abstract: "Put a named marker in the host's recordings (an asciicast `m` event; swiftmate play -m pauses there).")
    @OptionGroup var flag: SocketFlag
    @Argument(help: "The marker's label.")
    var label: String
    func validate() throws {
        guard !label.contains("\n"), label.utf8.count <= 1000 else { throw ValidationError("a marker label is one line of at most 1000 bytes") }
    }
    func run() async throws {
        let answer = try ask("marker " + label, flag)
        if answer.hasPrefix("error:") {
            printError("swiftmate: \(answer.dropFirst(7).trimmingCharacters(in: .whitespacesAndNewlines))")
            throw ExitCode(1)
        }
    }
}
