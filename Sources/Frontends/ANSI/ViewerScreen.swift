// The join client's screen: the session's stream as is when sizes agree, else drawn from a model, clipped or padded.
import SwiftMateCore
import Synchronization

/// A `JoinDisplay` on a `ScreenModel` of the session's size. While the local terminal is the session's size
/// the bytes pass through unchanged (the terminal parses them itself); when it is smaller the visible part
/// is drawn with a notice line, when larger the rest is padded, and each output redraws only the damaged rows.
public final class ViewerScreen: JoinDisplay, Sendable {
    private struct State {
        var model: ScreenModel
        var viewport: Viewport
        var drawn = false
        var sameSize: Bool { model.cols == viewport.cols && model.rows == viewport.rows }
    }
    private let state: Mutex<State>

    /// A screen for a session of `cols` x `rows` shown on a terminal of `terminal`.
    public init(cols: UInt16 = 80, rows: UInt16 = 24, terminal: (cols: UInt16, rows: UInt16)) {
        state = Mutex(State(model: ScreenModel(cols: Int(cols), rows: Int(rows), scrollback: 0),
                            viewport: Viewport(cols: Int(terminal.cols), rows: Int(terminal.rows))))
    }

    /// Passes output through (same size) or redraws the rows it changed.
    public func output(_ bytes: [UInt8]) -> [UInt8] {
        state.withLock { s in
            s.model.feed(bytes)
            if s.sameSize { return bytes }
            return Self.draw(&s)
        }
    }

    /// Rebuilds the model from the keyframe; passes it through (same size) or draws it.
    public func keyframe(_ k: Keyframe) -> [UInt8] {
        state.withLock { s in
            s.model = ScreenModel(cols: Int(k.cols), rows: Int(k.rows), scrollback: 0)
            s.model.feed(k.bytes)
            s.drawn = false
            if s.sameSize { return k.bytes }
            return Self.draw(&s)
        }
    }

    /// The session's size changed.
    public func sessionResized(cols: UInt16, rows: UInt16) -> [UInt8] {
        state.withLock { s in
            guard Int(cols) != s.model.cols || Int(rows) != s.model.rows else { return [] }
            let wasSame = s.sameSize
            s.model.resize(cols: Int(cols), rows: Int(rows))
            return Self.switched(&s, wasSame: wasSame)
        }
    }

    /// The local terminal's size changed.
    public func terminalResized(cols: UInt16, rows: UInt16) -> [UInt8] {
        state.withLock { s in
            let wasSame = s.sameSize
            s.viewport = Viewport(cols: Int(cols), rows: Int(rows))
            return Self.switched(&s, wasSame: wasSame)
        }
    }

    /// After a size change: a full keyframe when the sizes now agree (the terminal takes the stream again),
    /// else a repaint of the viewport.
    private static func switched(_ s: inout State, wasSame: Bool) -> [UInt8] {
        s.drawn = false
        if s.sameSize { return wasSame ? [] : ANSIRenderer.keyframe(of: s.model) }
        return draw(&s)
    }

    private static func draw(_ s: inout State) -> [UInt8] {
        if !s.drawn {
            s.drawn = true
            _ = s.model.takeDamage()
            return ANSIRenderer.repaint(of: s.model, on: &s.viewport)
        }
        return ANSIRenderer.update(of: s.model, damage: s.model.takeDamage(), on: &s.viewport)
    }
}
