// The `ansi` frontend: keeps a screen model of the session and renders keyframes of it.
import SwiftMateCore
import Synchronization

/// Follows a session's output in a `ScreenModel` so that a keyframe of the current screen is always at hand
/// (the host answers the relay's keyframe requests with it). YAML: `ansi: {scrollback: 2000}`.
///
/// The host's own is also what the host's terminal shows (`HostScreen`): through a `TerminalView`, the stream as
/// it is while that terminal is the session's size, else drawn from this model at the session's size.
///
/// Threading: as a frontend (chosen in YAML), `handle` runs on its one task; the host's own is fed through
/// `HostScreen` on the PTY reader's thread instead. Everything takes one lock, held for one chunk or batch.
public final class ANSIFrontend: Frontend, HostScreen, Sendable {
    /// The registry name.
    public let name = "ansi"
    private struct State {
        var model: ScreenModel
        /// The stream offset after the last output the model took.
        var seq: UInt64 = 0
        /// What the host's terminal shows (nil: no terminal).
        var view: TerminalView?
    }
    private let state: Mutex<State>
    private let scrollback: Int

    /// A frontend for a session of `cols` x `rows` keeping `scrollback` lines (keyframes need none; without it
    /// the model can skip bulk output that scrolls off unseen).
    public init(cols: Int = 80, rows: Int = 24, scrollback: Int = 2000) {
        self.scrollback = scrollback
        state = Mutex(State(model: ScreenModel(cols: cols, rows: rows, scrollback: scrollback)))
    }

    /// Nothing to set up.
    public func attach(injector: any InputInjector) async throws {}

    /// Feeds output and sizes into the model.
    public func handle(_ event: SessionEvent) async throws {
        try await handle(batch: [event])
    }

    /// Feeds a batch under one lock.
    public func handle(batch: [SessionEvent]) async throws {
        state.withLock { s in
            for event in batch {
                switch event {
                case .start(let info): s.model.resize(cols: Int(info.cols), rows: Int(info.rows))
                case .output(let seq, let bytes): feed(seq: seq, bytes: bytes, &s)
                case .resize(let cols, let rows): s.model.resize(cols: Int(cols), rows: Int(rows))
                default: break
                }
            }
        }
    }

    /// The session starts (the `HostScreen` path): what the host's terminal shows of it from now on.
    public func start(session: (cols: UInt16, rows: UInt16), terminal: (cols: UInt16, rows: UInt16)?) -> [UInt8] {
        state.withLock { s in
            s.model.resize(cols: Int(session.cols), rows: Int(session.rows))
            s.view = terminal.map { TerminalView(cols: Int($0.cols), rows: Int($0.rows), showing: s.model) }
            return []
        }
    }

    /// Output straight from the host's PTY reader (the `HostScreen` path); returns what the host's terminal is sent.
    public func output(seq: UInt64, bytes: [UInt8]) -> [UInt8] {
        state.withLock { s in
            feed(seq: seq, bytes: bytes, &s)
            return s.view?.output(bytes, model: &s.model) ?? []
        }
    }

    /// The session's size and the host terminal's (the `HostScreen` path); returns what the host's terminal is sent.
    public func resized(session: (cols: UInt16, rows: UInt16), terminal: (cols: UInt16, rows: UInt16)?) -> [UInt8] {
        state.withLock { s in
            s.model.resize(cols: Int(session.cols), rows: Int(session.rows))
            return s.view?.resized(terminal: terminal.map { (Int($0.cols), Int($0.rows)) }, model: &s.model) ?? []
        }
    }

    /// Shows `text` on the bottom row of the host's terminal, or takes it away (the `HostScreen` path).
    public func message(_ text: String?) -> [UInt8] {
        state.withLock { s in
            s.view?.message(text, model: &s.model) ?? []
        }
    }

    /// Feeds output at `seq`. When output was lost on the way (`seq` is not where the last output ended) it
    /// starts over on a blank screen: drawing on a wrong screen is worse, and the next full-screen redraw
    /// makes it right.
    private func feed(seq: UInt64, bytes: [UInt8], _ s: inout State) {
        if seq != s.seq && s.seq != 0 {
            s.model = ScreenModel(cols: s.model.cols, rows: s.model.rows, scrollback: scrollback)
        }
        s.model.feed(bytes)
        s.seq = seq + UInt64(bytes.count)
    }

    /// The current screen as a keyframe. An unfinished escape sequence at the end has not acted yet, so the
    /// keyframe stands for the stream before it.
    public func keyframe() -> Keyframe {
        state.withLock { s in
            Keyframe(seq: s.seq - UInt64(min(s.model.unfinishedSequenceBytes, Int(s.seq))), cols: UInt16(s.model.cols),
                     rows: UInt16(s.model.rows), bytes: ANSIRenderer.keyframe(of: s.model))
        }
    }

    /// The screen's text, row by row (trailing spaces trimmed).
    public func screenText() -> [String] {
        state.withLock { $0.model.screenText }
    }
}

extension PluginRegistry {
    /// Registers the `ansi` frontend (`ansi: {scrollback: LINES}`). The host always keeps one for keyframes;
    /// naming it in `host.frontends` adds another, e.g. for an embedder to read the screen.
    public mutating func registerANSI() {
        @Sendable func scrollback(_ node: ConfigNode) throws -> Int {
            if case .map = node.value {
                try node.checkKeys(["scrollback"])
                return try node["scrollback"]?.int(in: 0...100_000) ?? 2000
            }
            return 2000
        }
        register(frontend: "ansi", check: { _ = try scrollback($0) }) { node, _ in
            ANSIFrontend(scrollback: try scrollback(node))
        }
    }
}
