// The local terminal: size, raw mode, and restoring it on every way out.
import CPTY
import Foundation
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

    /// The row (0-based) the terminal's cursor is on, asked with DSR 6 (every terminal a person uses answers it);
    /// nil when no answer came within `timeout` seconds. Call it in raw mode, before anything else reads
    /// standard input: keys typed meanwhile are returned in `typed`, to be passed on.
    public static func cursorRow(timeout: Double = 0.5) -> (row: Int?, typed: [UInt8]) {
        guard FileDescriptorIO.writeAll(1, Array("\u{1b}[6n".utf8)) else { return (nil, []) }
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while received.count < 4096 {
            if let (row, range) = Self.cursorReport(in: received) {
                received.removeSubrange(range)
                return (row, received)
            }
            let left = Int(deadline.timeIntervalSinceNow * 1000)
            var poller = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            guard left > 0, poll(&poller, 1, Int32(left)) > 0, let bytes = FileDescriptorIO.read(0) else { break }
            received += bytes
        }
        return (nil, received)
    }

    /// A cursor position report (`ESC [ row ; col R`) in `bytes`: its row (0-based) and where it is.
    static func cursorReport(in bytes: [UInt8]) -> (Int, Range<Int>)? {
        var start = 0
        while let escape = bytes[start...].firstIndex(of: 0x1B) {
            var i = escape + 1
            guard i < bytes.count, bytes[i] == UInt8(ascii: "[") else { start = escape + 1; continue }
            i += 1
            var row = 0, digits = 0, sawSemicolon = false
            while i < bytes.count, digits < 8 {
                let b = bytes[i]
                if b >= 0x30 && b <= 0x39 {
                    if !sawSemicolon { row = row * 10 + Int(b - 0x30) }
                    digits += 1
                } else if b == UInt8(ascii: ";") && !sawSemicolon {
                    sawSemicolon = true
                } else {
                    break
                }
                i += 1
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "R"), sawSemicolon, row > 0 { return (row - 1, escape..<(i + 1)) }
            start = escape + 1
        }
        return nil
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
