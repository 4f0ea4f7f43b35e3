// `swiftmate [new-session CMD…]`: share a command (default $SHELL) through a relay, embedded if none is configured.
import ArgumentParser
import Foundation
import Logging
import SwiftMate
import SwiftMateCore
import SwiftMateSystem

struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Share $SHELL through the configured relay, or an embedded one on 127.0.0.1 (the default command).")

    @OptionGroup var flags: HostFlags

    func run() async throws {
        let status = try await HostSession.run(flags: flags, command: nil)
        throw ExitCode(status)
    }
}

struct NewSessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-session",
        abstract: "Share CMD (default $SHELL) as tmate new-session does.")

    @OptionGroup var flags: HostFlags

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    var command: [String] = []

    func run() async throws {
        if let first = command.first, ["-h", "--help"].contains(first) { throw CleanExit.helpRequest(self) }
        let status = try await HostSession.run(flags: flags, command: command.isEmpty ? nil : command)
        throw ExitCode(status)
    }
}

/// The host from the command line: flags → `SharedSession.Options`; the library does the wiring.
enum HostSession {
    static func run(flags: HostFlags, command: [String]?) async throws -> Int32 {
        let interactive = !flags.foreground && LocalTerminal.isInteractive
        SwiftMateSetup.bootstrapLogging(toStdout: flags.foreground, level: interactive ? .critical : .info)
        let setup = try SwiftMateSetup.load(configPath: flags.config)
        var options = SharedSession.Options(command: command)
        options.relay = try flags.relay.map { try Endpoint(parsing: $0) }
        options.interactive = interactive
        options.respawn = flags.foreground
        options.codecs = try flags.codecs.map(codecList)
        options.authorizedKeysFile = flags.authorizedKeys
        options.apiKey = flags.apiKey
        options.recordPath = flags.record
        if let text = flags.sizePolicy {
            guard let policy = SizePolicy(text) else { throw ValidationError("--size-policy '\(text)': expected \(SizePolicy.help)") }
            options.sizePolicy = policy
        }
        do {
            options.controlSocket = try flags.socket ?? ControlSockets.defaultPath()
        } catch let error as SwiftMateError {
            throw ValidationError(error.message)
        }
        let session: SharedSession
        do {
            session = try await SharedSession.connect(options, setup: setup)
        } catch let error as SwiftMateError where error.code == .refused {
            let file = setup.config.file
            printError("swiftmate: \(error.message)\(file == "(defaults)" ? "" : " (config: \(file))")")
            return 1
        } catch let error as SwiftMateError {
            throw ValidationError(error.message)
        }
        if interactive {
            let lines = session.connectionStrings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            session.printLines(lines.isEmpty ? ["swiftmate: not connected to the relay yet; run swiftmate show-messages (in the shared shell too) to see why"] : lines)
        }
        return try await session.run()
    }

    /// `--codecs a,b`: the names in order (SharedSession and JoinClient check them against the registry).
    static func codecList(_ text: String) throws -> [String] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !names.isEmpty else { throw ValidationError("--codecs needs at least one codec") }
        return names
    }
}
