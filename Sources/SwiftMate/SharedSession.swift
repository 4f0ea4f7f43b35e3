// A host in-process: a command on a PTY shared through a relay (remote, or embedded on 127.0.0.1).
import Foundation
import Logging
import SwiftMateANSI
import SwiftMateCore
import SwiftMateRecorder
import SwiftMateSSH
import SwiftMateSystem

/// One shared command: what `swiftmate` runs, and what an embedder runs to share a command of its own.
///
/// ```swift
/// let setup = try SwiftMateSetup.load(configPath: nil)
/// let session = try await SharedSession.connect(.init(command: ["python3"]), setup: setup)
/// for (label, line) in session.connectionStrings { print("\(label): \(line)") }
/// let status = try await session.run()   // until the command exits
/// ```
/// `connect` links to the relay (starting an embedded one when none is configured) and waits until the
/// connection strings are known; `run` starts the command and returns its exit status.
public final class SharedSession: Sendable {
    /// How to share.
    public struct Options: Sendable {
        /// The command line; nil: `host.command`, else `$SHELL`.
        public var command: [String]?
        /// Relays tried in turn when `relay` cannot be reached (the same transport; `--relay` given more than once).
        public var fallbackRelays: [Endpoint] = []
        /// The relay; nil: `host.relay`, else an embedded relay on 127.0.0.1 (ssh and tcp, free ports).
        public var relay: Endpoint?
        /// Pass the local terminal through (raw mode, output mirrored). False: headless.
        public var interactive = false
        /// Start the command again when it exits (`-F`).
        public var respawn = false
        /// Codecs to offer, preferred first; nil: `host.codecs` (`none` for an embedded relay).
        public var codecs: [String]?
        /// Only the keys in this OpenSSH authorized_keys file may join; nil: `session.authorized_keys`.
        public var authorizedKeysFile: String?
        /// The API key sent to a relay that lists its hosts, or that gives named sessions a namespace; nil: `host.api_key`.
        public var apiKey: String?
        /// A named session (tmate's `-n`): tokens `NAMESPACE/NAME`, stable across restarts; nil: `session.name`.
        public var sessionName: String?
        /// Its read-only name (tmate's `-r`); nil: `session.read_only_name`, else a random read-only token.
        public var readOnlyName: String?
        /// Joiners wait until the host lets them in (`--approve`); nil: `session.approve_joiners`.
        public var approveJoiners: Bool?
        /// Record to this asciicast file (adds a `recorder` frontend).
        public var recordPath: String?
        /// Let `recordPath` replace an existing file.
        public var recordOverwrite = false
        /// How the session's size follows the host's terminal and the read-write viewers; nil: `session.size_policy`.
        public var sizePolicy: SizePolicy?
        /// A control socket for `show-messages`, `status`, `marker` (nil: none).
        public var controlSocket: String?
        /// Host-key fingerprints pinned for an ssh relay, besides `host.relay_fingerprints`,
        /// `transports.ssh.fingerprints` and the relay's lines in `knownRelaysFile`.
        public var relayFingerprints: [String] = []
        /// Relays trusted on first use (`HOST:PORT SHA256:… TYPE` lines); nil: `~/.config/swiftmate/known_relays`.
        public var knownRelaysFile: String?
        /// Asked about an ssh relay nothing is pinned for (with `host.trust_on_first_use`): true trusts its key,
        /// which is then kept in the known relays file. Nil: such a relay is refused, with the key it presented.
        public var trustOnFirstUse: (@Sendable (RelayHostKey) async -> Bool)?
        /// Frontends given as instances, beside the ones `host.frontends` names.
        public var frontends: [any Frontend] = []
        /// The command's environment; nil: this process's. `TERM` defaults to xterm-256color.
        public var environment: [String: String]?

        /// Options to share `command` (nil: the configured command or `$SHELL`).
        public init(command: [String]? = nil) {
            self.command = command
        }
    }

    /// What viewers type to join, by label (`ssh session`, `ssh session read only`, `tcp session`, …).
    public let connectionStrings: [String: String]
    /// The session's id at the relay (`local-PID` if the relay was not reached in time).
    public let sessionID: String
    /// The files the host's recorders write (`--record`, `host.frontends`).
    public let recordings: [String]
    /// The host's status: messages, viewers, connection strings.
    public let status: HostStatus

    private let runner: HostRunner
    private let client: HostClient
    private let hub: FrontendHub
    private let link: Task<Void, Never>
    private let embedded: RelayServer?
    private let control: ControlServer?
    private let startFrontends: @Sendable () throws -> Void

