// The screen writer: the only code that changes the grid (printing, controls, ESC and OSC sequences).

extension ScreenModel: VTHandler {
    // MARK: Printing

    func printASCII(_ bytes: UnsafeBufferPointer<UInt8>) {
        let charset = shifted ? g1 : g0
        if charset != .ascii || modes.insert {
            for b in bytes { printScalar(UInt32(b)) }
            return
        }
        var start = 0
        while start < bytes.count {
            if pendingWrap { wrapOrStay() }
            let space = cols - cursorX
            var take = min(space, bytes.count - start)
            if !modes.autowrap && bytes.count - start > space {
                // Without autowrap everything past the margin lands on the last column; only the last one stays.
                if space > 1 { put(UnsafeBufferPointer(rebasing: bytes[start..<(start + space - 1)])) }
                cursorX = cols - 1
                put(UnsafeBufferPointer(rebasing: bytes[(bytes.count - 1)...]))
                cursorX = cols - 1
                return
            }
            take = max(take, 1)
            put(UnsafeBufferPointer(rebasing: bytes[start..<(start + take)]))
            start += take
        }
    }

    /// Writes ASCII that fits on the row at the cursor and moves the cursor.
    @inline(__always)
    private func put(_ run: UnsafeBufferPointer<UInt8>) {
        let x = cursorX, n = run.count
        breakWide(at: x, y: cursorY)
        if x + n < cols { breakWideEnd(at: x + n, y: cursorY) }
        active.setASCII(run, x: x, y: cursorY, pen: pen)
        touch(cursorY)
        if x + n >= cols {
            cursorX = cols - 1
            pendingWrap = modes.autowrap
        } else {
            cursorX = x + n
        }
    }

    /// Before overwriting from column `x`: if `x` is the right half of a wide character, its left half becomes blank.
    @inline(__always)
    private func breakWide(at x: Int, y: Int) {
        let c = active.cell(x, y)
        if c.width == 0 && x > 0 {
            active.set(x - 1, y, .blank(active.cell(x - 1, y).background))
            active.set(x, y, .blank(c.background))
        }
    }

    /// After overwriting up to (not including) column `x`: a right half left without its left half becomes blank.
    @inline(__always)
    private func breakWideEnd(at x: Int, y: Int) {
        let c = active.cell(x, y)
        if c.width == 0 { active.set(x, y, .blank(c.background)) }
    }

    /// At a pending wrap: with autowrap go to the start of the next line (marking this one wrapped).
    private func wrapOrStay() {
        pendingWrap = false
        guard modes.autowrap else { return }
        active.setWrapped(cursorY, true)
        cursorX = 0
        index()
    }

    func printScalar(_ value: UInt32) {
        let scalar = value
        let lineDrawing = (shifted ? g1 : g0) == .decGraphics && scalar >= 0x5F && scalar <= 0x7E
        let width = scalar < 0x7F ? 1 : CharacterWidth.of(scalar)
        if width == 0 {
            // A combining mark joins the character before the cursor (or under it at a pending wrap).
            var x = pendingWrap ? cursorX : cursorX - 1
            if x < 0 { return }
            if active.cell(x, cursorY).width == 0 && x > 0 { x -= 1 }
            active.addCombining(scalar, x, cursorY)
            touch(cursorY)
            return
        }
        if pendingWrap { wrapOrStay() }
        if width == 2 && cursorX == cols - 1 {
            // A wide character does not fit in the last column: wrap first, or drop it without autowrap.
            guard modes.autowrap, cols > 1 else { return }
            active.setWrapped(cursorY, true)
            cursorX = 0
            index()
        }
        if modes.insert { active.insertCells(cursorY, at: cursorX, count: width, bg: .default) }
        breakWide(at: cursorX, y: cursorY)
        if cursorX + width < cols { breakWideEnd(at: cursorX + width, y: cursorY) }
        var cell = Cell(scalar: scalar, pen: pen, width: UInt8(width))
        if lineDrawing { cell.attributes.insert(.lineDrawing) }
        active.set(cursorX, cursorY, cell)
        if width == 2 { active.set(cursorX + 1, cursorY, Cell(scalar: 0x20, pen: pen, width: 0)) }
        touch(cursorY)
        if cursorX + width >= cols {
            cursorX = cols - 1
            pendingWrap = modes.autowrap
        } else {
            cursorX += width
        }
    }

    // MARK: Controls

    func execute(_ byte: UInt8) {
        switch byte {
        case 0x08: backspace()
        case 0x09: tab(forward: 1)
        case 0x0A, 0x0B, 0x0C:
            pendingWrap = false
            index()
            if modes.newline { cursorX = 0 }
        case 0x0D:
            cursorX = 0
            pendingWrap = false
        case 0x0E: shifted = true
        case 0x0F: shifted = false
        default: break // BEL and the rest change nothing on screen
        }
    }

    private func backspace() {
        if pendingWrap { pendingWrap = false; return }
        if cursorX > 0 {
            cursorX -= 1
        } else if cursorY > 0 && active.isWrapped(cursorY - 1) {
            // tmux goes back over a wrapped line end.
            cursorY -= 1
            cursorX = cols - 1
        }
    }

