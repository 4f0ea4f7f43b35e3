// The screen model's hooks: the host's (fed on the PTY reader's thread) and the join client's display.

/// Turns session output into what the local terminal is sent. The `ansi` module's `ViewerScreen` keeps a
/// screen model: the stream passes through untouched while the sizes agree, and is drawn clipped or padded
/// when they do not.
///
/// Threading: called from the join client's one task, in stream order.
public protocol JoinDisplay: Sendable {
    /// Output from the session; returns the bytes for the terminal.
    func output(_ bytes: [UInt8]) -> [UInt8]
    /// A repaint of the whole screen (on joining, or after falling behind).
    func keyframe(_ keyframe: Keyframe) -> [UInt8]
    /// The session's size changed.
    func sessionResized(cols: UInt16, rows: UInt16) -> [UInt8]
    /// The local terminal's size changed.
    func terminalResized(cols: UInt16, rows: UInt16) -> [UInt8]
    /// Shows `text` on the terminal's bottom row; nil takes it away, drawing again what it covered.
    func message(_ text: String?) -> [UInt8]
}

/// The host's screen model as the terminal side feeds it, and what the host's own terminal shows of it: every
/// output chunk and size change, in order, on the PTY reader's thread (no task hop per keystroke). Each call
/// returns the bytes for the host's terminal: the output as it is while that terminal is the session's size, else
/// the session drawn at its own size from the model (the rest of a larger window marked with dots, the part
/// around the cursor of a smaller one), as tmux shows a session to a client of another size. With no terminal
/// (headless) they return nothing. The `ansi` module's `ANSIFrontend` is one.
///
/// Threading: calls come from the PTY reader, the size policy and the message timer; the caller writes what
/// each returns before the next call's bytes (one lock around the call and the write), so the terminal gets
/// them in the order the model saw them.
public protocol HostScreen: Sendable {
    /// The session starts at `session` size on a host terminal of `terminal` (nil: none).
    func start(session: (cols: UInt16, rows: UInt16), terminal: (cols: UInt16, rows: UInt16)?) -> [UInt8]
    /// Output at stream offset `seq`; must be quick (it runs between PTY reads).
    func output(seq: UInt64, bytes: [UInt8]) -> [UInt8]
    /// The session's size, and the host terminal's (nil: unchanged, or none).
    func resized(session: (cols: UInt16, rows: UInt16), terminal: (cols: UInt16, rows: UInt16)?) -> [UInt8]
    /// Shows `text` on the bottom row of the host's terminal; nil takes it away, drawing again what it covered.
    func message(_ text: String?) -> [UInt8]
}
