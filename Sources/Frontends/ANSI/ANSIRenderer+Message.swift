// A message on a terminal's bottom row, and the rows it covered drawn again, leaving the terminal as the model has it.
import SwiftMateCore

extension ANSIRenderer {
    /// `text` in reverse video on the terminal's bottom row, then the terminal put back as it was: on a terminal
    /// that takes the stream (`viewport` nil) the cursor, pen, charsets and modes of `m`; on a drawn one the
    /// cursor and pen the drawing left. Control characters in `text` (it may come from the network: a peer's
    /// address, a relay's notice) are shown as `?`, so a message can never move the cursor or change modes.
    public static func message(_ text: String, over m: ScreenModel, on viewport: Viewport?) -> [UInt8] {
        let cols = viewport?.cols ?? m.cols, row = (viewport?.rows ?? m.rows) - 1
        var w = ANSIWriter(capacity: cols * 2 + 128)
        w.raw("\u{1b}[?25l\u{1b}[0m")
        w.forgetPen()
        if viewport == nil { w.raw("\u{1b}[?6l\u{1b}[4l\u{1b}(B\u{1b})B\u{0f}") }
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
        w.raw("\u{1b}[?25l\u{1b}[0m\u{1b}[?6l\u{1b}[4l\u{1b}(B\u{1b})B\u{0f}")
        w.forgetPen()
        for y in rows where y >= 0 && y < m.rows {
            w.move(x: 0, y: y)
            let length = m.drawnLength(row: y)
            if length > 0 { drawCells(of: m, row: y, from: 0, to: length, mainScreen: false, into: &w) }
            w.endLineDrawing()
            w.setPen(Pen())
            if length < m.cols { w.raw("\u{1b}[K") }
        }
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
        w.setPen(m.pen)
        w.move(x: m.cursorX - viewport.originX, y: m.cursorY - viewport.originY)
        w.raw(modes(m.modes, including: false))
    }
}
