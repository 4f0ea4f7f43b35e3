// Keyframes: a screen model rendered as ANSI bytes that rebuild it on a fresh terminal of the same size.
import SwiftMateCore

/// Renders `ScreenModel`s into ANSI bytes without ncurses or terminfo (the VT100/xterm sequences every
/// terminal a viewer uses understands).
public enum ANSIRenderer {
    /// A full repaint for a terminal of the model's size: reset, the main screen (and the alternate one over
    /// it when shown), tab stops, the saved cursor, scroll region, cursor, pen, charsets, modes and title.
    /// Feeding it to a fresh `ScreenModel` of the same size gives an equal model (scrollback aside).
    public static func keyframe(of m: ScreenModel) -> [UInt8] {
        var w = ANSIWriter(capacity: m.cols * m.rows * 2 + 256)
        w.raw("\u{1b}c")
        w.reset()
        if m.modes.alternateScreen {
            drawRows(of: m, mainScreen: true, into: &w)
            w.endLineDrawing()
            if let saved = m.alternateSavedCursor {
                // 1049 saves the cursor and pen the program had when it switched.
                save(saved, with: "\u{1b}[?1049h", into: &w)
            } else {
                w.raw("\u{1b}[?1047h")
            }
            w.forgetPen()
            w.setPen(Pen())
        }
        drawRows(of: m, mainScreen: false, into: &w)
        w.endLineDrawing()
        if m.tabStops != (0..<m.cols).filter({ $0 > 0 && $0 % 8 == 0 }) {
            w.raw("\u{1b}[3g")
            for x in m.tabStops { w.move(x: x, y: 0); w.raw("\u{1b}H") }
        }
        if let saved = m.savedCursor { save(saved, with: "\u{1b}7", into: &w) }
        let region = m.scrollTop != 0 || m.scrollBottom != m.rows - 1 ? "\u{1b}[\(m.scrollTop + 1);\(m.scrollBottom + 1)r" : ""
        if m.modes.origin && (m.cursorY < m.scrollTop || m.cursorY > m.scrollBottom) {
            // Origin mode with the cursor outside the scroll region, where a DECRC can leave it (as in tmux): no
            // CUP reaches it, so it is saved there under the whole-screen region and restored once the region is
            // set. (The terminal's saved cursor then holds this place, not the model's: the one case a keyframe
            // does not carry it.)
            w.setPen(m.pen)
            w.raw(charsets(g0: m.g0, g1: m.g1, shifted: m.shifted))
            w.raw("\u{1b}[?6h\u{1b}[\(m.cursorY + 1);\(m.cursorX + 1)H\u{1b}7" + region + "\u{1b}8")
        } else {
            w.raw(region)
            placeCursor(of: m, into: &w, origin: m.modes.origin)
        }
        w.setPen(m.pen)
        w.raw(charsets(g0: m.g0, g1: m.g1, shifted: m.shifted))
        w.raw(modes(m.modes, including: true))
        if !m.title.isEmpty { w.raw("\u{1b}]2;\(m.title)\u{07}") }
        return w.bytes
    }

    /// Puts the terminal in `saved`'s state (pen, charsets, origin mode, position), sends `sequence` (DECSC, or
    /// DECSET 1049) to record it, then puts origin mode and charsets back to their defaults. The scroll region
    /// is still the whole screen here, so a position in origin mode is the absolute one.
    private static func save(_ saved: SavedCursor, with sequence: String, into w: inout ANSIWriter) {
        w.setPen(saved.pen)
        w.raw(charsets(g0: saved.g0, g1: saved.g1, shifted: saved.shifted))
        if saved.origin { w.raw("\u{1b}[?6h") } // homes the cursor, so the move comes after it
        w.move(x: saved.x, y: saved.y)
        w.raw(sequence)
        if saved.origin { w.raw("\u{1b}[?6l") }
        w.raw(charsets(g0: .ascii, g1: .ascii, shifted: false))
    }

