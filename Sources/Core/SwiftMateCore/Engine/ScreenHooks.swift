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
}

/// The host's screen model as the terminal side feeds it: every output chunk and size change, in order, on
/// the PTY reader's thread (no task hop per keystroke). The `ansi` module's `ANSIFrontend` is one.
public protocol HostScreen: Sendable {
    /// Output at stream offset `seq`; must be quick (it runs between PTY reads).
    func output(seq: UInt64, bytes: [UInt8])
    /// The session's size.
    func resized(cols: UInt16, rows: UInt16)
}
