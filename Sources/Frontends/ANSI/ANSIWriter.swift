// Byte building for the ANSI renderer: cursor moves, SGR for a pen, characters, charsets.
import SwiftMateCore

/// Accumulates ANSI output and remembers the pen and charset the terminal has, so it only says what changes.
struct ANSIWriter {
    var bytes: [UInt8] = []
    private(set) var pen: Pen? = Pen()
    private var lineDrawing = false

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    /// CUP to 0-based `x`, `y`.
    mutating func move(x: Int, y: Int) { raw("\u{1b}[\(y + 1);\(x + 1)H") }

    /// Makes the terminal's pen `target` (one SGR starting from 0, when it differs).
    mutating func setPen(_ target: Pen) {
        guard pen != target else { return }
        raw("\u{1b}[" + Self.sgr(target) + "m")
        pen = target
    }

    /// The terminal's pen is not known (after RIS it is the default again: call `reset`).
    mutating func forgetPen() { pen = nil }

    /// After RIS: default pen and ASCII.
    mutating func reset() {
        pen = Pen()
        lineDrawing = false
    }

    /// Each attribute's SGR parameter, in the order they are written.
    private static let attributeCodes: [(CellAttributes, String)] = [
        (.bold, "1"), (.dim, "2"), (.italic, "3"), (.underline, "4"), (.doubleUnderline, "4:2"), (.curlyUnderline, "4:3"),
        (.dottedUnderline, "4:4"), (.dashedUnderline, "4:5"), (.blink, "5"), (.inverse, "7"), (.hidden, "8"), (.strike, "9"),
        (.overline, "53"),
    ]

    /// The SGR parameters (without CSI and `m`) for `pen`, starting with 0.
    static func sgr(_ pen: Pen) -> String {
        var parts = ["0"] + attributeCodes.filter { pen.attributes.contains($0.0) }.map(\.1)
        if pen.foreground != .default { parts.append(pen.foreground.sgr(background: false)) }
        if pen.background != .default { parts.append(pen.background.sgr(background: true)) }
        return parts.joined(separator: ";")
    }

    /// Draws one cell (its pen, charset, character and combining marks).
    mutating func cell(_ c: Cell, marks: [UInt32]) {
        var p = c.pen
        let drawing = p.attributes.contains(.lineDrawing)
        p.attributes.remove(.lineDrawing)
        setPen(p)
        if drawing != lineDrawing {
            raw(drawing ? "\u{1b}(0" : "\u{1b}(B")
            lineDrawing = drawing
        }
        scalar(c.scalar)
        for m in marks { scalar(m) }
    }

    /// Back to ASCII in G0 if line drawing was selected for cells.
    mutating func endLineDrawing() {
        if lineDrawing { raw("\u{1b}(B"); lineDrawing = false }
    }

    private mutating func scalar(_ v: UInt32) {
        if v < 0x80 {
            bytes.append(v < 0x20 || v == 0x7F ? 0x20 : UInt8(v))
            return
        }
        guard let s = Unicode.Scalar(v) else { bytes.append(0x20); return }
        bytes.append(contentsOf: String(Character(s)).utf8)
    }
}
