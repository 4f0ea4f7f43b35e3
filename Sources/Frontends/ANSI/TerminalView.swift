// One terminal's view of a session's screen model: the stream as it is, or drawn clipped or padded; and a message line.
import SwiftMateCore

/// How one terminal (the host's own, a join client's) shows a session's `ScreenModel`, as tmux shows a session
/// to a client of another size. While the terminal is the session's size the stream passes through as it is
/// (the terminal parses it itself); otherwise the view is drawn from the model: padded with dots where the
/// terminal is larger, or the part around the cursor with a notice line where it is smaller.
///
/// A message (a viewer joined, the link was lost) never destroys a line of the session for good: it goes on the
/// terminal's bottom row, which is the margin when the terminal has more rows than the session, and whatever it
/// covered is drawn again from the model when it goes. While the stream is in the middle of an escape sequence
/// or a character, the message waits for the next output that ends between sequences.
///
/// A value owned by whoever owns the model; every call takes the model after it has changed.
struct TerminalView {
    private(set) var viewport: Viewport
    /// Whether the terminal takes the stream as it is (it is the session's size, and was given a full repaint).
    private var passing: Bool
    /// Whether the terminal has a full drawing of the view (while not passing).
    private var drawn = false
    /// The message shown, or to be shown.
    private var message: String?
    /// Whether the terminal is yet to be sent the message's drawing (or, with `message` nil, its removal).
    private var messagePending = false
    /// Whether a message is on the terminal now.
    private var messageShown = false

    /// A view for a terminal of `cols` x `rows`, which shows `m` as it is when the sizes agree (the stream so far
    /// went to it) and is drawn at the next output otherwise.
    init(cols: Int, rows: Int, showing m: ScreenModel) {
        viewport = Viewport(cols: cols, rows: rows)
        passing = m.cols == viewport.cols && m.rows == viewport.rows
    }

    private func sameSize(_ m: ScreenModel) -> Bool { m.cols == viewport.cols && m.rows == viewport.rows }

    /// What the terminal is sent after `m` took `bytes`.
    mutating func output(_ bytes: [UInt8], model m: inout ScreenModel) -> [UInt8] {
        var out = passing ? bytes : draw(&m)
        if messagePending && m.unfinishedSequenceBytes == 0 { out += messageChange(&m) }
        return out
    }

    /// What the terminal is sent after `m` was rebuilt from a keyframe whose bytes were `bytes`.
    mutating func keyframe(_ bytes: [UInt8], model m: inout ScreenModel) -> [UInt8] {
        drawn = false
        messageShown = false
        passing = sameSize(m)
        guard passing else { return draw(&m) }
        _ = m.takeDamage()
        return bytes + (message != nil ? messageChange(&m) : [])
    }

    /// What the terminal is sent after the session's size (`m` was resized), the terminal's, or both changed.
    mutating func resized(terminal: (cols: Int, rows: Int)?, model m: inout ScreenModel) -> [UInt8] {
        if let terminal { viewport = Viewport(cols: terminal.cols, rows: terminal.rows) }
        drawn = false
        messageShown = false
        let wasPassing = passing
        passing = sameSize(m)
        guard passing else { return draw(&m) }
        if wasPassing { return [] } // both changed together: the terminal goes on taking the stream
        // A full keyframe for the terminal to take the stream again (it resets whatever the drawing set).
        return keyframe(ANSIRenderer.keyframe(of: m), model: &m)
    }

    /// Shows `text` (nil takes the message away); what the terminal is sent now (nothing while the stream is in
    /// the middle of a sequence: then the next output carries it).
    mutating func message(_ text: String?, model m: inout ScreenModel) -> [UInt8] {
        guard text != nil || message != nil || messageShown else { return [] }
        message = text
        messagePending = true
        if passing && m.unfinishedSequenceBytes != 0 { return [] }
        return messageChange(&m)
    }

    /// Draws the message, or takes it away by drawing again what it covered.
    private mutating func messageChange(_ m: inout ScreenModel) -> [UInt8] {
        messagePending = false
        if let message {
            messageShown = true
            if passing { _ = m.takeDamage() } // from here on, damage says what the message may have been moved to
            return ANSIRenderer.message(message, over: m, on: passing ? nil : viewport)
        }
        guard messageShown else { return [] }
        messageShown = false
        if passing {
            // Output since may have scrolled the message's row up: every damaged row is drawn again too.
            var rows = Set(m.takeDamage())
            rows.insert(m.rows - 1)
            return ANSIRenderer.redraw(rows: rows.sorted(), of: m)
        }
        drawn = false
        return draw(&m)
    }

    /// The drawing for a terminal of another size: all of it the first time (with the message, if there is
    /// one), then what changed.
    private mutating func draw(_ m: inout ScreenModel) -> [UInt8] {
        if drawn { return ANSIRenderer.update(of: m, damage: m.takeDamage(), on: &viewport) }
        drawn = true
        _ = m.takeDamage()
        var out = ANSIRenderer.repaint(of: m, on: &viewport)
        if let message {
            messagePending = false
            messageShown = true
            out += ANSIRenderer.message(message, over: m, on: viewport)
        }
        return out
    }
}