    private init(connectionStrings: [String: String], sessionID: String, recordings: [String], status: HostStatus, runner: HostRunner,
                 client: HostClient, hub: FrontendHub, link: Task<Void, Never>, embedded: RelayServer?, control: ControlServer?,
                 startFrontends: @escaping @Sendable () throws -> Void) {
        self.connectionStrings = connectionStrings
        self.sessionID = sessionID
        self.recordings = recordings
        self.status = status
        self.runner = runner
        self.client = client
        self.hub = hub
        self.link = link
        self.embedded = embedded
        self.control = control
        self.startFrontends = startFrontends
    }

    /// Links to the relay and waits (at most 5 s) for the connection strings. Throws `refused` with the
    /// relay's reason (a host-key mismatch among others) without starting anything.
    public static func connect(_ options: Options, setup: SwiftMateSetup,
                               logger: Logger = Logger(label: "swiftmate.host")) async throws -> SharedSession {
        let config = setup.config, registry = setup.registry
        for name in options.codecs ?? [] { try registry.requireCodec(name) }
        // Everything that can be checked is checked before a relay is started or contacted, so that nothing is
        // shared (and no connection string printed) for a session that cannot run.
        let (commandLine, environment) = command(options, config: config)
        try CommandLookup.check(commandLine, environment: environment)
        try checkNames(options, config: config)
        let choices = frontendChoices(options, config: config)
        for choice in choices { try registry.requireFrontend(choice.name, options: choice.options, at: choice.options) }
        let prepared = Prepared(commandLine: commandLine, environment: environment, frontendChoices: choices)
        var relayURL = options.relay ?? config.hostRelay
        var embedded: RelayServer?
        // One loop for the session: the host's link (its tasks and, over ssh, its socket) and an embedded relay's
        // connections (their tasks and their sockets) all run on this thread.
        let loop = try IOLoop(name: "swiftmate-session")
        if relayURL == nil {
            // An embedded relay on loopback: ssh for viewers, tcp for `swiftmate join`. The host links to it
            // in-process (no wire between them, so nothing to encrypt or pin).
            var relayOptions = config.relay
            relayOptions.publicHost = relayOptions.publicHost ?? "127.0.0.1"
            let relay = try await RelayServer.start(registry: registry, options: relayOptions,
                                                    listen: [Endpoint(scheme: "ssh", host: "127.0.0.1", port: 0),
                                                             Endpoint(scheme: "tcp", host: "127.0.0.1", port: 0)],
                                                    logger: Logger(label: "swiftmate.relay"), executor: loop,
                                                    loops: IOLoopGroup(loops: [loop]))
            embedded = relay
            relayURL = relay.endpoints.first
        }
        guard let relayURL else { throw SwiftMateError(.badURL, "no relay URL") }
        do {
            return try await connect(options, prepared, setup: setup, relayURL: relayURL, embedded: embedded, loop: loop,
                                     logger: logger)
        } catch {
            await embedded?.stop()
            throw error
        }
    }

    /// A named session's names, as the relay will check them (so a bad one stops the host before anything is shared).
    private static func checkNames(_ options: Options, config: SwiftMateConfig) throws {
        let name = options.sessionName ?? config.sessionName, readOnly = options.readOnlyName ?? config.readOnlyName
        if let name, let problem = SessionNames.problem(withQualified: name) { throw SwiftMateError(.badConfig, problem + " (-n NAME)") }
        if let readOnly {
            if let problem = SessionNames.problem(withQualified: readOnly, what: "the read-only name") {
                throw SwiftMateError(.badConfig, problem + " (-r RONAME)")
            }
            guard name != nil else { throw SwiftMateError(.badConfig, "a read-only name (-r) needs a session name (-n NAME) too") }
            guard readOnly != name else { throw SwiftMateError(.badConfig, "the read-only name must differ from the session name (-r RONAME, -n NAME)") }
        }
    }

    /// What the checks before sharing worked out, used as it is from then on.
    private struct Prepared {
        var commandLine: [String]
        var environment: [String: String]
        var frontendChoices: [SwiftMateConfig.FrontendChoice]
    }

