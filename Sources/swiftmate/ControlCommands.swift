// `show-messages`, `wait-ready`, `status`, `marker`: ask a running host through its control socket.
import ArgumentParser
import Foundation
import SwiftMateCore
import SwiftMateSystem

/// The control socket option these commands take. Without it: `$SWIFTMATE_SOCKET` (set inside a shared shell), else
/// the one host running for this user.
struct SocketFlag: ParsableArguments {
    @Option(name: .customShort("S"), help: ArgumentHelp(
        "The host's control socket (as given to the host with -S). Default: $SWIFTMATE_SOCKET inside a shared shell, else the only host running for this user (in $TMPDIR/swiftmate-UID).",
        valueName: "socket"))
    var socket: String?
}

/// Sends `request` to the host `flag` names and returns its answer; a failure is one line on stderr and exit 1.
func askHost(_ request: String, _ flag: SocketFlag) throws -> String {
    do {
        let path = try ControlSockets.resolve(explicit: flag.socket) { path in
            guard let json = try? ControlClient.send("status-json", to: path),
                  let snapshot = try? JSONDecoder().decode(HostStatus.Snapshot.self, from: Data(json.utf8)) else { return "" }
            return "   session \(snapshot.sessionID) on \(snapshot.relay), \(snapshot.viewers.count) viewer(s)"
        }
        return try ControlClient.send(request, to: path)
    } catch let error as SwiftMateError {
        printError("swiftmate: \(error.message)")
        throw ExitCode(1)
    }
}

/// Sends `request`, whose answer is `ok` or `error: WHY`; an error is one line on stderr and exit 1.
func tellHost(_ request: String, _ flag: SocketFlag) throws {
    let answer = try askHost(request, flag)
    if answer.hasPrefix("error:") {
        printError("swiftmate: \(answer.dropFirst(7).trimmingCharacters(in: .whitespacesAndNewlines))")
        throw ExitCode(1)
    }
}

struct ShowMessagesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show-messages", abstract: "Print the host's log, connection strings included.")
    @OptionGroup var flag: SocketFlag
    func run() async throws { print(try askHost("show-messages", flag), terminator: "") }
}

struct WaitReadyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait-ready", abstract: "Wait until the host is connected to its relay.")
    @OptionGroup var flag: SocketFlag
    func run() async throws { _ = try askHost("wait-ready", flag) }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status",
        abstract: "Print the host's status: relay, connection strings, viewers (--json: as JSON).")
    @OptionGroup var flag: SocketFlag
    @Flag(name: .long, help: "Print JSON (for scripts).")
    var json = false
    func run() async throws {
        let answer = try askHost("status-json", flag)
        guard !json else { return print(answer, terminator: "") }
        guard let snapshot = try? JSONDecoder().decode(HostStatus.Snapshot.self, from: Data(answer.utf8)) else {
            printError("swiftmate: the host's answer was not a status: \(answer.prefix(200))")
            throw ExitCode(1)
        }
        print(snapshot.summary.joined(separator: "\n"))
    }
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
        try tellHost("marker " + label, flag)
    }
}
