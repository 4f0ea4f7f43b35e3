// Everything a keyframe must reproduce, as one comparable value (scrollback aside).
import SwiftMateCore

/// A model's visible state: both screens' cells and marks, cursor, pen, modes, region, tabs, charsets, title.
struct ScreenState: Equatable, CustomStringConvertible {
    struct Row: Equatable {
        var cells: [Cell]
        var marks: [[UInt32]]
    }
    var active: [Row]
    var main: [Row]?
    var cursor: [Int]
    var pendingWrap: Bool
    var pen: Pen
    var modes: TerminalModes
    var region: [Int]
    var tabs: [Int]
    var charsets: [String]
    var title: String
    var saved: SavedCursor?
    var text: [String]

    init(_ m: ScreenModel) {
        func rows(main: Bool) -> [Row] {
            (0..<m.rows).map { y in
                Row(cells: (0..<m.cols).map { m.cell(x: $0, y: y, mainScreen: main) },
                    marks: (0..<m.cols).map { m.combiningMarks(x: $0, y: y, mainScreen: main) })
            }
        }
        active = rows(main: false)
        main = m.modes.alternateScreen ? rows(main: true) : nil
        cursor = [m.cursorX, m.cursorY]
        pendingWrap = m.pendingWrap
        pen = m.pen
        modes = m.modes
        region = [m.scrollTop, m.scrollBottom]
        tabs = m.tabStops
        charsets = ["\(m.g0)", "\(m.g1)", "\(m.shifted)"]
        title = m.title
        saved = m.savedCursor
        text = m.screenText
    }

    /// The first difference, for a failure message.
    func difference(from other: ScreenState) -> String {
        if active != other.active {
            for y in active.indices where active[y] != other.active[y] {
                let x = active[y].cells.indices.first { active[y].cells[$0] != other.active[y].cells[$0] } ?? -1
                return "row \(y) col \(x): \(x >= 0 ? "\(active[y].cells[x]) vs \(other.active[y].cells[x])" : "marks")\n\(text[y])\n\(other.text[y])"
            }
        }
        if main != other.main { return "main screen" }
        if cursor != other.cursor || pendingWrap != other.pendingWrap { return "cursor \(cursor) \(pendingWrap) vs \(other.cursor) \(other.pendingWrap)" }
        if pen != other.pen { return "pen \(pen) vs \(other.pen)" }
        if modes != other.modes { return "modes \(modes) vs \(other.modes)" }
        if region != other.region { return "region \(region) vs \(other.region)" }
        if tabs != other.tabs { return "tabs" }
        if charsets != other.charsets { return "charsets \(charsets) vs \(other.charsets)" }
        if saved != other.saved { return "saved cursor \(String(describing: saved)) vs \(String(describing: other.saved))" }
        return title != other.title ? "title" : "none"
    }

    var description: String { text.joined(separator: "\n") }
}
