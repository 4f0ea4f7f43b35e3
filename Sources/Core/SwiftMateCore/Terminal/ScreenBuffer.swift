// The cells of one screen (main with scrollback, or alternate): rows in a ring of line slots.

/// One screen's grid. Line slots hold `cols` cells each; the visible rows map to slots through a ring,
/// so scrolling the whole screen moves no cells (the top row's slot joins the scrollback and the oldest
/// scrollback slot becomes the new bottom row). Each line knows how many cells were written (`used`);
/// the rest are blank with the line's `fill` background, so clearing a line costs nothing per cell.
/// The only code that changes it is `ScreenModel`.
final class ScreenBuffer {
    @exclusivity(unchecked) private(set) var cols: Int
    @exclusivity(unchecked) private(set) var rows: Int
    /// Most lines of scrollback (0 for the alternate screen).
    let historyLimit: Int
    @exclusivity(unchecked) private var cells: UnsafeMutablePointer<Cell>
    @exclusivity(unchecked) private var slotCount: Int
    // Per-slot line facts, as plain memory (no reference counting or copy-on-write checks per access).
    @exclusivity(unchecked) private var used: LineArray<Int32>
    @exclusivity(unchecked) private var fill: LineArray<TerminalColor>
    @exclusivity(unchecked) private var wrapped: LineArray<Bool>
    /// Visible row y is slot `screen[(top + y) % rows]`.
    @exclusivity(unchecked) private var screen: LineArray<Int>
    @exclusivity(unchecked) private var top = 0
    /// Scrollback slots, oldest first, as a ring.
    @exclusivity(unchecked) private var history: LineArray<Int>
    @exclusivity(unchecked) private var historyStart = 0
    @exclusivity(unchecked) private(set) var historyCount = 0
    /// Slots neither on the screen nor in the scrollback (the scrollback takes from here until it is full).
    @exclusivity(unchecked) private var free: [Int]
    /// Combining characters of cells whose `hasCombining` is set, by slot * cols + x.
    @exclusivity(unchecked) private var combining: [Int: [UInt32]] = [:]

    init(cols: Int, rows: Int, historyLimit: Int) {
        self.cols = cols
        self.rows = rows
        self.historyLimit = historyLimit
        (slotCount, cells, used, fill, wrapped, screen, history) = Self.storage(cols: cols, rows: rows, historyLimit: historyLimit)
        free = Self.freeSlots(rows: rows, slotCount: slotCount)
    }

    /// The slots a fresh storage has free: all but the screen's, lowest handed out first.
    private static func freeSlots(rows: Int, slotCount: Int) -> [Int] { Array((rows..<slotCount).reversed()) }

    /// Fresh storage for a size: slot count, cells, per-slot facts, the visible rows in order, the scrollback ring.
    private static func storage(cols: Int, rows: Int, historyLimit: Int)
        -> (Int, UnsafeMutablePointer<Cell>, LineArray<Int32>, LineArray<TerminalColor>, LineArray<Bool>, LineArray<Int>, LineArray<Int>) {
        let slots = rows + historyLimit
        let screen = LineArray(repeating: 0, count: rows)
        for y in 0..<rows { screen[y] = y }
        return (slots, .allocate(capacity: slots * cols), LineArray(repeating: 0, count: slots), LineArray(repeating: .default, count: slots),
                LineArray(repeating: false, count: slots), screen, LineArray(repeating: 0, count: historyLimit))
    }

    deinit {
        cells.deallocate()
        freeLines()
    }

    private func freeLines() {
        used.free()
        fill.free()
        wrapped.free()
        screen.free()
        history.free()
    }

    @inline(__always)
    func slot(_ y: Int) -> Int {
        var i = top + y
        if i >= rows { i -= rows }
        return screen[i]
    }

    // MARK: Reading

    /// The cell at column `x` of visible row `y`.
    @inline(__always)
    func cell(_ x: Int, _ y: Int) -> Cell { cellInSlot(slot(y), x) }

    @inline(__always)
    private func cellInSlot(_ s: Int, _ x: Int) -> Cell {
        x < Int(used[s]) ? cells[s * cols + x] : .blank(fill[s])
    }

    /// Combining characters after the character at `x`, `y`.
    func combiningMarks(_ x: Int, _ y: Int) -> [UInt32] { combining[slot(y) * cols + x] ?? [] }

    /// Whether visible row `y` continues on the next row (it was wrapped by printing, not by a newline).
    func isWrapped(_ y: Int) -> Bool { wrapped[slot(y)] }

    /// Cells of row `y` that are not blank-with-default-background at the end: how many to draw.
    func drawnLength(_ y: Int) -> Int {
        let s = slot(y)
        if fill[s] != .default { return cols }
        var n = Int(used[s])
        while n > 0 {
            if cells[s * cols + n - 1] != .blank() { break }
            n -= 1
        }
        return n
    }

    /// The cells of scrollback line `i` (0 is the oldest) and whether it wrapped.
    func historyLine(_ i: Int) -> (cells: [Cell], wrapped: Bool) {
        var index = historyStart + i
        if index >= historyLimit { index -= historyLimit }
        let s = history[index]
        return ((0..<cols).map { cellInSlot(s, $0) }, wrapped[s])
    }