    func tab(forward count: Int) {
        pendingWrap = false
        var n = count
        while n > 0 && cursorX < cols - 1 {
            cursorX += 1
            while cursorX < cols - 1 && !tabs[cursorX] { cursorX += 1 }
            n -= 1
        }
    }

    func tabBackward(_ count: Int) {
        pendingWrap = false
        var n = count
        while n > 0 && cursorX > 0 {
            cursorX -= 1
            while cursorX > 0 && !tabs[cursorX] { cursorX -= 1 }
            n -= 1
        }
    }

    /// Line feed: down one row, scrolling the region at its bottom.
    func index() {
        if cursorY == scrollBottom {
            scroll(up: 1)
        } else if cursorY < rows - 1 {
            cursorY += 1
        }
    }

    /// Reverse index: up one row, scrolling the region down at its top.
    func reverseIndex() {
        pendingWrap = false
        if cursorY == scrollTop {
            scroll(down: 1)
        } else if cursorY > 0 {
            cursorY -= 1
        }
    }

    func scroll(up n: Int) {
        let keep = active === main && scrollTop == 0 && scrollBottom == rows - 1
        active.scrollUp(top: scrollTop, bottom: scrollBottom, count: n, bg: pen.background, keep: keep)
        allDirty = true
    }

    func scroll(down n: Int) {
        active.scrollDown(top: scrollTop, bottom: scrollBottom, count: n, bg: pen.background)
        allDirty = true
    }

    // MARK: ESC and OSC

    func escDispatch(final: UInt8, intermediates: UInt16) {
        switch (intermediates, final) {
        case (0, 0x37): saveCursor() // 7
        case (0, 0x38): restoreCursor() // 8
        case (0, 0x44): pendingWrap = false; index() // D
        case (0, 0x45): cursorX = 0; pendingWrap = false; index() // E
        case (0, 0x4D): reverseIndex() // M
        case (0, 0x48): tabs[cursorX] = true // H
        case (0, 0x63): fullReset() // c
        case (0, 0x3D): modes.applicationKeypad = true // =
        case (0, 0x3E): modes.applicationKeypad = false // >
        case (0x28, 0x30): g0 = .decGraphics // ( 0
        case (0x28, _): g0 = .ascii
        case (0x29, 0x30): g1 = .decGraphics // ) 0
        case (0x29, _): g1 = .ascii
        case (0x23, 0x38): alignmentTest() // # 8
        default: break
        }
    }

    func oscDispatch(_ payload: UnsafeBufferPointer<UInt8>) {
        guard let semicolon = payload.firstIndex(of: 0x3B) else { return }
        let command = payload[..<semicolon]
        guard command.elementsEqual([0x30]) || command.elementsEqual([0x32]) else { return } // 0 and 2: the title
        let text = String(decoding: payload[(semicolon + 1)...], as: UTF8.self)
        title = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
    }

    /// The cursor state DECSC and DECSET 1049 save.
    var cursorState: SavedCursor {
        SavedCursor(x: cursorX, y: cursorY, pen: pen, origin: modes.origin, g0: g0, g1: g1, shifted: shifted)
    }

    func saveCursor() { savedCursor = cursorState }

    func restoreCursor() {
        restore(savedCursor ?? SavedCursor(x: 0, y: 0, pen: Pen(), origin: false, g0: .ascii, g1: .ascii, shifted: false))
    }

    private func restore(_ saved: SavedCursor) {
        cursorX = min(saved.x, cols - 1)
        cursorY = min(saved.y, rows - 1)
        pen = saved.pen
        modes.origin = saved.origin
        g0 = saved.g0
        g1 = saved.g1
        shifted = saved.shifted
        pendingWrap = false
    }

    /// RIS: a fresh terminal (the scrollback stays, as in tmux).
    func fullReset() {
        if modes.alternateScreen { leaveAlternateScreen(restoreCursor: false) }
        modes = TerminalModes()
        pen = Pen()
        title = ""
        g0 = .ascii
        g1 = .ascii
        shifted = false
        savedCursor = nil
        alternateSavedCursor = nil
        scrollTop = 0
        scrollBottom = rows - 1
        tabs = Self.defaultTabs(cols)
        eraseScreen(bg: .default)
        cursorX = 0
        cursorY = 0
        pendingWrap = false
    }

    private func alignmentTest() {
        let e = Cell(scalar: 0x45, pen: Pen())
        for y in 0..<rows {
            for x in 0..<cols { active.set(x, y, e) }
            active.setWrapped(y, false)
        }
        scrollTop = 0
        scrollBottom = rows - 1
        cursorX = 0
        cursorY = 0
        pendingWrap = false
        allDirty = true
    }

    func enterAlternateScreen(saveCursor save: Bool) {
        guard !modes.alternateScreen else { return }
        if save { alternateSavedCursor = cursorState }
        modes.alternateScreen = true
        active = alternate
        eraseScreen(bg: pen.background)
    }

    func leaveAlternateScreen(restoreCursor restore: Bool) {
        guard modes.alternateScreen else { return }
        modes.alternateScreen = false
        active = main
        if restore, let saved = alternateSavedCursor {
            self.restore(saved)
            alternateSavedCursor = nil
        }
        pendingWrap = false
        allDirty = true
    }
}
