// One character cell of the screen model: the character, its width, colours and attributes.

/// A colour as the terminal was told it: default, one of the 16 basic colours (SGR 30–37, 90–97),
/// a 256-colour palette index (SGR 38;5;n) or 24-bit RGB (SGR 38;2;r;g;b). Kept in the form it was
/// given, as tmux does, so a repaint says the same thing.
public struct TerminalColor: Hashable, Sendable, BitwiseCopyable {
    /// Tag in the top byte (0 default, 1 basic, 2 palette, 3 RGB), value below.
    public let raw: UInt32

    /// The terminal's default colour.
    public static let `default` = TerminalColor(raw: 0)
    /// Basic colour 0–7, or 8–15 for the bright ones (SGR 90–97).
    public static func basic(_ index: UInt8) -> TerminalColor { TerminalColor(raw: 0x0100_0000 | UInt32(index & 15)) }
    /// A 256-colour palette index.
    public static func palette(_ index: UInt8) -> TerminalColor { TerminalColor(raw: 0x0200_0000 | UInt32(index)) }
    /// A 24-bit colour.
    public static func rgb(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> TerminalColor {
        TerminalColor(raw: 0x0300_0000 | UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
    }

    /// The SGR parameters that select this colour as foreground (`background` false) or background.
    public func sgr(background: Bool) -> String {
        let value = raw & 0x00FF_FFFF
        switch raw >> 24 {
        case 1 where value < 8: return String((background ? 40 : 30) + Int(value))
        case 1: return String((background ? 100 : 90) + Int(value) - 8)
        case 2: return "\(background ? 48 : 38);5;\(value)"
        case 3: return "\(background ? 48 : 38);2;\(value >> 16);\((value >> 8) & 0xFF);\(value & 0xFF)"
        default: return background ? "49" : "39"
        }
    }
}

/// Cell attributes (SGR).
public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    /// Makes a set.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// SGR 1.
    public static let bold = CellAttributes(rawValue: 1 << 0)
    /// SGR 2.
    public static let dim = CellAttributes(rawValue: 1 << 1)
    /// SGR 3.
    public static let italic = CellAttributes(rawValue: 1 << 2)
    /// SGR 4 (or 4:1).
    public static let underline = CellAttributes(rawValue: 1 << 3)
    /// SGR 5 (and 6).
    public static let blink = CellAttributes(rawValue: 1 << 4)
    /// SGR 7.
    public static let inverse = CellAttributes(rawValue: 1 << 5)
    /// SGR 8.
    public static let hidden = CellAttributes(rawValue: 1 << 6)
    /// SGR 9.
    public static let strike = CellAttributes(rawValue: 1 << 7)
    /// SGR 21 or 4:2.
    public static let doubleUnderline = CellAttributes(rawValue: 1 << 8)
    /// SGR 4:3.
    public static let curlyUnderline = CellAttributes(rawValue: 1 << 9)
    /// SGR 4:4.
    public static let dottedUnderline = CellAttributes(rawValue: 1 << 10)
    /// SGR 4:5.
    public static let dashedUnderline = CellAttributes(rawValue: 1 << 11)
    /// SGR 53.
    public static let overline = CellAttributes(rawValue: 1 << 12)
    /// Drawn from the DEC special graphics set: the cell keeps the ASCII byte (as tmux does) and a
    /// renderer selects the line-drawing set for it.
    public static let lineDrawing = CellAttributes(rawValue: 1 << 13)
    /// Every underline style.
    public static let anyUnderline: CellAttributes = [.underline, .doubleUnderline, .curlyUnderline, .dottedUnderline, .dashedUnderline]
}

/// What new characters are drawn with: attributes and colours.
public struct Pen: Hashable, Sendable {
    /// Attributes.
    public var attributes: CellAttributes = []
    /// Foreground.
    public var foreground: TerminalColor = .default
    /// Background.
    public var background: TerminalColor = .default
    /// The default pen (SGR 0).
    public init() {}
}

/// One cell: 16 bytes, no references, so rows are plain memory.
public struct Cell: Hashable, Sendable {
    /// The character (a Unicode scalar value); a space for blank cells.
    public var scalar: UInt32
    /// Foreground colour.
    public var foreground: TerminalColor
    /// Background colour.
    public var background: TerminalColor
    /// Attributes.
    public var attributes: CellAttributes
    /// 1, 2 for the left half of a wide character, 0 for its right half.
    public var width: UInt8
    /// Whether combining characters follow (kept beside the grid).
    public var hasCombining: Bool

    /// A cell drawing `scalar` with `pen`.
    @inline(__always)
    public init(scalar: UInt32, pen: Pen, width: UInt8 = 1) {
        self.scalar = scalar
        self.foreground = pen.foreground
        self.background = pen.background
        self.attributes = pen.attributes
        self.width = width
        self.hasCombining = false
    }

    /// A blank cell with background `background` (erased cells keep the pen's background, as in xterm and tmux).
    @inline(__always)
    public static func blank(_ background: TerminalColor = .default) -> Cell {
        var pen = Pen()
        pen.background = background
        return Cell(scalar: 0x20, pen: pen)
    }

    /// The pen this cell was drawn with.
    public var pen: Pen {
        var pen = Pen()
        pen.attributes = attributes
        pen.foreground = foreground
        pen.background = background
        return pen
    }
}