    private static func connect(_ options: Options, _ prepared: Prepared, setup: SwiftMateSetup, relayURL: Endpoint,
                                embedded: RelayServer?, loop: IOLoop, logger: Logger) async throws -> SharedSession {
        let config = setup.config, registry = setup.registry
        var transport: any Transport = try embedded.map { LocalRelayTransport(relay: $0.relay) } ?? registry.transport(relayURL.scheme)
        var hostOptions = HostOptions(relay: relayURL)
        if embedded == nil {
            hostOptions.fallbackRelays = options.relay == nil ? config.hostFallbackRelays : options.fallbackRelays
            if let other = hostOptions.fallbackRelays.first(where: { $0.scheme != relayURL.scheme }) {
                throw SwiftMateError(.badURL, "the relays given are over \(relayURL.scheme) and \(other.scheme); give relays of one transport")
            }
        }
        // In-process there is no wire to save bytes on: compressing would only cost time (unless asked for).
        hostOptions.codecs = options.codecs ?? (embedded != nil ? ["none"] : config.hostCodecs)
        hostOptions.reconnect = config.reconnect
        hostOptions.replayBytes = config.replayBytes
        hostOptions.loop = loop
        if !options.interactive { hostOptions.sessionOptions["headless"] = "true" }
        if config.recordAtRelay { hostOptions.sessionOptions["record"] = "true" }
        if let key = options.apiKey ?? config.apiKey { hostOptions.sessionOptions["api_key"] = key }
        if let name = options.sessionName ?? config.sessionName { hostOptions.sessionOptions[SessionNames.nameOption] = name }
        if let name = options.readOnlyName ?? config.readOnlyName { hostOptions.sessionOptions[SessionNames.readOnlyNameOption] = name }
        if options.approveJoiners ?? config.approveJoiners { hostOptions.sessionOptions[JoinApproval.option] = "true" }
        if let file = options.authorizedKeysFile ?? config.authorizedKeysFile {
            let path = file.hasPrefix("~/") ? FileManager.default.homeDirectoryForCurrentUser.path + file.dropFirst() : file
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw SwiftMateError(.badConfig, "cannot read the authorized_keys file \(path); give an OpenSSH authorized_keys file")
            }
            hostOptions.sessionOptions["authorized_keys"] = try AuthorizedKeys.parse(text, source: path).joined(separator: "\n")
        }
        // Last of the checks: this may ask the user about the relay's key (trust on first use).
        if let ssh = transport as? SSHTransport {
            transport = try await pinned(ssh, relay: relayURL, options: options, config: config)
        }

        let (commandLine, environment, frontendChoices) = (prepared.commandLine, prepared.environment, prepared.frontendChoices)
        hostOptions.sessionOptions["term"] = environment["TERM"]
        hostOptions.sessionOptions["command"] = commandLine.joined(separator: " ")

