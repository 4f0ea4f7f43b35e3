// The terminal modes a repaint must restore, and the cursor state DECSC saves.

/// Mouse reporting the program asked for (DECSET 9, 1000, 1002, 1003).
public enum MouseTracking: Int, Sendable, Equatable {
    /// No mouse reports.
    case none = 0
    /// X10 (9): presses only.
    case x10 = 9
    /// Normal (1000): presses and releases.
    case normal = 1000
    /// Button events (1002): also motion while a button is down.
    case buttonEvent = 1002
    /// Any event (1003): all motion.
    case anyEvent = 1003
}

/// How mouse reports are encoded (DECSET 1005, 1006, 1015).
public enum MouseEncoding: Int, Sendable, Equatable {
    /// The original bytes-in-range encoding.
    case legacy = 0
    /// UTF-8 coordinates (1005).
    case utf8 = 1005
    /// SGR (1006).
    case sgr = 1006
    /// urxvt (1015).
    case urxvt = 1015
}

/// A character set designation (G0/G1).
public enum Charset: Sendable, Equatable {
    /// US ASCII (`ESC ( B`).
    case ascii
    /// DEC special graphics, line drawing (`ESC ( 0`).
    case decGraphics
}

/// Modes that change how the terminal behaves or how keys and the mouse are reported.
public struct TerminalModes: Sendable, Equatable {
    /// DECSET 47/1047/1049: the alternate screen is shown.
    public var alternateScreen = false
    /// DECOM (6): cursor addressing relative to the scroll region.
    public var origin = false
    /// DECAWM (7): printing past the margin wraps.
    public var autowrap = true
    /// IRM (SM 4): printing inserts.
    public var insert = false
    /// LNM (SM 20): line feed also returns the carriage.
    public var newline = false
    /// DECCKM (1): cursor keys send application sequences.
    public var applicationCursor = false
    /// DECKPAM (`ESC =`) / DECNKM (66): the keypad sends application sequences.
    public var applicationKeypad = false
    /// DECSET 2004.
    public var bracketedPaste = false
    /// DECTCEM (25).
    public var cursorVisible = true
    /// DECSET 12 (att610).
    public var cursorBlink = false
    /// DECSCUSR parameter (0 is the terminal's default).
    public var cursorStyle = 0
    /// Mouse reporting.
    public var mouse = MouseTracking.none
    /// Mouse report encoding.
    public var mouseEncoding = MouseEncoding.legacy
    /// DECSET 1004: focus in/out reports.
    public var focusEvents = false
    /// Defaults (a fresh terminal).
    public init() {}
}

/// What DECSC (`ESC 7`) saves and DECRC (`ESC 8`) restores.
public struct SavedCursor: Sendable, Equatable {
    /// Column.
    public var x: Int
    /// Row.
    public var y: Int
    /// The pen.
    public var pen: Pen
    /// Origin mode.
    public var origin: Bool
    /// G0 and G1 designations and which is shifted in.
    public var g0: Charset
    /// G1.
    public var g1: Charset
    /// Whether G1 is in use (SO).
    public var shifted: Bool
}
