// The host's terminal side: the command on a PTY, the local terminal passed through, output to the relay link.
import Foundation
import Glibc
import Logging
import SwiftMateCore
import Synchronization

/// Runs the shared command on a PTY and connects it to the local terminal (unless headless) and to
/// a `HostClient`'s upstream. The PTY and the host's own keystrokes are read, and the local terminal written, on the
/// session's loop (`Options.loop`), without waiting.
public final class HostRunner: HostTerminal, Sendable {
    /// How the runner behaves.
    public struct Options: Sendable {
        /// The command line to share.
        public var command: [String]
        /// The command's environment.
        public var environment: [String: String]
        /// No local terminal (`-F`): output only goes to the relay; log lines go to stdout.
        public var headless: Bool
        /// The session size when there is no local terminal, until a viewer sets one.
        public var headlessSize: (cols: UInt16, rows: UInt16)
        /// Start the command again when it exits (`-F`), instead of ending the session.
        public var respawn: Bool
        /// How the session's size follows the host's terminal and the read-write viewers.
        public var sizePolicy: SizePolicy
        /// How long a message stays on the bottom line.
        public var messageSeconds = 3.0
        /// The host's screen model, fed each output chunk on the session's loop and each size change where it
        /// happens; it also says what the local terminal is sent (the session drawn at its own size when the
        /// terminal's differs).
        public var screen: (any HostScreen)?
        /// The session's loop: the PTY is read there, and the local terminal written from there.
        public var loop: IOLoop

        /// Options for a command.
        public init(command: [String], environment: [String: String], headless: Bool,
                    headlessSize: (cols: UInt16, rows: UInt16) = (80, 24), respawn: Bool = false, sizePolicy: SizePolicy = .smallest,
                    screen: (any HostScreen)? = nil, loop: IOLoop) {
            self.loop = loop
            self.command = command
            self.environment = environment
            self.headless = headless
            self.headlessSize = headlessSize
            self.respawn = respawn
            self.sizePolicy = sizePolicy
            self.screen = screen
        }
    }

    private struct State {
        var pty: PTYProcess?
        /// Decides the session's size (`sizer.size` is the size the PTY has).
        var sizer: SessionSizer
        var stopping = false
        /// The host's answer keys while viewers wait (`JoinApproval`).
        var approval = ApprovalKeys()
        /// The question on the bottom line while viewers wait (it comes back after other messages go).
        var question: String?
        /// The line that stays while the relay is away.
        var linkLine: String?
        /// What the bottom line shows when no message does.
        var standing: String? { question ?? linkLine }
    }

    private let options: Options
    private let state: Mutex<State>
    /// The local terminal, written without waiting.
    private let terminal: TerminalOutput
    private let messages = TimedMessage()
    private let input: CommandInput
    private let frontends: FrontendHub?
    private let logger: Logger

    /// A runner; nothing starts until `run`. Output, input and size changes are published to `frontends`.
    public init(options: Options, frontends: FrontendHub? = nil, logger: Logger = Logger(label: "swiftmate.host")) {
        self.options = options
        self.frontends = frontends
        self.logger = logger
        let terminalSize = options.headless ? nil : (LocalTerminal.size() ?? options.headlessSize)
        let sizer = SessionSizer(policy: options.sizePolicy, hostSize: terminalSize, headlessSize: options.headlessSize)
        state = Mutex(State(sizer: sizer))
        input = CommandInput(limit: 4096)
        terminal = TerminalOutput(loop: options.loop)
    }

    /// The session's current window size.
    public var size: (cols: UInt16, rows: UInt16) { state.withLock { $0.sizer.size } }

    // MARK: HostTerminal

    /// Queues viewer keystrokes for the PTY (written by the input thread).
    public func writeToCommand(_ bytes: [UInt8], viewer: UInt32) {
        frontends?.publish(.input(viewer: viewer, bytes: bytes))
        input.write(bytes)
    }

    /// Queues keystrokes from a frontend (not published back to the frontends as input).
    public func inject(_ bytes: [UInt8]) {
        input.write(bytes)
    }

    /// A read-write viewer's window size (the relay sends no read-only ones): the size policy decides.
    public func viewerResized(viewer: UInt32, cols: UInt16, rows: UInt16) {
        resize { $0.viewerResized(viewer, cols: cols, rows: rows) }
    }

    /// A viewer left: its size no longer counts.
    public func viewerLeft(viewer: UInt32) {
        resize { $0.viewerLeft(viewer) }
    }

    /// Applies an event to the size policy; when the size it gives changes, the PTY, the screen model, the
    /// relay and the frontends get the new one. With `terminal` (the local terminal's new size) the local
    /// terminal is drawn again for it, whether or not the session's size changed.
    private func resize(terminal: (cols: UInt16, rows: UInt16)? = nil, _ event: (inout SessionSizer) -> Void) {
        let (pty, size, changed) = state.withLock { s -> (PTYProcess?, (cols: UInt16, rows: UInt16), Bool) in
            let before = s.sizer.size
            event(&s.sizer)
            return (s.pty, s.sizer.size, s.sizer.size != before)
        }
        guard changed || terminal != nil else { return }
        if changed { pty?.resize(cols: size.cols, rows: size.rows) }
        if let screen = options.screen { display { screen.resized(session: size, terminal: terminal) } }
        guard changed else { return }
        upstream?.pushAlways(.resize(cols: size.cols, rows: size.rows))
        frontends?.publish(.resize(cols: size.cols, rows: size.rows))
    }

