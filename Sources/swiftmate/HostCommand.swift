// `swiftmate [new-session CMD…]`: share a command (default $SHELL) through a relay, embedded if none is configured.
import ArgumentParser
import Foundation
import Logging
import SwiftMate
import SwiftMateCore
import SwiftMateSSH
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
        do {
            return try await share(flags: flags, command: command)
        } catch let error as SwiftMateError {
            // Not a usage error: what is wrong (a command, a file, a relay) and what to do, on one line.
            printError("swiftmate: \(error.message)")
            return 1
        }
    }

    private static func share(flags: HostFlags, command: [String]?) async throws -> Int32 {
        let interactive = !flags.foreground && LocalTerminal.isInteractive
        var level: Logger.Level = interactive ? .critical : .info
        if let text = flags.logLevel {
            guard let chosen = Logger.Level(rawValue: text) else {
                throw ValidationError("unknown log level '\(text)'; known: trace, debug, info, notice, warning, error, critical")
            }
            level = chosen
        }
        SwiftMateSetup.bootstrapLogging(toStdout: flags.foreground, level: level)
        var setup = try SwiftMateSetup.load(configPath: flags.config)
        // Those moving over from tmate keep their ~/.tmate.conf: what it sets applies where the YAML file is silent.
        if let tmate = try TmateConfig.load() {
            let used = tmate.apply(to: &setup.config)
            if !used.isEmpty || !tmate.ignored.isEmpty {
                let ignored = tmate.ignored.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? $0 }
                printError("swiftmate: read \(tmate.file): " + (used.isEmpty ? "nothing used" : used.joined(separator: "; "))
                           + (ignored.isEmpty ? "" : "; ignored: " + ignored.joined(separator: ", ")
                              + " (swiftmate config convert \(tmate.file) says why)"))
            }
        }
        var options = SharedSession.Options(command: command)
        let relays = try flags.relay.map { try Endpoint(parsing: $0) }
        options.relay = relays.first
        options.fallbackRelays = Array(relays.dropFirst())
        options.interactive = interactive
        options.respawn = flags.foreground && setup.config.foregroundRestart
        options.codecs = try flags.codecs.map(codecList)
        options.authorizedKeysFile = flags.authorizedKeys
        options.apiKey = flags.apiKey
        options.sessionName = flags.sessionName
        options.readOnlyName = flags.readOnlyName
        if flags.approve { options.approveJoiners = true }
        if (flags.sessionName ?? setup.config.sessionName) != nil, (flags.authorizedKeys ?? setup.config.authorizedKeysFile) == nil {
            printError("swiftmate: warning: a named session's connection strings can be guessed from its name; "
                       + "let only your keys join with -a ~/.ssh/authorized_keys (session.authorized_keys)")
        }
        options.recordPath = flags.record
        options.recordOverwrite = flags.overwrite
        options.relayFingerprints = try flags.relayFingerprint.map { text in
            guard let fingerprint = HostKeyFingerprint.parse(text) else {
                throw ValidationError("--relay-fingerprint '\(text)' is not a host-key fingerprint; copy one from `swiftmate relay fingerprints` on the relay (SHA256:…)")
            }
            return fingerprint
        }
        if interactive { options.trustOnFirstUse = { key in TrustPrompt.ask(key) } }
        if let text = flags.sizePolicy {
            guard let policy = SizePolicy(text) else { throw ValidationError("--size-policy '\(text)': expected \(SizePolicy.help)") }
            options.sizePolicy = policy
        }
        options.controlSocket = try flags.socket ?? ControlSockets.defaultPath()
        let session: SharedSession
        do {
            session = try await SharedSession.connect(options, setup: setup)
        } catch let error as SwiftMateError where error.code == .refused {
            let file = setup.config.file
            printError("swiftmate: \(error.message)")
            printError(file == "(defaults)" ? "(no config file in use: \(SwiftMateConfig.defaultPath) does not exist; -f FILE names one)"
                                            : "(config file in use: \(file))")
            return 1
        }
        if interactive {
            let lines = session.connectionStrings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            let recording = session.recordings.map { "recording to \($0) (swiftmate play \($0))" }
            session.printLines((lines.isEmpty ? ["swiftmate: not connected to the relay yet; run swiftmate show-messages (in the shared shell too) to see why"] : lines) + recording)
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

/// Trust on first use, as OpenSSH asks about a host it has never seen: the relay's key, and yes or no.
enum TrustPrompt {
    static func ask(_ key: RelayHostKey) -> Bool {
        printError("""
            The authenticity of relay '\(key.address)' can't be established.
            \(key.type.uppercased()) key fingerprint is \(key.fingerprint).
            Nothing is pinned for it. Check the fingerprint with the relay's operator (`swiftmate relay fingerprints` on the relay).
            """)
        var prompt = "Are you sure you want to trust it and continue connecting (yes/no/[fingerprint])? "
        while true {
            FileDescriptorIO.writeAll(2, Array(prompt.utf8))
            guard let answer = readLine()?.trimmingCharacters(in: .whitespaces) else { return false }
            switch answer.lowercased() {
            case "yes":
                printError("Trusted; its key is kept in \(KnownRelays.defaultPath).")
                return true
            case "no": return false
            default:
                if answer == key.fingerprint { return true }
                prompt = "Please type 'yes', 'no' or the fingerprint: "
            }
        }
    }
}
