// The local terminal: size, raw mode, and restoring it on every way out.
import CPTY
import SwiftMateCore
import Glibc
import Synchronization

/// The terminal on standard input/output: its size, and raw mode that is always undone.
public enum LocalTerminal {
    private static let saved = Mutex<termios?>(nil)

    /// Whether standard input and output are terminals.
    public static var isInteractive: Bool { isatty(0) == 1 && isatty(1) == 1 }

    /// The size of the terminal on `fd`, or nil when it is not a terminal.
    public static func size(fd: Int32 = 1) -> (cols: UInt16, rows: UInt16)? {
        var cols: UInt16 = 0, rows: UInt16 = 0
        guard swiftmate_get_winsize(fd, &cols, &rows) == 0, cols > 0, rows > 0 else { return nil }
        return (cols, rows)
    }

    /// Bytes that draw `text` in reverse video on `row` and put the cursor back (tmate's status message).
    /// Control characters in `text` (it may come from the network: a peer address, a relay's notice) are
    /// shown as `?`, so a message can never move the cursor or change the terminal's modes.
    public static func statusLine(_ text: String, row: UInt16) -> [UInt8] {
        let shown = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.isTerminalControl ? "?" : $0 }))
        return Array("\u{1b}7\u{1b}[\(row);1H\u{1b}[0;7m \(shown) \u{1b}[0m\u{1b}[K\u{1b}8".utf8)
    }

    /// Puts standard input in raw mode (no echo, no line editing, no signals from keys), saving the
    /// old mode for `restore()`. Restoring is also registered with `atexit`.
    public static func enterRawMode() {
        var original = termios()
        guard tcgetattr(0, &original) == 0 else { return }
        let first = saved.withLock { s -> Bool in
            if s != nil { return false }
            s = original
            return true
        }
        guard first else { return }
        atexit { LocalTerminal.restore() }
        var raw = original
        cfmakeraw(&raw)
        tcsetattr(0, TCSADRAIN, &raw)
    }

    /// Restores the mode saved by `enterRawMode()`; safe to call more than once.
    public static func restore() {
        let original = saved.withLock { s -> termios? in
            let o = s
            s = nil
            return o
        }
        guard var original else { return }
        tcsetattr(0, TCSADRAIN, &original)
    }
}