    /// Shows `text` on the bottom line of the local terminal (like tmate's status message) for `messageSeconds`;
    /// what it covered is drawn again from the screen model when it goes. Nothing when headless.
    public func showMessage(_ text: String) {
        guard !options.headless, LocalTerminal.isInteractive else { return }
        guard let screen = options.screen else {
            writeStdout(LocalTerminal.statusLine(text, row: LocalTerminal.size()?.rows ?? size.rows))
            return
        }
        messages.show(text, for: options.messageSeconds) { [self] shown in
            // When a message goes, a standing line (a question for the host, the relay away) takes its place.
            display { screen.message(shown ?? state.withLock { $0.standing }) }
        }
    }

    /// Viewers wait for the host to let them in: the question about the first stays on the bottom line until it is
    /// answered, and Ctrl-] y / Ctrl-] n answer it (`ApprovalKeys`). Headless, only the control socket answers.
    public func waitingViewers(_ waiting: [ViewerDescription]) {
        let question = waiting.first.map { "swiftmate: " + JoinApproval.question($0) + (waiting.count > 1 ? " (\(waiting.count) waiting)" : "") }
        let standing = state.withLock { s -> String?? in
            s.approval.waitingChanged(waiting.map(\.id))
            guard s.question != question else { return .none }
            s.question = question
            return .some(s.standing)
        }
        if let standing { showStanding(standing) }
    }

    /// While the relay is away, one line stays on the bottom row saying so (`text`); nil takes it away.
    public func linkStatus(_ text: String?) {
        let standing = state.withLock { s -> String?? in
            guard s.linkLine != text else { return .none }
            s.linkLine = text
            return .some(s.standing)
        }
        if let standing { showStanding(standing) }
    }

    /// Draws the line that stays (nil: none) in place of any message.
    private func showStanding(_ text: String?) {
        guard !options.headless, LocalTerminal.isInteractive, let screen = options.screen else { return }
        messages.hold { [self] in display { screen.message(text) } }
    }

    /// Writes what `draw` returns to the local terminal, with the terminal's lock held across both: what the screen
    /// model says to send reaches the terminal in the order the model saw it.
    private func display(_ draw: () -> [UInt8]) {
        terminal.write(draw)
    }

    /// Prints lines on the local terminal as ordinary text (before raw mode: the connection strings).
    public func printLines(_ lines: [String]) {
        let nl = LocalTerminal.isInteractive ? "\r\n" : "\n"
        writeStdout(Array(lines.map { $0 + nl }.joined().utf8))
    }

    private func writeStdout(_ bytes: [UInt8]) {
        terminal.write { bytes }
    }

    /// Ends the session as a closed terminal does: SIGHUP to the command's process group (an interactive
    /// shell ignores SIGTERM, not SIGHUP), SIGKILL if it is still there `grace` later; no respawn.
    public func stop(grace: Duration = .seconds(3)) {
        let pty = state.withLock { s -> PTYProcess? in
            s.stopping = true
            return s.pty
        }
        guard let pty else { return }
        pty.signal(SIGHUP)
        pty.signal(SIGCONT)
        Task.detached {
            try? await Task.sleep(for: grace)
            if self.state.withLock({ $0.pty === pty }) { pty.signal(SIGKILL) }
        }
    }

    private let upstreamBox = Mutex<OutboundQueue<HostUpstream>?>(nil)
    private var upstream: OutboundQueue<HostUpstream>? { upstreamBox.withLock { $0 } }

    // MARK: Running

    /// Runs the command (again and again with `respawn`) with output going to `client`, and returns
    /// the exit status of the last run once the end has been handed to the client.
    public func run(client: HostClient) async throws -> Int32 {
        upstreamBox.withLock { $0 = client.upstream }
        let interactive = !options.headless && LocalTerminal.isInteractive
        if interactive { LocalTerminal.enterRawMode() }
        defer { if interactive { LocalTerminal.restore() } }
        defer { self.terminal.drain() } // first: what the session showed reaches the terminal before it is restored
        // Where the connection strings left the host's cursor: the session's stream starts with as many line
        // feeds (the local terminal, which is there already, is not sent them), so that the host's terminal, the
        // model, viewers and recordings agree from the first byte; viewers never see the strings themselves.
        var lead: [UInt8] = []
        let initial = size, terminal = interactive ? LocalTerminal.size() : nil
        if interactive {
            let (row, typed) = LocalTerminal.cursorRow()
            if !typed.isEmpty { input.write(typed) }
            if let row {
                if let terminal, terminal == initial { lead = [UInt8](repeating: 0x0A, count: min(row, Int(initial.rows) - 1)) }
            } else {
                writeStdout(Array("\u{1b}[H\u{1b}[2J".utf8)) // no answer: start both on a blank screen
            }
        }
        if let screen = options.screen { display { screen.start(session: initial, terminal: terminal) } }
        let signals = SignalWatcher(interactive: interactive) { [self] event in
            switch event {
            case .windowChanged:
                if let s = LocalTerminal.size() { resize(terminal: s) { $0.hostResized(cols: s.cols, rows: s.rows) } }
            case .terminate:
                stop()
            }
        }
        defer { signals.cancel() }
        if interactive { watchKeyboard() }
        defer { if interactive { unwatchKeyboard() } }

        var status: Int32 = 0
        var seq: UInt64 = 0 // offset in the output stream, continued across respawns
        repeat {
            (status, seq) = try await runOnce(client: client, mirror: interactive, seq: seq, lead: lead)
            lead = []
            let stopping = state.withLock { $0.stopping }
            if stopping || !options.respawn { break }
            logger.info("the command exited with status \(status); starting it again (-F)")
            try? await Task.sleep(for: .milliseconds(200))
        } while true
        input.close()
        client.finish(exitStatus: status)
        return status
    }