    func combiningMarksInHistory(_ i: Int, _ x: Int) -> [UInt32] {
        var index = historyStart + i
        if index >= historyLimit { index -= historyLimit }
        return combining[history[index] * cols + x] ?? []
    }

    // MARK: Writing

    /// Makes cells up to (not including) `x` of slot `s` real, so they can be written or moved.
    @inline(__always)
    private func materialize(_ s: Int, upTo x: Int) {
        let u = Int(used[s])
        guard u < x else { return }
        let blank = Cell.blank(fill[s])
        let base = cells + s * cols
        for i in u..<x { base[i] = blank }
        used[s] = Int32(x)
    }

    /// Writes `cell` at `x`, `y`.
    @inline(__always)
    func set(_ x: Int, _ y: Int, _ cell: Cell) {
        let s = slot(y)
        materialize(s, upTo: x)
        cells[s * cols + x] = cell
        if x >= Int(used[s]) { used[s] = Int32(x + 1) }
    }

    /// Writes a run of ASCII bytes with `pen` from `x` on row `y` (the caller checked they fit).
    func setASCII(_ bytes: UnsafeBufferPointer<UInt8>, x: Int, y: Int, pen: Pen) {
        let s = slot(y)
        materialize(s, upTo: x)
        let base = cells + s * cols + x
        var cell = Cell(scalar: 0, pen: pen)
        for i in 0..<bytes.count {
            cell.scalar = UInt32(bytes[i])
            base[i] = cell
        }
        if x + bytes.count > Int(used[s]) { used[s] = Int32(x + bytes.count) }
    }

    /// Appends a combining mark to the cell at `x`, `y`.
    func addCombining(_ scalar: UInt32, _ x: Int, _ y: Int) {
        let s = slot(y)
        materialize(s, upTo: x + 1)
        let key = s * cols + x
        if cells[key].hasCombining {
            if (combining[key]?.count ?? 0) < 8 { combining[key, default: []].append(scalar) }
        } else {
            cells[key].hasCombining = true
            combining[key] = [scalar]
        }
    }

    func setWrapped(_ y: Int, _ value: Bool) { wrapped[slot(y)] = value }

    /// Erases columns `from..<to` of row `y` to blanks with background `bg`.
    func erase(_ y: Int, from: Int, to: Int, bg: TerminalColor) {
        let s = slot(y)
        guard from < to else { return }
        if to >= cols {
            if Int(used[s]) < from && fill[s] != bg { materialize(s, upTo: from) }
            if Int(used[s]) > from { used[s] = Int32(from) }
            fill[s] = bg
            wrapped[s] = false
            return
        }
        materialize(s, upTo: to)
        let blank = Cell.blank(bg)
        let base = cells + s * cols
        for i in from..<to { base[i] = blank }
    }

    /// Clears slot `s` entirely.
    @inline(__always)
    private func clearSlot(_ s: Int, bg: TerminalColor) {
        used[s] = 0
        fill[s] = bg
        wrapped[s] = false
    }

    /// Inserts `n` blank cells at `x` on row `y`, pushing the rest right (cells past the margin are lost).
    func insertCells(_ y: Int, at x: Int, count n: Int, bg: TerminalColor) {
        let s = slot(y)
        let n = min(n, cols - x)
        guard n > 0 else { return }
        materialize(s, upTo: cols)
        let base = cells + s * cols
        (base + x + n).update(from: base + x, count: cols - x - n)
        let blank = Cell.blank(bg)
        for i in x..<(x + n) { base[i] = blank }
    }

    /// Deletes `n` cells at `x` on row `y`, pulling the rest left and blanking the end.
    func deleteCells(_ y: Int, at x: Int, count n: Int, bg: TerminalColor) {
        let s = slot(y)
        let n = min(n, cols - x)
        guard n > 0 else { return }
        materialize(s, upTo: cols)
        let base = cells + s * cols
        (base + x).update(from: base + x + n, count: cols - x - n)
        let blank = Cell.blank(bg)
        for i in (cols - n)..<cols { base[i] = blank }
    }

    /// Scrolls rows `top...bottom` up by `n`; new rows are blank with `bg`. With `keep`, lines leaving the
    /// top of the screen go to the scrollback.
    func scrollUp(top regionTop: Int, bottom: Int, count: Int, bg: TerminalColor, keep: Bool) {
        let n = min(count, bottom - regionTop + 1)
        guard n > 0 else { return }
        if regionTop == 0 && bottom == rows - 1 {
            for _ in 0..<n {
                let leaving = screen[top]
                screen[top] = keep && historyLimit > 0 ? pushHistory(leaving) : leaving
                clearSlot(screen[top], bg: bg)
                top += 1
                if top == rows { top = 0 }
            }
            return
        }
        // A partial region: rotate its slots (still no cells move).
        rotate(top: regionTop, bottom: bottom, by: n)
        for y in (bottom - n + 1)...bottom { clearSlot(slot(y), bg: bg) }
    }

