// The screen model: a VT parser feeding one writer that keeps the grid, cursor, modes and damage.
//
// One type serves host (keyframes), relay and join client (drawing at another size). It behaves as tmux
// does for the same bytes (the golden tests compare with tmux's capture-pane).

/// The state of a terminal after some output: two screens (main with scrollback, alternate), the cursor,
/// the pen, modes, scroll region, tab stops and title, plus which rows changed since the last look.
///
/// Not thread-safe: one owner feeds and reads it (a frontend's task, the join client's loop).
public final class ScreenModel {
    /// Width in columns.
    @exclusivity(unchecked) public private(set) var cols: Int
    /// Height in rows.
    @exclusivity(unchecked) public private(set) var rows: Int
    /// Lines of scrollback the main screen keeps.
    public let scrollbackLimit: Int
    /// The cursor's column (0-based; stays in `0..<cols`).
    @exclusivity(unchecked) public internal(set) var cursorX = 0
    /// The cursor's row (0-based; stays in `0..<rows`).
    @exclusivity(unchecked) public internal(set) var cursorY = 0
    /// The last column was written and the next character wraps first (xterm's and tmux's deferred wrap).
    @exclusivity(unchecked) public internal(set) var pendingWrap = false
    /// What characters are drawn with now.
    @exclusivity(unchecked) public internal(set) var pen = Pen()
    /// Modes.
    @exclusivity(unchecked) public internal(set) var modes = TerminalModes()
    /// The window title (OSC 0/2).
    @exclusivity(unchecked) public internal(set) var title = ""
    /// First row of the scroll region.
    @exclusivity(unchecked) public internal(set) var scrollTop = 0
    /// Last row of the scroll region.
    @exclusivity(unchecked) public internal(set) var scrollBottom: Int
    /// G0 designation.
    @exclusivity(unchecked) public internal(set) var g0 = Charset.ascii
    /// G1 designation.
    @exclusivity(unchecked) public internal(set) var g1 = Charset.ascii
    /// SO is in effect (G1 is used).
    @exclusivity(unchecked) public internal(set) var shifted = false
    /// What DECSC saved, if anything.
    @exclusivity(unchecked) public internal(set) var savedCursor: SavedCursor?
    /// The main screen's cursor saved by DECSET 1049 (restored when the alternate screen is left).
    @exclusivity(unchecked) public internal(set) var alternateSavedCursor: SavedCursor?

    @exclusivity(unchecked) var tabs: [Bool]
    @exclusivity(unchecked) var main: ScreenBuffer
    @exclusivity(unchecked) var alternate: ScreenBuffer
    /// The screen shown now (main or alternate).
    @exclusivity(unchecked) var active: ScreenBuffer
    private let parser = VTParser()
    @exclusivity(unchecked) var dirty: [Bool]
    @exclusivity(unchecked) var allDirty = true

    /// A blank terminal of `cols` x `rows` (each at least 1) keeping `scrollback` lines.
    public init(cols: Int, rows: Int, scrollback: Int = 2000) {
        let cols = max(1, min(cols, 4096)), rows = max(1, min(rows, 4096))
        self.cols = cols
        self.rows = rows
        self.scrollbackLimit = max(0, scrollback)
        scrollBottom = rows - 1
        main = ScreenBuffer(cols: cols, rows: rows, historyLimit: max(0, scrollback))
        alternate = ScreenBuffer(cols: cols, rows: rows, historyLimit: 0)
        active = main
        tabs = Self.defaultTabs(cols)
        dirty = Array(repeating: true, count: rows)
    }

    static func defaultTabs(_ cols: Int) -> [Bool] { (0..<cols).map { $0 > 0 && $0 % 8 == 0 } }

    // MARK: Input

