// `swiftmate [new-session CMD…]`: share a command (default $SHELL) through a relay, embedded if none is configured.
import ArgumentParser
import Foundation
import Logging
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

/// Wires a host together: config, relay (remote or embedded), PTY runner, relay link, control socket.
enum HostSession {
    static func run(flags: HostFlags, command: [String]?) async throws -> Int32 {
        let interactive = !flags.foreground && LocalTerminal.isInteractive
        Composition.bootstrapLogging(toStdout: flags.foreground, level: interactive ? .critical : .info)
        let logger = Logger(label: "swiftmate")
        let (registry, config) = try Composition.load(configPath: flags.config)

        var relayURL = config.hostRelay
        if let text = flags.relay { relayURL = try Endpoint(parsing: text) }
        var embedded: EmbeddedRelay?
        // The host's link and an embedded relay's connections share one thread (see ThreadExecutor).
        let executor = ThreadExecutor(name: "swiftmate-session", spin: .microseconds(Int64(ProcessInfo.processInfo.environment["SWIFTMATE_SPIN"] ?? "0") ?? 0))
        if relayURL == nil {
            // An embedded relay on loopback: ssh for viewers, tcp for `swiftmate join`. This host links to it
            // in-process (no wire between them, so nothing to encrypt or pin; it saves two socket hops and
            // their threads per keystroke).
            var options = config.relay
            options.publicHost = options.publicHost ?? "127.0.0.1"
            let relay = try await EmbeddedRelay.start(registry: registry, options: options,
                                                      listen: [Endpoint(scheme: "ssh", host: "127.0.0.1", port: 0),
                                                               Endpoint(scheme: "tcp", host: "127.0.0.1", port: 0)],
                                                      logger: Logger(label: "swiftmate.relay"), executor: executor)
            embedded = relay
            relayURL = relay.endpoints.first
        }
        guard let relayURL else { throw ValidationError("no relay URL") }
        let transport: any Transport = try embedded.map { LocalRelayTransport(relay: $0.relay) } ?? registry.transport(relayURL.scheme)
        var hostOptions = HostOptions(relay: relayURL)
        hostOptions.codecs = try flags.codecs.map { try parseCodecs($0, registry: registry) } ?? config.hostCodecs
        // In-process there is no wire to save bytes on: compressing would only cost time (unless asked for).
        if embedded != nil && flags.codecs == nil { hostOptions.codecs = ["none"] }
        hostOptions.reconnect = config.reconnect
        if flags.foreground { hostOptions.sessionOptions["headless"] = "true" }
        if config.recordAtRelay { hostOptions.sessionOptions["record"] = "true" }
        if let file = flags.authorizedKeys ?? config.authorizedKeysFile {
            let path = file.hasPrefix("~/") ? FileManager.default.homeDirectoryForCurrentUser.path + file.dropFirst() : file
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read the authorized_keys file \(path); give an OpenSSH authorized_keys file with -a")
            }
            hostOptions.sessionOptions["authorized_keys"] = try AuthorizedKeys.parse(text, source: path).joined(separator: "\n")
        }

        var environment = ProcessInfo.processInfo.environment
        let shell = environment["SHELL"].flatMap { $0.isEmpty ? nil : $0 } ?? "/bin/sh"
        let commandLine = command ?? config.command ?? [shell]
        if environment["TERM"] == nil || !interactive { environment["TERM"] = environment["TERM"] ?? "xterm-256color" }
        environment["SWIFTMATE"] = "1"
        hostOptions.sessionOptions["term"] = environment["TERM"]
        hostOptions.sessionOptions["command"] = commandLine.joined(separator: " ")
        var frontendChoices = config.frontends
        if let path = flags.record {
            frontendChoices.append(.init(name: "recorder", options: ConfigNode(path: "--record", value: .map([
                (key: "path", value: ConfigNode(path: "--record", value: .scalar(path), file: "command line"))]), file: "command line")))
        }
        let status = HostStatus()
        let hub = FrontendHub(report: { text in await status.log(text) })
        let runner = HostRunner(options: .init(command: commandLine, environment: environment, headless: !interactive,
                                               headlessSize: config.headlessSize, respawn: flags.foreground),
                                frontends: hub)
        let client = HostClient(transport: transport, registry: registry, options: hostOptions, terminal: runner,
                                status: status, frontends: hub, logger: Logger(label: "swiftmate.host"))
        var control: ControlServer?
        if let path = flags.socket {
            control = try ControlServer(path: path) { request in await ControlRequests.answer(request, status: status, frontends: hub) }
        }
        defer { control?.close() }

        let link = Task(executorPreference: executor) { await client.run(size: { runner.size }) }
        // Wait (at most 5 s) for the relay before starting the command: to show the connection strings
        // before the shell takes the screen, as tmate does, to give frontends the session id, and to stop
        // at once when the relay refuses (a host-key mismatch among others).
        await status.waitReady(timeout: .seconds(5))
        if let refusal = await status.refusal {
            link.cancel()
            await embedded?.stop()
            printError("swiftmate: \(refusal)\(config.file == "(defaults)" ? "" : " (config: \(config.file))")")
            return 1
        }
        let snapshot = await status.current()
        if interactive {
            let lines = snapshot.connectionStrings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            runner.printLines(lines.isEmpty ? ["swiftmate: not connected to \(relayURL) yet; see swiftmate -S SOCKET show-messages"] : lines)
        }
        let sessionID = snapshot.sessionID.isEmpty ? "local-\(getpid())" : snapshot.sessionID
        let context = FrontendContext(side: "host", sessionID: sessionID)
        let frontends = try frontendChoices.map { try registry.frontend($0.name, options: $0.options, context: context) }
        hub.start(frontends, injector: ClosureInjector { runner.inject($0) })
        let size = runner.size
        hub.publish(.start(SessionInfo(sessionID: sessionID, cols: size.cols, rows: size.rows, command: commandLine,
                                       environment: environment.filter { ["TERM", "SHELL"].contains($0.key) })))
        logger.debug("starting \(commandLine)")
        let exitStatus = try await runner.run(client: client)
        await hub.finish(exitStatus: exitStatus)
        // Give the link a moment to deliver the end to the relay.
        let grace = Task {
            try? await Task.sleep(for: .seconds(3))
            link.cancel()
        }
        await link.value
        grace.cancel()
        await embedded?.stop()
        return exitStatus
    }

    static func parseCodecs(_ text: String, registry: PluginRegistry) throws -> [String] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names { try registry.requireCodec(name) }
        guard !names.isEmpty else { throw ValidationError("--codecs needs at least one codec") }
        return names
    }
}

/// Answers control-socket requests from the host's status.
enum ControlRequests {
    static func answer(_ request: String, status: HostStatus, frontends: FrontendHub) async -> String {
        if request.hasPrefix("marker ") {
            let label = String(request.dropFirst(7))
            if frontends.isEmpty { return "error: this host has no frontends to mark (start it with --record or host.frontends)\n" }
            frontends.publish(.marker(label))
            return "ok\n"
        }
        switch request.trimmingCharacters(in: .whitespaces) {
        case "show-messages":
            return await status.allMessages().map { $0 + "\n" }.joined()
        case "wait-ready":
            await status.waitReady()
            return "ready\n"
        case "status-json":
            return await status.json() + "\n"
        default:
            return "error: unknown request '\(request)'; known: show-messages, wait-ready, status-json, marker LABEL\n"
        }
    }
}
