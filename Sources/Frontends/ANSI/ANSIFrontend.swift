// The `ansi` frontend: keeps a screen model of the session and renders keyframes of it.
import SwiftMateCore
import Synchronization

/// Follows a session's output in a `ScreenModel` so that a keyframe of the current screen is always at hand
/// (the host answers the relay's keyframe requests with it). YAML: `ansi: {scrollback: 2000}`.
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

    /// Output straight from the host's PTY reader (the `HostScreen` path).
    public func output(seq: UInt64, bytes: [UInt8]) {
        state.withLock { feed(seq: seq, bytes: bytes, &$0) }
    }

    /// The session's size (the `HostScreen` path).
    public func resized(cols: UInt16, rows: UInt16) {
        state.withLock { $0.model.resize(cols: Int(cols), rows: Int(rows)) }
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

    /// The bytes that redraw row `row` (0-based) where the cursor is, to its end (a blank line past the
    /// screen's last row): how the host puts back the line a message covered.
    public func row(_ row: Int) -> [UInt8] {
        state.withLock { ANSIRenderer.row(row, of: $0.model) }
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
