// Drawing a screen model on a terminal of another size: clipped (with a notice line) or padded.
import SwiftMateCore

/// Where a session of one size is shown on a terminal of another, and what is drawn around it.
public struct Viewport: Sendable, Equatable {
    /// The terminal's size.
    public var cols: Int
    /// The terminal's size.
    public var rows: Int
    /// First session column shown.
    public var originX = 0
    /// First session row shown.
    public var originY = 0

    /// A terminal of `cols` x `rows` (each capped at 1000: a peer's window size must not make the drawing huge).
    public init(cols: Int, rows: Int) {
        self.cols = max(1, min(cols, 1000))
        self.rows = max(1, min(rows, 1000))
    }

    /// Whether the session does not fit (a notice line is then kept at the bottom).
    func clips(_ m: ScreenModel) -> Bool { m.cols > cols || m.rows > rows }

    /// Rows of the terminal that show session rows.
    func sessionRows(_ m: ScreenModel) -> Int { clips(m) ? max(1, min(m.rows, rows - 1)) : m.rows }

    /// Moves the origin so the cursor is visible; returns whether it moved.
    mutating func follow(_ m: ScreenModel) -> Bool {
        let visibleCols = min(m.cols, cols), visibleRows = min(m.rows, sessionRows(m))
        var x = min(originX, m.cols - visibleCols), y = min(originY, m.rows - visibleRows)
        if m.cursorX < x { x = m.cursorX } else if m.cursorX >= x + visibleCols { x = m.cursorX - visibleCols + 1 }
        if m.cursorY < y { y = m.cursorY } else if m.cursorY >= y + visibleRows { y = m.cursorY - visibleRows + 1 }
        defer { originX = x; originY = y }
        return x != originX || y != originY
    }
}

extension ANSIRenderer {
    /// A full repaint of `m` on a terminal described by `viewport`: the part of the session that fits
    /// (padded with dim dots where the terminal is larger), a notice line when it does not fit, then
    /// the cursor and the modes keys depend on. The origin follows the cursor.
    public static func repaint(of m: ScreenModel, on viewport: inout Viewport) -> [UInt8] {
        _ = viewport.follow(m)
        var w = ANSIWriter(capacity: viewport.cols * viewport.rows * 2 + 256)
        // What the stream may have left set on a terminal that took it until now: scroll region, autowrap off,
        // and the modes and charsets `streamModesOff` resets.
        w.raw("\u{1b}[?25l\u{1b}[0m\u{1b}[r\u{1b}[?7h" + streamModesOff)
        w.forgetPen()
        for row in 0..<viewport.rows { drawViewportRow(row, of: m, viewport: viewport, into: &w) }
        finish(m, viewport: viewport, into: &w)
        return w.bytes
    }

    /// What changed since the last repaint or update: the damaged rows (all of them when the origin had to
    /// move to follow the cursor), then the cursor and key modes.
    public static func update(of m: ScreenModel, damage: [Int], on viewport: inout Viewport) -> [UInt8] {
        if viewport.follow(m) { return repaint(of: m, on: &viewport) }
        var w = ANSIWriter(capacity: 4096)
        w.raw("\u{1b}[?25l")
        w.forgetPen()
        let shown = viewport.sessionRows(m)
        for y in damage where y >= viewport.originY && y < viewport.originY + shown {
            drawViewportRow(y - viewport.originY, of: m, viewport: viewport, into: &w)
        }
        finish(m, viewport: viewport, into: &w)
        return w.bytes
    }

    static func drawViewportRow(_ row: Int, of m: ScreenModel, viewport v: Viewport, into w: inout ANSIWriter) {
        w.move(x: 0, y: row)
        let shown = v.sessionRows(m)
        if row < shown {
            let y = v.originY + row
            let width = min(m.cols - v.originX, v.cols)
            let end = min(v.originX + width, max(v.originX, m.drawnLength(row: y)))
            if end > v.originX { drawCells(of: m, row: y, from: v.originX, to: end, mainScreen: false, into: &w) }
            w.endLineDrawing()
            if end < v.originX + width {
                w.setPen(Pen())
                w.raw("\u{1b}[\(v.originX + width - end)X") // the rest of the session's row: blank
            }
            if width < v.cols { pad(from: width, to: v.cols, row: row, into: &w) }
        } else if row < v.rows - (v.clips(m) ? 1 : 0) {
            pad(from: 0, to: v.cols, row: row, into: &w)
        } else {
            let text = notice(session: (m.cols, m.rows), window: (v.cols, v.rows),
                              columns: (v.originX + 1, v.originX + min(m.cols, v.cols)), rows: (v.originY + 1, v.originY + shown))
            var reverse = Pen()
            reverse.attributes = .inverse
            w.setPen(reverse)
            w.raw(String(text.unicodeScalars.prefix(v.cols).map(Character.init)))
            w.setPen(Pen())
            w.raw("\u{1b}[K")
        }
    }

    /// The notice line of a window smaller than the session: the longest wording that fits the window's width, so
    /// a narrow window gets a short one rather than the start of a long one.
    public static func notice(session: (cols: Int, rows: Int), window: (cols: Int, rows: Int), columns: (Int, Int), rows: (Int, Int)) -> String {
        let sizes = "session \(session.cols)x\(session.rows), window \(window.cols)x\(window.rows)"
        let part = "columns \(columns.0)-\(columns.1), rows \(rows.0)-\(rows.1)"
        let wordings = [
            " swiftmate: \(sizes): showing \(part); enlarge the window to see it all ",
            " swiftmate: \(sizes): showing \(part) ",
            " \(sizes): \(part) ",
            " \(sizes) ",
            " \(session.cols)x\(session.rows) in \(window.cols)x\(window.rows) ",
        ]
        return wordings.first { $0.unicodeScalars.count <= window.cols } ?? wordings[wordings.count - 1]
    }

    /// Dim dots outside the session's area (where the window is larger), as tmux marks it.
    private static func pad(from: Int, to: Int, row: Int, into w: inout ANSIWriter) {
        w.move(x: from, y: row)
        var dim = Pen()
        dim.attributes = .dim
        w.setPen(dim)
        w.raw(String(repeating: "·", count: to - from))
        w.setPen(Pen())
    }

    static func finish(_ m: ScreenModel, viewport v: Viewport, into w: inout ANSIWriter) {
        w.setPen(m.pen)
        w.move(x: m.cursorX - v.originX, y: m.cursorY - v.originY)
        w.raw(modes(m.modes, including: false))
    }
}
