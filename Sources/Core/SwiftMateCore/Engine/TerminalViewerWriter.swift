// An ssh viewer's output: the session's stream as it is, or drawn for its window when the sizes differ.

/// Turns a terminal (ssh) viewer's queued messages into the bytes its terminal gets. While the window is the
/// session's size the stream goes as it is; otherwise a `JoinDisplay` (a screen model of the viewer's own,
/// started from the relay's keyframe and the output since) draws it clipped or padded, until the sizes agree
/// again. Owned by the viewer's one writer task.
struct TerminalViewerWriter {
    typealias Size = (cols: UInt16, rows: UInt16)
    private let makeDisplay: (@Sendable (Size, Size) -> any JoinDisplay)?
    private var session: Size
    private var window: Size
    private var display: (any JoinDisplay)?
    /// Output before this offset is already on the viewer's screen (drawn from a catch-up).
    private var shownUpTo: UInt64 = 0

    init(window: Size, makeDisplay: (@Sendable (Size, Size) -> any JoinDisplay)?) {
        self.window = window
        self.session = window // until the session's size arrives (the first message)
        self.makeDisplay = makeDisplay
    }

    /// The bytes for `batch`. `catchUp` gives the relay's latest keyframe and the output since, to start a display.
    mutating func bytes(for batch: [Message], catchUp: () -> KeyframeCache.CatchUp) -> [UInt8] {
        var out: [UInt8] = []
        for message in batch {
            switch message {
            case .output(let seq, let bytes):
                guard let fresh = Self.unseen(seq: seq, bytes: bytes, shownUpTo: shownUpTo) else { continue }
                shownUpTo = seq + UInt64(bytes.count)
                out += display?.output(fresh) ?? fresh
            case .keyframe(let k):
                // A repaint resets the screen: everything from its offset on is needed again.
                shownUpTo = k.seq
                out += display?.keyframe(k) ?? k.bytes
            case .resize(let viewer, let cols, let rows) where cols > 0 && rows > 0:
                if viewer == 0 {
                    session = (cols, rows)
                    if let display { out += display.sessionResized(cols: cols, rows: rows) }
                } else {
                    window = (cols, rows)
                    if let display { out += display.terminalResized(cols: cols, rows: rows) }
                }
                out += reconsider(catchUp)
            case .notice(let text):
                out += Array("\r\n[\(text)]\r\n".utf8)
            case .goodbye(let reason, let status):
                // Turned away or removed by the host: the session goes on, so it did not end.
                out += Array("\r\n[swiftmate: \(status == Message.removedStatus ? "" : "session ended: ")\(reason)]\r\n".utf8)
            default:
                break
            }
        }
        return out
    }

    /// The part of output at `seq` after `shownUpTo`; nil when all of it was shown.
    private static func unseen(seq: UInt64, bytes: [UInt8], shownUpTo: UInt64) -> [UInt8]? {
        guard seq + UInt64(bytes.count) > shownUpTo else { return nil }
        return seq >= shownUpTo ? bytes : Array(bytes[Int(shownUpTo - seq)...])
    }

    /// Starts drawing when the sizes come to differ, stops when they agree (the display has then sent a
    /// full repaint for the window, and the stream can go as it is again).
    private mutating func reconsider(_ catchUp: () -> KeyframeCache.CatchUp) -> [UInt8] {
        let same = session.cols == window.cols && session.rows == window.rows
        if same {
            display = nil
            return []
        }
        // A viewer without a terminal size (no pty) gets the stream as it is.
        guard display == nil, window.cols > 0, window.rows > 0, let makeDisplay else { return [] }
        let made = makeDisplay(session, window)
        display = made
        let c = catchUp()
        var out: [UInt8] = []
        if let repaint = c.repaint { out += made.keyframe(repaint) }
        out += made.output(c.bytes)
        shownUpTo = c.seq + UInt64(c.bytes.count)
        return out
    }
}
