// A message on a terminal's bottom row, and the rows it covered drawn again, leaving the terminal as the model has it.
import SwiftMateCore

extension ANSIRenderer {
    /// Origin and insert modes off, ASCII in G0 and G1: what drawing at absolute positions needs on a terminal
    /// whose modes the stream set (the model's are put back after).
    static let streamModesOff = "\u{1b}[?6l\u{1b}[4l\u{1b}(B\u{1b})B\u{0f}"

    /// `text` in reverse video on the terminal's bottom row, then the terminal put back as it was: on a terminal
    /// that takes the stream (`viewport` nil) the cursor, pen, charsets and modes of `m`; on a drawn one the
    /// cursor and pen the drawing left. Control characters in `text` (it may come from the network: a peer's
    /// address, a relay's notice) are shown as `?`, so a message can never move the cursor or change modes.
    public static func message(_ text: String, over m: ScreenModel, on viewport: Viewport?) -> [UInt8] {
        let cols = viewport?.cols ?? m.cols, row = (viewport?.rows ?? m.rows) - 1
        var w = ANSIWriter(capacity: cols * 2 + 128)
        w.raw("\u{1b}[?25l\u{1b}[0m")
        w.forgetPen()
        if viewport == nil { w.raw(streamModesOff) }
        w.move(x: 0, y: row)
        var reverse = Pen()
        reverse.attributes = .inverse
        w.setPen(reverse)
        // One column short of the edge, so the terminal never wraps or scrolls.
        let shown = " \(text) ".unicodeScalars.map { $0.isTerminalControl ? "?" : $0 }
        w.raw(String(String.UnicodeScalarView(shown.prefix(max(0, cols - 1)))))
        w.setPen(Pen())
        w.raw("\u{1b}[K")
        restore(m, viewport: viewport, into: &w)
        return w.bytes
    }

    /// Rows `rows` of `m` drawn again at their own position on a terminal of `m`'s size that takes the stream
    /// (what a message covered, or scrolled up), then its cursor, pen, charsets and modes put back.
    public static func redraw(rows: [Int], of m: ScreenModel) -> [UInt8] {
        var w = ANSIWriter(capacity: rows.count * m.cols * 2 + 128)
        w.raw("\u{1b}[?25l\u{1b}[0m" + streamModesOff)
        w.forgetPen()
        // The terminal is the model's size: the viewport's own row drawing, at origin 0.
        let whole = Viewport(cols: m.cols, rows: m.rows)
        for y in rows where y >= 0 && y < m.rows { drawViewportRow(y, of: m, viewport: whole, into: &w) }
        restore(m, viewport: nil, into: &w)
        return w.bytes
    }

    /// Puts the terminal back as `m` has it (a terminal that takes the stream) or as the drawing left it.
    private static func restore(_ m: ScreenModel, viewport: Viewport?, into w: inout ANSIWriter) {
        guard let viewport else {
            placeCursor(of: m, into: &w, origin: m.modes.origin)
            w.raw(charsets(g0: m.g0, g1: m.g1, shifted: m.shifted))
            w.setPen(m.pen)
            w.raw(modes(m.modes, including: true))
            return
        }
        finish(m, viewport: viewport, into: &w)
    }
}
