// share-command: the smallest embedding of a host. Shares one command (default: python3 -q, a REPL) through an
// embedded relay on 127.0.0.1, prints the join strings, and exits with the command's status.
import Foundation
import SwiftMate

let command = CommandLine.arguments.count > 1 ? Array(CommandLine.arguments.dropFirst()) : ["python3", "-q"]
SwiftMateSetup.bootstrapLogging()
do {
    let setup = try SwiftMateSetup.load(configPath: nil)
    let session = try await SharedSession.connect(SharedSession.Options(command: command), setup: setup)
    say("sharing \(command.joined(separator: " ")) as session \(session.sessionID)")
    for (label, line) in session.connectionStrings.sorted(by: { $0.key < $1.key }) { say("  \(label): \(line)") }
    exit(try await session.run())
} catch {
    FileHandle.standardError.write(Data("share-command: \(error)\n".utf8))
    exit(1)
}

/// Writes a line to standard output at once (no buffering: a parent reading a pipe sees it now).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
