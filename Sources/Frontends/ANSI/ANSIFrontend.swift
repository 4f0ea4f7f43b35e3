// The `ansi` frontend: keeps a screen model of the session and renders keyframes of it.
import SwiftMateCore
import Synchronization

/// Follows a session's output in a `ScreenModel` so that a keyframe of the current screen is always at hand
/// (the host answers the relay's keyframe requests with it). YAML: `ansi: {scrollback: 2000}`.
public final class ANSIFrontend: Frontend, Sendable {
    /// The registry name.
    public let name = "ansi"
    private struct State {
        var model: ScreenModel
        /// The stream offset after the last output the model took.
        var seq: UInt64 = 0
    }
    private let state: Mutex<State>
    private let scrollback: Int

    /// A frontend for a session of `cols` x `rows` keeping `scrollback` lines.
    public init(cols: Int = 80, rows: Int = 24, scrollback: Int = 2000) {
        self.scrollback = scrollback
        state = Mutex(State(model: ScreenModel(cols: cols, rows: rows, scrollback: scrollback)))
    }

    /// Nothing to set up.
    public func attach(injector: any InputInjector) async throws {}

    /// Feeds output and sizes into the model.
    public func handle(_ event: SessionEvent) async throws {
        state.withLock { s in Self.apply(event, to: &s, scrollback: scrollback) }
    }

    /// Feeds a batch under one lock.
    public func handle(batch: [SessionEvent]) async throws {
        state.withLock { s in for event in batch { Self.apply(event, to: &s, scrollback: scrollback) } }
    }

    private static func apply(_ event: SessionEvent, to s: inout State, scrollback: Int) {
        switch event {
        case .start(let info):
            s.model.resize(cols: Int(info.cols), rows: Int(info.rows))
        case .output(let seq, let bytes):
            if seq != s.seq && s.seq != 0 {
                // Output was lost on the way here (the queue overflowed): start from a blank screen rather
                // than draw on a wrong one; the next full-screen redraw makes it right again.
                s.model = ScreenModel(cols: s.model.cols, rows: s.model.rows, scrollback: scrollback)
            }
            s.model.feed(bytes)
            s.seq = seq + UInt64(bytes.count)
        case .resize(let cols, let rows):
            s.model.resize(cols: Int(cols), rows: Int(rows))
        default:
            break
        }
    }

    /// The current screen as a keyframe: the stream offset it stands for (everything before it is in it),
    /// the size, and the ANSI bytes.
    public func keyframe() -> Keyframe {
        state.withLock { s in
            // An unfinished escape sequence at the end has not acted yet: the keyframe stands for the stream before it.
            Keyframe(seq: s.seq - UInt64(min(s.model.unfinishedSequenceBytes, Int(s.seq))), cols: UInt16(s.model.cols), rows: UInt16(s.model.rows), bytes: ANSIRenderer.keyframe(of: s.model))
        }
    }

    /// The screen's text, row by row (trailing spaces trimmed).
    public func screenText() -> [String] {
        state.withLock { s in s.model.screenText }
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
