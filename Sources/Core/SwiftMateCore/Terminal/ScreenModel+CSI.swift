// Control sequences (CSI): cursor movement, erasing, inserting and deleting, scrolling, modes, SGR.

extension ScreenModel {
    func csiDispatch(final: UInt8, params p: borrowing CSIParameters, prefix: UInt8, intermediates: UInt16) {
        if prefix == 0x3F { // ?
            if final == 0x68 || final == 0x6C { setPrivateModes(p, on: final == 0x68) }
            if final == 0x4A { eraseInDisplay(p.get(0, 0, zeroIsDefault: false)) } // DECSED
            if final == 0x4B { eraseInLine(p.get(0, 0, zeroIsDefault: false)) } // DECSEL
            return
        }
        guard prefix == 0 else { return } // > = <: requests and xterm extensions; nothing to draw
        if intermediates != 0 {
            switch (intermediates, final) {
            case (0x20, 0x71): modes.cursorStyle = min(p.get(0, 0, zeroIsDefault: false), 6) // DECSCUSR
            case (0x21, 0x70): softReset() // DECSTR
            default: break
            }
            return
        }
        let n = p.get(0, 1)
        switch final {
        case 0x41: moveCursorVertically(-n) // A  CUU
        case 0x42, 0x65: moveCursorVertically(n) // B CUD, e VPR
        case 0x43, 0x61: moveTo(x: cursorX + n, y: cursorY) // C CUF, a HPR
        case 0x44: moveTo(x: cursorX - n, y: cursorY) // D  CUB
        case 0x45: moveCursorVertically(n); cursorX = 0 // E  CNL
        case 0x46: moveCursorVertically(-n); cursorX = 0 // F  CPL
        case 0x47, 0x60: moveTo(x: n - 1, y: cursorY) // G CHA, ` HPA
        case 0x48, 0x66: cursorPosition(row: p.get(0, 1), col: p.get(1, 1)) // H CUP, f HVP
        case 0x64: cursorPosition(row: n, col: cursorX + 1) // d  VPA
        // CSI I (CHT) is left out on purpose: tmux ignores it, and the model follows tmux.
        case 0x5A: tabBackward(n) // Z  CBT
        case 0x4A: eraseInDisplay(p.get(0, 0, zeroIsDefault: false)) // J  ED
        case 0x4B: eraseInLine(p.get(0, 0, zeroIsDefault: false)) // K  EL
        case 0x4C: insertLines(n) // L  IL
        case 0x4D: deleteLines(n) // M  DL
        case 0x40: insertCharacters(n) // @  ICH
        case 0x50: deleteCharacters(n) // P  DCH
        case 0x58: eraseCharacters(n) // X  ECH
        case 0x53: scroll(up: n) // S  SU
        case 0x54: if p.count <= 1 { scroll(down: n) } // T  SD (with more parameters: mouse tracking, ignored)
        case 0x62: repeatLast(n) // b  REP
        case 0x67: clearTabs(p.get(0, 0, zeroIsDefault: false)) // g  TBC
        case 0x68, 0x6C: setANSIModes(p, on: final == 0x68) // h SM, l RM
        case 0x6D: selectGraphicRendition(p) // m  SGR
        case 0x72: setScrollRegion(top: p.get(0, 1), bottom: p.get(1, rows)) // r  DECSTBM
        case 0x73: if p.count == 0 { saveCursor() } // s  SCOSC
        case 0x75: restoreCursor() // u  SCORC
        default: break
        }
    }

    // MARK: Cursor

    func moveTo(x: Int, y: Int) {
        cursorX = max(0, min(x, cols - 1))
        cursorY = max(0, min(y, rows - 1))
        pendingWrap = false
    }

    /// CUU/CUD: stop at the scroll region's edge when starting inside it, else at the screen's.
    private func moveCursorVertically(_ delta: Int) {
        var y = cursorY + delta
        if delta < 0 {
            y = max(y, cursorY >= scrollTop ? scrollTop : 0)
        } else {
            y = min(y, cursorY <= scrollBottom ? scrollBottom : rows - 1)
        }
        moveTo(x: cursorX, y: y)
    }

    /// CUP (1-based), relative to the scroll region in origin mode.
    private func cursorPosition(row: Int, col: Int) {
        var y = row - 1
        if modes.origin {
            y = min(y + scrollTop, scrollBottom)
        }
        moveTo(x: col - 1, y: y)
    }

    // MARK: Erasing