    /// Scrolls rows `top...bottom` down by `n`; new rows at the top are blank with `bg`.
    func scrollDown(top regionTop: Int, bottom: Int, count: Int, bg: TerminalColor) {
        let n = min(count, bottom - regionTop + 1)
        guard n > 0 else { return }
        rotate(top: regionTop, bottom: bottom, by: -n)
        for y in regionTop..<(regionTop + n) { clearSlot(slot(y), bg: bg) }
    }

    /// Moves the slots of rows `top...bottom` `shift` places up (down when negative), wrapping round.
    private func rotate(top regionTop: Int, bottom: Int, by shift: Int) {
        let region = (regionTop...bottom).map { slot($0) }
        let n = region.count
        for (i, y) in (regionTop...bottom).enumerated() { setSlot(y, region[((i + shift) % n + n) % n]) }
    }

    @inline(__always)
    private func setSlot(_ y: Int, _ s: Int) {
        var i = top + y
        if i >= rows { i -= rows }
        screen[i] = s
    }

    /// Puts `s` in the scrollback; returns the slot to reuse (a free one, or the oldest line's).
    private func pushHistory(_ s: Int) -> Int {
        if historyCount < historyLimit {
            var index = historyStart + historyCount
            if index >= historyLimit { index -= historyLimit }
            history[index] = s
            historyCount += 1
            return free.removeLast()
        }
        let oldest = history[historyStart]
        history[historyStart] = s
        historyStart += 1
        if historyStart == historyLimit { historyStart = 0 }
        return oldest
    }

    /// Forgets the scrollback (ED 3); its slots become free again (cleared when the screen takes them).
    func clearHistory() {
        for i in 0..<historyCount {
            var index = historyStart + i
            if index >= historyLimit { index -= historyLimit }
            free.append(history[index])
        }
        historyStart = 0
        historyCount = 0
    }

    /// A new size: rows keep their cells from the top-left (cut or padded; no rewrapping); the scrollback
    /// keeps its newest lines. When the screen gets shorter, rows above the cursor row go to the
    /// scrollback first, as in tmux, so the cursor's row stays visible.
    func resize(cols newCols: Int, rows newRows: Int, cursorRow: Int) -> Int {
        var lines = (0..<historyCount).map { i -> ([Cell], Bool, [[UInt32]]) in
            let l = historyLine(i)
            return (l.cells, l.wrapped, (0..<cols).map { combiningMarksInHistory(i, $0) })
        }
        let historyLines = lines.count
        lines += (0..<rows).map { y in ((0..<cols).map { cell($0, y) }, isWrapped(y), (0..<cols).map { combiningMarks($0, y) }) }
        // Drop blank rows below the cursor first, then push rows to the scrollback.
        var visibleEnd = lines.count
        var cursor = historyLines + cursorRow
        while visibleEnd - historyLines > newRows && visibleEnd - 1 > cursor { visibleEnd -= 1 }
        lines.removeSubrange(visibleEnd...)
        var firstVisible = max(historyLines, lines.count - newRows)
        if historyLimit == 0 { lines.removeFirst(firstVisible); cursor -= firstVisible; firstVisible = 0 }
        cells.deallocate()
        freeLines()
        cols = newCols
        rows = newRows
        (slotCount, cells, used, fill, wrapped, screen, history) = Self.storage(cols: cols, rows: rows, historyLimit: historyLimit)
        free = Self.freeSlots(rows: rows, slotCount: slotCount)
        top = 0
        historyStart = 0
        combining = [:]
        let kept = lines[max(0, firstVisible - historyLimit)..<firstVisible]
        historyCount = kept.count
        for (i, line) in kept.enumerated() {
            let s = free.removeLast()
            history[i] = s
            store(line, into: s)
        }
        let visible = Array(lines[firstVisible...])
        for (y, line) in visible.enumerated() where y < rows { store(line, into: slot(y)) }
        return max(0, min(rows - 1, cursor - firstVisible))
    }

    private func store(_ line: ([Cell], Bool, [[UInt32]]), into s: Int) {
        let n = min(cols, line.0.count)
        for x in 0..<n { cells[s * cols + x] = line.0[x] }
        // A wide character cut in half at the new margin becomes a blank.
        if n > 0 && cells[s * cols + n - 1].width == 2 { cells[s * cols + n - 1] = .blank(cells[s * cols + n - 1].background) }
        used[s] = Int32(n)
        wrapped[s] = line.1
        for x in 0..<n where !line.2[x].isEmpty { combining[s * cols + x] = line.2[x] }
    }
}

/// A fixed-size array of trivial values in memory the owner frees (`free`); indexing checks bounds only in
/// debug builds.
struct LineArray<Element: BitwiseCopyable> {
    private let base: UnsafeMutableBufferPointer<Element>

    init(repeating value: Element, count: Int) {
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: value)
    }

    subscript(i: Int) -> Element {
        @inline(__always) get { base[i] }
        @inline(__always) nonmutating set { base[i] = newValue }
    }

    func free() { base.deallocate() }
}
