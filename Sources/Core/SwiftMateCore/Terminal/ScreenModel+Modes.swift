// SGR (colours and attributes) and the mode switches (SM/RM, DECSET/DECRST).

extension ScreenModel {
    func selectGraphicRendition(_ p: borrowing CSIParameters) {
        if p.count == 0 { pen = Pen(); return }
        var i = 0
        while i < p.count {
            let code = p.get(i, 0, zeroIsDefault: false)
            var next = i + 1
            switch code {
            case 0: pen = Pen()
            case 1: pen.attributes.insert(.bold)
            case 2: pen.attributes.insert(.dim)
            case 3: pen.attributes.insert(.italic)
            case 4:
                pen.attributes.subtract(.anyUnderline)
                if p.isSub(i + 1) {
                    next = i + 2
                    switch p.get(i + 1, 0, zeroIsDefault: false) {
                    case 0: break
                    case 2: pen.attributes.insert(.doubleUnderline)
                    case 3: pen.attributes.insert(.curlyUnderline)
                    case 4: pen.attributes.insert(.dottedUnderline)
                    case 5: pen.attributes.insert(.dashedUnderline)
                    default: pen.attributes.insert(.underline)
                    }
                } else {
                    pen.attributes.insert(.underline)
                }
            case 5, 6: pen.attributes.insert(.blink)
            case 7: pen.attributes.insert(.inverse)
            case 8: pen.attributes.insert(.hidden)
            case 9: pen.attributes.insert(.strike)
            case 21: pen.attributes.subtract(.anyUnderline); pen.attributes.insert(.doubleUnderline)
            case 22: pen.attributes.subtract([.bold, .dim])
            case 23: pen.attributes.remove(.italic)
            case 24: pen.attributes.subtract(.anyUnderline)
            case 25: pen.attributes.remove(.blink)
            case 27: pen.attributes.remove(.inverse)
            case 28: pen.attributes.remove(.hidden)
            case 29: pen.attributes.remove(.strike)
            case 30...37: pen.foreground = .basic(UInt8(code - 30))
            case 39: pen.foreground = .default
            case 40...47: pen.background = .basic(UInt8(code - 40))
            case 49: pen.background = .default
            case 53: pen.attributes.insert(.overline)
            case 55: pen.attributes.remove(.overline)
            case 90...97: pen.foreground = .basic(UInt8(code - 90 + 8))
            case 100...107: pen.background = .basic(UInt8(code - 100 + 8))
            case 38, 48, 58:
                let (color, used) = extendedColor(p, at: i)
                next = i + used
                if let color {
                    if code == 38 { pen.foreground = color } else if code == 48 { pen.background = color }
                }
            default: break
            }
            // Sub-parameters of a code this model does not know are skipped with it.
            while next < p.count && p.isSub(next) { next += 1 }
            i = next
        }
    }

    /// Parses 38/48/58's colour at parameter `i`: `;5;n`, `;2;r;g;b`, `:5:n`, `:2::r:g:b` or `:2:r:g:b`.
    /// Returns the colour (nil when malformed) and how many parameters it took.
    private func extendedColor(_ p: borrowing CSIParameters, at i: Int) -> (TerminalColor?, Int) {
        let colon = p.isSub(i + 1)
        let kind = p.get(i + 1, -1, zeroIsDefault: false)
        func clamp(_ v: Int) -> UInt8 { UInt8(max(0, min(v, 255))) }
        switch kind {
        case 5:
            guard i + 2 < p.count else { return (nil, p.count - i) }
            return (.palette(clamp(p.get(i + 2, 0, zeroIsDefault: false))), 3)
        case 2:
            if colon {
                // Count this colour's sub-parameters: 4 (r:g:b) or 5 (colour space first).
                var n = 0
                while p.isSub(i + 2 + n) { n += 1 }
                let first = n >= 4 ? i + 3 : i + 2
                return (.rgb(clamp(p.get(first, 0, zeroIsDefault: false)), clamp(p.get(first + 1, 0, zeroIsDefault: false)),
                             clamp(p.get(first + 2, 0, zeroIsDefault: false))), 2 + n)
            }
            guard i + 4 < p.count else { return (nil, p.count - i) }
            return (.rgb(clamp(p.get(i + 2, 0, zeroIsDefault: false)), clamp(p.get(i + 3, 0, zeroIsDefault: false)),
                         clamp(p.get(i + 4, 0, zeroIsDefault: false))), 5)
        default:
            return (nil, 2)
        }
    }

    func setANSIModes(_ p: borrowing CSIParameters, on: Bool) {
        for i in 0..<p.count {
            switch p.get(i, 0, zeroIsDefault: false) {
            case 4: modes.insert = on
            case 20: modes.newline = on
            default: break
            }
        }
    }

    func setPrivateModes(_ p: borrowing CSIParameters, on: Bool) {
        for i in 0..<p.count {
            switch p.get(i, 0, zeroIsDefault: false) {
            case 1: modes.applicationCursor = on
            case 3:
                // DECCOLM: the size stays (as in tmux); the screen clears and the cursor goes home.
                eraseScreen(bg: .default)
                scrollTop = 0
                scrollBottom = rows - 1
                moveTo(x: 0, y: 0)
            case 6:
                modes.origin = on
                moveTo(x: 0, y: on ? scrollTop : 0)
            case 7: modes.autowrap = on
            case 12: modes.cursorBlink = on
            case 25: modes.cursorVisible = on
            case 66: modes.applicationKeypad = on
            case 9: modes.mouse = on ? .x10 : .none
            case 1000: modes.mouse = on ? .normal : .none
            case 1002: modes.mouse = on ? .buttonEvent : .none
            case 1003: modes.mouse = on ? .anyEvent : .none
            case 1004: modes.focusEvents = on
            case 1005: modes.mouseEncoding = on ? .utf8 : .legacy
            case 1006: modes.mouseEncoding = on ? .sgr : .legacy
            case 1015: modes.mouseEncoding = on ? .urxvt : .legacy
            case 2004: modes.bracketedPaste = on
            case 47, 1047:
                if on { enterAlternateScreen(saveCursor: false) } else { leaveAlternateScreen(restoreCursor: false) }
            case 1048:
                if on { saveCursor() } else { restoreCursor() }
            case 1049:
                if on { enterAlternateScreen(saveCursor: true) } else { leaveAlternateScreen(restoreCursor: true) }
            default: break
            }
        }
    }
}
