// The join client's screen: the session's stream as is when sizes agree, else drawn from a model, clipped or padded.
import SwiftMateCore
import Synchronization

/// A `JoinDisplay` on a `ScreenModel` of the session's size, shown through a `TerminalView`: while the local
/// terminal is the session's size the bytes pass through unchanged (the terminal parses them itself); when it is
/// smaller the visible part is drawn with a notice line, when larger the rest is padded, and each output redraws
/// only the damaged rows. Messages go on the bottom row and what they covered comes back when they go.
public final class ViewerScreen: JoinDisplay, Sendable {
    private struct State {
        var model: ScreenModel
        var view: TerminalView
    }
    private let state: Mutex<State>

    /// A screen for a session of `cols` x `rows` shown on a terminal of `terminal`.
    public init(cols: UInt16 = 80, rows: UInt16 = 24, terminal: (cols: UInt16, rows: UInt16)) {
        let model = ScreenModel(cols: Int(cols), rows: Int(rows), scrollback: 0)
        // When the sizes differ, the first output or keyframe draws the whole view.
        state = Mutex(State(model: model, view: TerminalView(cols: Int(terminal.cols), rows: Int(terminal.rows), showing: model)))
    }

    /// Passes output through (same size) or redraws the rows it changed.
    public func output(_ bytes: [UInt8]) -> [UInt8] {
        state.withLock { s in
            s.model.feed(bytes)
            return s.view.output(bytes, model: &s.model)
        }
    }

    /// Rebuilds the model from the keyframe; passes it through (same size) or draws it.
    public func keyframe(_ k: Keyframe) -> [UInt8] {
        state.withLock { s in
            s.model = ScreenModel(cols: Int(k.cols), rows: Int(k.rows), scrollback: 0)
            s.model.feed(k.bytes)
            return s.view.keyframe(k.bytes, model: &s.model)
        }
    }

    /// The session's size changed.
    public func sessionResized(cols: UInt16, rows: UInt16) -> [UInt8] {
        state.withLock { s in
            guard Int(cols) != s.model.cols || Int(rows) != s.model.rows else { return [] }
            s.model.resize(cols: Int(cols), rows: Int(rows))
            return s.view.resized(terminal: nil, model: &s.model)
        }
    }

    /// The local terminal's size changed.
    public func terminalResized(cols: UInt16, rows: UInt16) -> [UInt8] {
        state.withLock { s in
            s.view.resized(terminal: (Int(cols), Int(rows)), model: &s.model)
        }
    }

    /// Shows `text` on the bottom row (nil takes it away and draws again what it covered).
    public func message(_ text: String?) -> [UInt8] {
        state.withLock { s in s.view.message(text, model: &s.model) }
    }
}
