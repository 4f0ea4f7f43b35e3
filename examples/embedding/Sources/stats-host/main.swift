// stats-host: shares a command like `swiftmate -F new-session`, with the `stats` frontend registered beside the
// built-ins so YAML can choose it. Usage: stats-host [-f CONFIG] [-S SOCKET] [--check] [COMMAND…]
import Foundation
import StatsFrontend
import SwiftMate
import SwiftMateCore

var arguments = Array(CommandLine.arguments.dropFirst())
var configPath: String?
var socket: String?
var checkOnly = false
while let first = arguments.first, first.hasPrefix("-") {
    arguments.removeFirst()
    switch first {
    case "-f": configPath = arguments.isEmpty ? nil : arguments.removeFirst()
    case "-S": socket = arguments.isEmpty ? nil : arguments.removeFirst()
    case "--check": checkOnly = true
    case "--": break
    default:
        FileHandle.standardError.write(Data("stats-host: unknown option \(first); usage: stats-host [-f CONFIG] [-S SOCKET] [--check] [COMMAND…]\n".utf8))
        exit(2)
    }
    if first == "--" { break }
}

SwiftMateSetup.bootstrapLogging()
do {
    // The built-ins plus `stats`: an unknown name in the YAML fails here, listing both.
    let setup = try SwiftMateSetup.load(configPath: configPath) { $0.registerStats() }
    if checkOnly {
        say("\(setup.config.file): OK (frontends: \(setup.config.frontends.map(\.name).joined(separator: ", ")))")
        exit(0)
    }
    var options = SharedSession.Options(command: arguments.isEmpty ? nil : arguments)
    options.controlSocket = socket
    let session = try await SharedSession.connect(options, setup: setup)
    for (label, line) in session.connectionStrings.sorted(by: { $0.key < $1.key }) { say("\(label): \(line)") }
    exit(try await session.run())
} catch let error as SwiftMateError {
    FileHandle.standardError.write(Data("stats-host: \(error.message)\n".utf8))
    exit(1)
}

/// Writes a line to standard output at once (no buffering: a parent reading a pipe sees it now).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