    /// Draws every row of one screen at its own position (rows that wrapped continue without a CUP, so the
    /// terminal keeps them joined).
    static func drawRows(of m: ScreenModel, mainScreen: Bool, into w: inout ANSIWriter) {
        var continued = false
        for y in 0..<m.rows {
            let length = m.drawnLength(row: y, mainScreen: mainScreen)
            if !continued && length > 0 { w.move(x: 0, y: y) }
            if length > 0 { drawCells(of: m, row: y, from: 0, to: length, mainScreen: mainScreen, into: &w) }
            continued = length == m.cols && m.isWrapped(row: y, mainScreen: mainScreen) && y + 1 < m.rows
        }
    }

    /// Draws cells `from..<to` of row `y` where the terminal's cursor already is.
    static func drawCells(of m: ScreenModel, row y: Int, from: Int, to: Int, mainScreen: Bool, into w: inout ANSIWriter) {
        var x = from
        while x < to {
            let c = m.cell(x: x, y: y, mainScreen: mainScreen)
            if c.width == 0 {
                // A right half: skipped after its left half; alone (a broken pair), drawn as a blank.
                if x == from || m.cell(x: x - 1, y: y, mainScreen: mainScreen).width != 2 { w.cell(.blank(c.background), marks: []) }
                x += 1
                continue
            }
            // Half of a wide character at the edge, or one whose right half is gone (moved away by an insert,
            // as tmux's grid allows): a blank, so the next cell is drawn and not swallowed by a double-width one.
            if c.width == 2 && (x + 1 >= to || m.cell(x: x + 1, y: y, mainScreen: mainScreen).width != 0) {
                w.cell(.blank(c.background), marks: [])
                x += 1
                continue
            }
            w.cell(c, marks: c.hasCombining ? m.combiningMarks(x: x, y: y, mainScreen: mainScreen) : [])
            x += Int(max(c.width, 1))
        }
    }

    /// Puts the terminal's cursor where the model's is, including a pending wrap (the last column is drawn
    /// again so the terminal defers the wrap too).
    static func placeCursor(of m: ScreenModel, into w: inout ANSIWriter, origin: Bool) {
        if origin { w.raw("\u{1b}[?6h") }
        let y = origin ? m.cursorY - m.scrollTop : m.cursorY
        if m.pendingWrap {
            var x = m.cols - 1
            if m.cell(x: x, y: m.cursorY).width == 0 && x > 0 { x -= 1 }
            w.raw("\u{1b}[\(y + 1);\(x + 1)H")
            drawCells(of: m, row: m.cursorY, from: x, to: m.cols, mainScreen: false, into: &w)
            w.endLineDrawing()
        } else {
            w.raw("\u{1b}[\(y + 1);\(m.cursorX + 1)H")
        }
    }

    static func charsets(g0: Charset, g1: Charset, shifted: Bool) -> String {
        (g0 == .decGraphics ? "\u{1b}(0" : "\u{1b}(B") + (g1 == .decGraphics ? "\u{1b})0" : "\u{1b})B") + (shifted ? "\u{0e}" : "\u{0f}")
    }

    /// The sequences that set `modes` (all of them, or with `including` false only those a viewer's keys and
    /// mouse depend on: cursor keys, keypad, paste, mouse, focus, cursor visibility and shape).
    static func modes(_ modes: TerminalModes, including screenModes: Bool) -> String {
        var s = ""
        func set(_ n: Int, _ on: Bool) { s += "\u{1b}[?\(n)\(on ? "h" : "l")" }
        if screenModes {
            if modes.insert { s += "\u{1b}[4h" }
            if modes.newline { s += "\u{1b}[20h" }
            if !modes.autowrap { set(7, false) }
        }
        set(1, modes.applicationCursor)
        s += modes.applicationKeypad ? "\u{1b}=" : "\u{1b}>"
        set(2004, modes.bracketedPaste)
        if modes.mouse != .none { set(modes.mouse.rawValue, true) } else { set(1000, false); set(1002, false); set(1003, false) }
        if modes.mouseEncoding != .legacy { set(modes.mouseEncoding.rawValue, true) } else { set(1006, false) }
        set(1004, modes.focusEvents)
        if modes.cursorBlink { set(12, true) }
        if modes.cursorStyle != 0 { s += "\u{1b}[\(modes.cursorStyle) q" }
        set(25, modes.cursorVisible)
        return s
    }
}