    /// Parses terminal output.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        feed(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Parses terminal output.
    public func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { feed($0) }
    }

    private func feed(_ bytes: UnsafeBufferPointer<UInt8>) {
        var rest = bytes
        if skipsScrolledOffOutput, let start = scrolledOffPrefix(bytes) {
            // Everything before `start` ends up above the screen, with no scrollback to keep it: start from
            // where it would have left the screen (blank, cursor at the bottom left) instead of drawing it.
            eraseScreen(bg: pen.background)
            cursorX = 0
            cursorY = rows - 1
            pendingWrap = false
            rest = UnsafeBufferPointer(rebasing: bytes[start...])
        }
        parser.feed(rest, self)
    }

    /// Whether plain output that would scroll off the screen is skipped (see `scrolledOffPrefix`); tests turn
    /// it off to check that the result is the same.
    var skipsScrolledOffOutput = true

    /// For bulk plain text (a `cat` of a big file): the offset after which the output alone decides the
    /// screen. It applies only without scrollback, with the whole screen as scroll region, not inserting, and
    /// with the parser between sequences, to output that starts with printable ASCII, CR and LF only: a prefix
    /// of that plain part ending in CR LF and followed, still inside the plain part, by more than twice the
    /// screen's height of line feeds. Whatever is on the screen or printed in the prefix then scrolls off (with
    /// nothing but text and line feeds the cursor reaches the bottom within `rows` of them, and `rows` more
    /// scroll every row away), and the prefix changes no mode, pen, tab stop or charset. So the screen after
    /// the whole output equals the screen after the rest printed from a blank screen with the cursor at the
    /// bottom left.
    private func scrolledOffPrefix(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let needed = 2 * rows + 2
        guard bytes.count > 4 * needed, active.historyLimit == 0, scrollTop == 0, scrollBottom == rows - 1,
              parser.unfinishedBytes == 0, !modes.insert else { return nil }
        var plainEnd = 0
        while plainEnd < bytes.count {
            let b = bytes[plainEnd]
            if !(b >= 0x20 && b < 0x7F) && b != 0x0D && b != 0x0A { break }
            plainEnd += 1
        }
        guard plainEnd > 4 * needed else { return nil }
        // The line feed with `needed` line feeds from it to the end of the plain part.
        var feeds = 0, limit = -1, i = plainEnd - 1
        while i >= 0 {
            if bytes[i] == 0x0A {
                feeds += 1
                if feeds == needed { limit = i; break }
            }
            i -= 1
        }
        guard limit > 1 else { return nil }
        // The last CR LF before it.
        var end = limit - 1
        while end > 0 && !(bytes[end] == 0x0A && bytes[end - 1] == 0x0D) { end -= 1 }
        return end > 0 ? end + 1 : nil
    }

    /// Parses terminal output.
    public func feed(_ text: String) {
        feed(Array(text.utf8))
    }

    /// Bytes at the end of what was fed that belong to an unfinished sequence (they take effect when it
    /// ends). A repaint stands for the stream up to, not including, them.
    public var unfinishedSequenceBytes: Int { parser.unfinishedBytes }

    /// A new size. Rows are cut or padded (not rewrapped); the cursor stays on its row where it can; the
    /// scroll region resets to the whole screen.
    public func resize(cols newCols: Int, rows newRows: Int) {
        let newCols = max(1, min(newCols, 4096)), newRows = max(1, min(newRows, 4096))
        guard newCols != cols || newRows != rows else { return }
        let otherRow = modes.alternateScreen ? (alternateSavedCursor?.y ?? 0) : 0
        let row = active.resize(cols: newCols, rows: newRows, cursorRow: cursorY)
        _ = (active === main ? alternate : main).resize(cols: newCols, rows: newRows, cursorRow: otherRow)
        cols = newCols
        rows = newRows
        cursorY = row
        cursorX = min(cursorX, cols - 1)
        pendingWrap = false
        scrollTop = 0
        scrollBottom = rows - 1
        let oldTabs = tabs
        tabs = Self.defaultTabs(cols)
        for x in 0..<min(cols, oldTabs.count) { tabs[x] = oldTabs[x] }
        if var saved = savedCursor {
            saved.x = min(saved.x, cols - 1)
            saved.y = min(saved.y, rows - 1)
            savedCursor = saved
        }
        dirty = Array(repeating: true, count: rows)
        allDirty = true
    }

    // MARK: Reading

    /// The cell at column `x`, row `y` of the screen shown (or of the main screen with `mainScreen`).
    public func cell(x: Int, y: Int, mainScreen: Bool = false) -> Cell {
        (mainScreen ? main : active).cell(x, y)
    }

    /// Combining characters after the character at `x`, `y`.
    public func combiningMarks(x: Int, y: Int, mainScreen: Bool = false) -> [UInt32] {
        let buffer = mainScreen ? main : active
        return buffer.cell(x, y).hasCombining ? buffer.combiningMarks(x, y) : []
    }

    /// Whether row `y` continues on the next one (wrapped by printing).
    public func isWrapped(row y: Int, mainScreen: Bool = false) -> Bool {
        (mainScreen ? main : active).isWrapped(y)
    }

    /// How many cells of row `y` need drawing (trailing default blanks left out).
    public func drawnLength(row y: Int, mainScreen: Bool = false) -> Int {
        (mainScreen ? main : active).drawnLength(y)
    }

    /// The text of row `y`, trailing spaces trimmed (as tmux's `capture-pane -p`).
    public func text(row y: Int) -> String {
        Self.text((0..<cols).map { active.cell($0, y) }) { active.combiningMarks($0, y) }
    }

    /// A line's characters and combining marks (right halves of wide characters skipped), trailing spaces trimmed.
    private static func text(_ cells: [Cell], marks: (Int) -> [UInt32]) -> String {
        var scalars = String.UnicodeScalarView()
        for (x, c) in cells.enumerated() where c.width != 0 {
            scalars.append(Unicode.Scalar(c.scalar) ?? " ")
            if c.hasCombining { for m in marks(x) { scalars.append(Unicode.Scalar(m) ?? " ") } }
        }
        var s = String(scalars)
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }

    /// Every row's text.
    public var screenText: [String] { (0..<rows).map { text(row: $0) } }

    /// Lines in the main screen's scrollback.
    public var scrollbackCount: Int { main.historyCount }

    /// Text of scrollback line `i` (0 is the oldest).
    public func scrollbackText(_ i: Int) -> String {
        Self.text(main.historyLine(i).cells) { main.combiningMarksInHistory(i, $0) }
    }

    /// Columns with a tab stop.
    public var tabStops: [Int] { tabs.indices.filter { tabs[$0] } }

    /// Rows changed since the last call (all of them after a scroll, clear or resize), and forgets them.
    public func takeDamage() -> [Int] {
        defer {
            allDirty = false
            for i in dirty.indices { dirty[i] = false }
        }
        if allDirty { return Array(0..<rows) }
        return dirty.indices.filter { dirty[$0] }
    }

    @inline(__always)
    func touch(_ y: Int) { dirty[y] = true }

    /// Blanks every row of the screen shown with background `bg` (all rows are then damaged).
    func eraseScreen(bg: TerminalColor) {
        for y in 0..<rows { active.erase(y, from: 0, to: cols, bg: bg) }
        allDirty = true
    }
}
