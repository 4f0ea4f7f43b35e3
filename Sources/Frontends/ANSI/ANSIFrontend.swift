// The `ansi` frontend: keeps a screen model of the session and renders keyframes of it.
import SwiftMateCore
import Synchronization

/// Follows a session's output in a `ScreenModel` so that a keyframe of the current screen is always at hand
/// (the host answers the relay's keyframe requests with it). YAML: `ansi: {scrollback: 2000}`.
///
/// Threading: as a frontend (chosen in YAML), `handle` runs on its one task; the host's own is fed through
/// `HostScreen` on the PTY reader's thread instead; `requestKeyframe` and `requestRow` may be called from anywhere.
public final class ANSIFrontend: Frontend, HostScreen, Sendable {
    /// The registry name.
    public let name = "ansi"
    /// The model and its stream offset. Only the frontend's task feeds it (outside the lock, so a keyframe
    /// request never waits for a long batch); `busy` says it is doing so, and then nobody else touches it.
    private final class Screen: @unchecked Sendable {
        var model: ScreenModel
        /// The stream offset after the last output the model took.
        var seq: UInt64 = 0
        init(model: ScreenModel) { self.model = model }
    }
    private struct State {
        var busy = false
        /// Reads of the model asked for while it was busy: run when the batch is done.
        var waiting: [@Sendable (ScreenModel, UInt64) -> Void] = []
    }
    private let screen: Screen
    private let state = Mutex(State())
    private let scrollback: Int

    /// A frontend for a session of `cols` x `rows` keeping `scrollback` lines (keyframes need none; without it
    /// the model can skip bulk output that scrolls off unseen).
    public init(cols: Int = 80, rows: Int = 24, scrollback: Int = 2000) {
        self.scrollback = scrollback
        screen = Screen(model: ScreenModel(cols: cols, rows: rows, scrollback: scrollback))
    }

    /// Nothing to set up.
    public func attach(injector: any InputInjector) async throws {}

    /// Feeds output and sizes into the model.
    public func handle(_ event: SessionEvent) async throws {
        try await handle(batch: [event])
    }

    /// Feeds a batch, then answers the keyframe requests that came meanwhile.
    public func handle(batch: [SessionEvent]) async throws {
        state.withLock { $0.busy = true }
        for event in batch { apply(event) }
        state.withLock { s in
            s.busy = false
            for read in s.waiting { read(screen.model, screen.seq) }
            s.waiting = []
        }
    }

    /// Runs `read` on the model now, or (while a batch is being fed) when the batch is done; never waits.
    private func whenIdle(_ read: @escaping @Sendable (ScreenModel, UInt64) -> Void) {
        state.withLock { s in
            if s.busy { s.waiting.append(read) } else { read(screen.model, screen.seq) }
        }
    }

    /// Output straight from the host's PTY reader (the `HostScreen` path), under the lock.
    public func output(seq: UInt64, bytes: UnsafeRawBufferPointer) {
        state.withLock { _ in
            takeOutput(seq: seq) { screen.model.feed(bytes) }
            screen.seq = seq + UInt64(bytes.count)
        }
    }

    /// The session's size (the `HostScreen` path).
    public func resized(cols: UInt16, rows: UInt16) {
        state.withLock { _ in screen.model.resize(cols: Int(cols), rows: Int(rows)) }
    }

    /// Starts over on a blank screen when output was lost on the way (a gap in the offsets), then feeds.
    private func takeOutput(seq: UInt64, _ feed: () -> Void) {
        if seq != screen.seq && screen.seq != 0 {
            // Drawing on a wrong screen is worse than a blank one; the next full-screen redraw makes it right.
            screen.model = ScreenModel(cols: screen.model.cols, rows: screen.model.rows, scrollback: scrollback)
        }
        feed()
    }

    private func apply(_ event: SessionEvent) {
        switch event {
        case .start(let info):
            screen.model.resize(cols: Int(info.cols), rows: Int(info.rows))
        case .output(let seq, let bytes):
            takeOutput(seq: seq) { screen.model.feed(bytes) }
            screen.seq = seq + UInt64(bytes.count)
        case .resize(let cols, let rows):
            screen.model.resize(cols: Int(cols), rows: Int(rows))
        default:
            break
        }
    }

    /// Asks for a keyframe of the current screen: `deliver` gets it now, or, while the frontend is feeding a
    /// batch, as soon as that is done (the caller never waits for the model). `deliver` must not block.
    public func requestKeyframe(_ deliver: @escaping @Sendable (Keyframe) -> Void) {
        whenIdle { m, seq in
            // An unfinished escape sequence at the end has not acted yet: the keyframe stands for the stream before it.
            deliver(Keyframe(seq: seq - UInt64(min(m.unfinishedSequenceBytes, Int(seq))), cols: UInt16(m.cols),
                             rows: UInt16(m.rows), bytes: ANSIRenderer.keyframe(of: m)))
        }
    }

    /// Asks for the bytes that redraw row `row` (0-based) where the cursor is, to its end (a blank line past the
    /// screen's last row): how the host puts back the line a message covered. `deliver` must not block.
    public func requestRow(_ row: Int, _ deliver: @escaping @Sendable ([UInt8]) -> Void) {
        whenIdle { m, _ in deliver(ANSIRenderer.row(row, of: m)) }
    }

    /// The current screen as a keyframe (waits while a batch is being fed).
    public func keyframe() async -> Keyframe {
        await withCheckedContinuation { continuation in requestKeyframe { continuation.resume(returning: $0) } }
    }

    /// The screen's text, row by row (trailing spaces trimmed).
    public func screenText() async -> [String] {
        await withCheckedContinuation { continuation in whenIdle { m, _ in continuation.resume(returning: m.screenText) } }
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