    /// Runs the command once; returns its exit status and the stream offset after its output. `lead` goes into
    /// the stream first, to everything but the local terminal.
    private func runOnce(client: HostClient, mirror: Bool, seq startSeq: UInt64, lead: [UInt8]) async throws -> (Int32, UInt64) {
        let size = self.size
        let pty = try PTYProcess(command: options.command, environment: options.environment, cols: size.cols, rows: size.rows)
        state.withLock { $0.pty = pty }
        input.attach(pty)
        let upstream = client.upstream
        let frontends = self.frontends
        let screen = options.screen
        let logger = self.logger
        let loop = options.loop
        /// One chunk of the session's output, to everyone: relay, local terminal (with `mirror`), model, frontends.
        /// On the loop; false when the local terminal is behind (the reader then waits for it).
        @Sendable func publish(_ bytes: [UInt8], seq: UInt64, mirror: Bool, reader: PTYReader?) -> Bool {
            if case .overflowed(let dropped) = upstream.push(.output(seq: seq, bytes: bytes)) {
                logger.warning("the relay link fell behind; \(dropped) bytes of output were not sent")
            }
            frontends?.publish(.output(seq: seq, bytes: bytes))
            // The model and the local terminal once the loop's jobs have run: a keystroke's echo goes to the relay
            // (and, embedded, through it to the viewers) before the host's own terminal is drawn. After the upstream
            // push, so a keyframe never stands for output the relay has not been sent; in order, as the loop runs
            // deferred work in the order it came.
            loop.afterJobs {
                if let screen {
                    if mirror { self.display { screen.output(seq: seq, bytes: bytes) } } else { _ = screen.output(seq: seq, bytes: bytes) }
                } else if mirror {
                    self.writeStdout(bytes)
                }
            }
            guard let reader else { return true }
            return !self.terminal.isBehind(onCaughtUp: { reader.resume() })
        }
        let (status, endSeq): (Int32, UInt64) = await withCheckedContinuation { continuation in
            loop.execute {
                if !lead.isEmpty { _ = publish(lead, seq: startSeq, mirror: false, reader: nil) }
                let reader = PTYReader(pty: pty, loop: loop, seq: startSeq + UInt64(lead.count), publish: { bytes, seq, reader in
                    publish(bytes, seq: seq, mirror: mirror, reader: reader)
                }, onEnd: { seq in
                    // The output has ended; the command's exit is waited for off the loop.
                    let waiter = Thread { continuation.resume(returning: (pty.waitForExit(), seq)) }
                    waiter.name = "swiftmate-pty-exit"
                    waiter.start()
                })
                reader.start()
            }
        }
        state.withLock { $0.pty = nil }
        input.attach(nil)
        pty.closeMaster()
        return (status, endSeq)
    }

    /// The host's own keystrokes, read on the session's loop when the terminal has some (it never waits: the loop
    /// reads only what is there); they stop at the terminal's end.
    private func watchKeyboard() {
        let loop = options.loop
        loop.execute { [self] in
            loop.watch(0, for: .readable) { [self] _ in
                // Readable: the read returns what is there at once (the terminal's descriptor blocks, so no EAGAIN).
                guard let read = FileDescriptorIO.read(0) else { return loop.unwatch(0) } // the terminal is gone
                // While viewers wait, Ctrl-] y / n answer them instead of reaching the command.
                let (typed, answers) = state.withLock { $0.approval.typed(read) }
                for answer in answers {
                    switch answer {
                    case .admit(let id): upstream?.pushAlways(.admit(viewer: id))
                    case .deny(let id): upstream?.pushAlways(.kick(viewer: id, reason: ""))
                    }
                }
                guard !typed.isEmpty else { return }
                frontends?.publish(.input(viewer: 0, bytes: typed))
                input.write(typed)
            }
        }
    }

    private func unwatchKeyboard() {
        let loop = options.loop
        loop.execute { loop.unwatch(0) }
    }
}