    private func eraseInDisplay(_ mode: Int) {
        let bg = pen.background
        switch mode {
        case 0:
            eraseInLine(0)
            for y in (cursorY + 1)..<max(cursorY + 1, rows) { active.erase(y, from: 0, to: cols, bg: bg) }
            allDirty = true
        case 1:
            for y in 0..<cursorY { active.erase(y, from: 0, to: cols, bg: bg) }
            eraseInLine(1)
            allDirty = true
        case 2:
            eraseScreen(bg: bg)
        case 3:
            main.clearHistory()
        default: break
        }
    }

    private func eraseInLine(_ mode: Int) {
        let bg = pen.background
        switch mode {
        case 0:
            active.erase(cursorY, from: cursorX, to: cols, bg: bg)
            fixWideEdge(at: cursorX)
        case 1:
            active.erase(cursorY, from: 0, to: cursorX + 1, bg: bg)
            fixWideEdge(at: cursorX + 1)
        case 2: active.erase(cursorY, from: 0, to: cols, bg: bg)
        default: return
        }
        touch(cursorY)
    }

    /// After erasing up to or from column `x`, a wide character cut in half is blanked.
    private func fixWideEdge(at x: Int) {
        guard x > 0, x < cols else { return }
        if active.cell(x, cursorY).width == 0 { active.set(x, cursorY, .blank(active.cell(x, cursorY).background)) }
        if active.cell(x - 1, cursorY).width == 2 { active.set(x - 1, cursorY, .blank(active.cell(x - 1, cursorY).background)) }
    }

    private func eraseCharacters(_ n: Int) {
        let end = min(cols, cursorX + n)
        active.erase(cursorY, from: cursorX, to: end, bg: pen.background)
        fixWideEdge(at: cursorX)
        fixWideEdge(at: end)
        touch(cursorY)
        pendingWrap = false
    }

    // MARK: Inserting and deleting

    private func insertLines(_ n: Int) {
        guard cursorY >= scrollTop && cursorY <= scrollBottom else { return }
        active.scrollDown(top: cursorY, bottom: scrollBottom, count: n, bg: pen.background)
        cursorX = 0
        pendingWrap = false
        allDirty = true
    }

    private func deleteLines(_ n: Int) {
        guard cursorY >= scrollTop && cursorY <= scrollBottom else { return }
        active.scrollUp(top: cursorY, bottom: scrollBottom, count: n, bg: pen.background, keep: false)
        cursorX = 0
        pendingWrap = false
        allDirty = true
    }

    private func insertCharacters(_ n: Int) {
        fixWideEdge(at: cursorX)
        active.insertCells(cursorY, at: cursorX, count: n, bg: pen.background)
        if active.cell(cols - 1, cursorY).width == 2 { active.set(cols - 1, cursorY, .blank(pen.background)) }
        active.setWrapped(cursorY, false)
        touch(cursorY)
        pendingWrap = false
    }

    /// DCH. Like tmux, wide characters cut by the deletion are not repaired.
    private func deleteCharacters(_ n: Int) {
        active.deleteCells(cursorY, at: cursorX, count: n, bg: pen.background)
        active.setWrapped(cursorY, false)
        touch(cursorY)
        pendingWrap = false
    }

    /// REP: the character before the cursor again, `n` times (at most one screenful).
    private func repeatLast(_ n: Int) {
        let x = pendingWrap ? cursorX : cursorX - 1
        guard x >= 0 else { return }
        let c = active.cell(x, cursorY)
        guard c.width == 1, c.scalar >= 0x20 else { return }
        let saved = pen
        pen = c.pen
        for _ in 0..<min(n, cols * rows) { printScalar(c.scalar) }
        pen = saved
    }

    // MARK: Tabs, region, resets

    private func clearTabs(_ mode: Int) {
        if mode == 0 { tabs[cursorX] = false }
        if mode == 3 { for i in tabs.indices { tabs[i] = false } }
    }

    private func setScrollRegion(top: Int, bottom: Int) {
        let t = top - 1, b = min(bottom, rows) - 1
        guard t < b else { return }
        scrollTop = t
        scrollBottom = b
        moveTo(x: 0, y: modes.origin ? scrollTop : 0)
    }

    /// DECSTR: modes, pen, region and saved cursor back to defaults; the screen stays.
    private func softReset() {
        modes.insert = false
        modes.origin = false
        modes.autowrap = true
        modes.applicationCursor = false
        modes.applicationKeypad = false
        modes.cursorVisible = true
        pen = Pen()
        scrollTop = 0
        scrollBottom = rows - 1
        g0 = .ascii
        g1 = .ascii
        shifted = false
        savedCursor = nil
    }
}