        // The host's screen model: keyframes for late joiners and resynchronised viewers.
        // (Fed on the PTY reader's thread, not through the frontend hub: no task wake-up per keystroke.)
        let screen = ANSIFrontend(scrollback: 0)
        hostOptions.keyframes = { screen.keyframe() }
        let status = HostStatus()
        let hub = FrontendHub(report: { text in await status.log(text) })
        let runner = HostRunner(options: .init(command: commandLine, environment: environment, headless: !options.interactive,
                                               headlessSize: config.headlessSize, respawn: options.respawn,
                                               sizePolicy: options.sizePolicy ?? config.sizePolicy,
                                               screen: screen, loop: loop),
                                frontends: hub)
        let client = HostClient(transport: transport, registry: registry, options: hostOptions, terminal: runner,
                                status: status, frontends: hub, logger: logger)
        let control = try options.controlSocket.map { path in
            try ControlServer(path: path) { request in
                await ControlRequests.answer(request, status: status, frontends: hub) { client.upstream.pushAlways($0) }
            }
        }
        let link = Task(executorPreference: loop) { await client.run(size: { runner.size }) }
        // Wait for the relay before starting the command: to show the connection strings before the shell
        // takes the screen, as tmate does, to give frontends the session id, and to stop at once on refusal.
        await status.waitReady(timeout: .seconds(5))
        if let refusal = await status.refusal {
            link.cancel()
            control?.close()
            throw SwiftMateError(.refused, refusal)
        }
        let snapshot = await status.current()
        let sessionID = snapshot.sessionID.isEmpty ? "local-\(getpid())" : snapshot.sessionID
        let context = FrontendContext(side: "host", sessionID: sessionID)
        let given = options.frontends
        let facts = environment.filter { ["TERM", "SHELL"].contains($0.key) }
        // Made now, before the caller prints the connection strings: a recording that cannot be made stops here.
        let built: [any Frontend]
        do {
            built = try frontendChoices.map { try registry.frontend($0.name, options: $0.options, context: context) }
        } catch {
            link.cancel()
            control?.close()
            throw error
        }
        let recordings = built.compactMap { ($0 as? AsciicastRecorder)?.path }
        let start: @Sendable () throws -> Void = {
            hub.start(built + given, injector: ClosureInjector { runner.inject($0) })
            let size = runner.size
            hub.publish(.start(SessionInfo(sessionID: sessionID, cols: size.cols, rows: size.rows, command: commandLine,
                                           environment: facts)))
        }
        return SharedSession(connectionStrings: snapshot.connectionStrings, sessionID: sessionID, recordings: recordings, status: status,
                             runner: runner, client: client, hub: hub, link: link, embedded: embedded, control: control, startFrontends: start)
    }

    /// The command line to share and its environment.
    private static func command(_ options: Options, config: SwiftMateConfig) -> ([String], [String: String]) {
        var environment = options.environment ?? ProcessInfo.processInfo.environment
        let shell = environment["SHELL"].flatMap { $0.isEmpty ? nil : $0 } ?? "/bin/sh"
        let commandLine = options.command ?? config.command ?? [shell]
        if environment["TERM"] == nil || !options.interactive { environment["TERM"] = environment["TERM"] ?? "xterm-256color" }
        environment["SWIFTMATE"] = "1"
        // As tmux's $TMUX: `swiftmate show-messages` (status, marker…) inside the shared shell finds this host.
        environment[ControlSockets.environmentVariable] = options.controlSocket
        return (commandLine, environment)
    }

    /// The frontends `host.frontends` names, and a recorder for `--record`.
    private static func frontendChoices(_ options: Options, config: SwiftMateConfig) -> [SwiftMateConfig.FrontendChoice] {
        var choices = config.frontends
        if let path = options.recordPath {
            var entries = [(key: "path", value: ConfigNode(path: "--record", value: .scalar(path), file: "command line"))]
            if options.recordOverwrite {
                entries.append((key: "overwrite", value: ConfigNode(path: "--overwrite", value: .scalar("true"), file: "command line")))
            }
            choices.append(.init(name: "recorder", options: ConfigNode(path: "--record", value: .map(entries), file: "command line")))
        }
        return choices
    }

    /// `ssh` with every fingerprint pinned for `relay`: the flags', the config's and known_relays'. When there are
    /// none, an interactive host is asked about the key the relay presents (trust on first use), before anything
    /// is shared; a key it trusts is kept in known_relays.
    private static func pinned(_ ssh: SSHTransport, relay: Endpoint, options: Options, config: SwiftMateConfig) async throws -> SSHTransport {
        var known = try KnownRelays(path: options.knownRelaysFile ?? KnownRelays.defaultPath)
        let pinned = ssh.pinning(config.relayFingerprints + options.relayFingerprints + known.fingerprints(host: relay.host, port: relay.port))
        guard pinned.options.fingerprints.isEmpty, config.trustOnFirstUse, let ask = options.trustOnFirstUse else { return pinned }
        let key = try await pinned.presentedKey(relay)
        guard await ask(key) else {
            throw SwiftMateError(.refused, "the relay \(key.address) was not trusted; nothing was shared. \(key.notPinned)")
        }
        try known.add(key)
        return pinned.pinning([key.fingerprint])
    }

    /// Runs the command (again and again with `respawn`) until it exits, then ends the session (viewers
    /// see the end, frontends finish) and returns the exit status. Call it once.
    public func run() async throws -> Int32 {
        defer { control?.close() }
        let exitStatus: Int32
        do {
            try startFrontends()
            exitStatus = try await runner.run(client: client)
        } catch {
            link.cancel()
            await embedded?.stop()
            throw error
        }
        await hub.finish(exitStatus: exitStatus)
        // Give the link a moment to deliver the end to the relay.
        let link = self.link
        let grace = Task {
            try? await Task.sleep(for: .seconds(3))
            link.cancel()
        }
        await link.value
        grace.cancel()
        // An embedded relay's viewers get the end of the session before this process may exit.
        await embedded?.finish(within: .seconds(3))
        return exitStatus
    }

    /// Asks the command to end (SIGHUP, as when its terminal goes away); `run` then returns.
    public func stop() {
        runner.stop()
    }

    /// Prints lines on the local terminal (before `run`: the connection strings in interactive mode).
    public func printLines(_ lines: [String]) {
        runner.printLines(lines)
    }
}
