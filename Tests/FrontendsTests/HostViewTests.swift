// What the host's terminal shows: the session at its own size, and messages that destroy no line of it.
import Testing
import SwiftMateANSI
import SwiftMateCore

/// The host's screen (an `ANSIFrontend` on the `HostScreen` path) and a model of the host's terminal fed every
/// byte the screen says to send it, as the terminal would be.
private struct HostView {
    let screen: ANSIFrontend
    let terminal: ScreenModel
    private(set) var seq: UInt64 = 0

    init(session: (cols: Int, rows: Int), terminal: (cols: Int, rows: Int)) {
        screen = ANSIFrontend(cols: session.cols, rows: session.rows, scrollback: 0)
        self.terminal = ScreenModel(cols: terminal.cols, rows: terminal.rows, scrollback: 0)
        self.terminal.feed(screen.start(session: (UInt16(session.cols), UInt16(session.rows)),
                                        terminal: (UInt16(terminal.cols), UInt16(terminal.rows))))
    }

    mutating func output(_ bytes: ArraySlice<UInt8>) {
        terminal.feed(screen.output(seq: seq, bytes: Array(bytes)))
        seq += UInt64(bytes.count)
    }

    func message(_ text: String?) { terminal.feed(screen.message(text)) }

    func resized(session: (cols: Int, rows: Int), terminal size: (cols: Int, rows: Int)? = nil) {
        terminal.feed(screen.resized(session: (UInt16(session.cols), UInt16(session.rows)),
                                     terminal: size.map { (UInt16($0.cols), UInt16($0.rows)) }))
    }

    /// The session's model, rebuilt from a keyframe (the screen's own model is not reachable from outside).
    func session() -> ScreenModel {
        let k = screen.keyframe()
        let m = ScreenModel(cols: Int(k.cols), rows: Int(k.rows), scrollback: 0)
        m.feed(k.bytes)
        return m
    }
}

/// Where `terminal` does not show `session` at its own size with the rest marked by dots (nil when it does).
private func differenceFromSessionWithDots(_ terminal: ScreenModel, _ session: ScreenModel) -> String? {
    for y in 0..<terminal.rows {
        for x in 0..<terminal.cols {
            let got = terminal.cell(x: x, y: y)
            if x < session.cols && y < session.rows {
                let want = session.cell(x: x, y: y)
                if got.scalar != want.scalar || got.width != want.width {
                    return "row \(y) column \(x): \(got.scalar) where the session has \(want.scalar)\n"
                        + (0..<terminal.rows).map { terminal.text(row: $0) }.joined(separator: "\n")
                }
            } else if got.scalar != 0xB7 {
                return "row \(y) column \(x) is outside the session but not a dot\n"
                    + (0..<terminal.rows).map { terminal.text(row: $0) }.joined(separator: "\n")
            }
        }
    }
    if terminal.cursorX != session.cursorX || terminal.cursorY != session.cursorY {
        return "cursor at \(terminal.cursorX),\(terminal.cursorY), the session's at \(session.cursorX),\(session.cursorY)"
    }
    return nil
}

@Suite struct HostViewTests {
    /// The recording in three parts: a message comes after the first, goes after the second.
    private func thirds(_ input: [UInt8]) -> [ArraySlice<UInt8>] {
        let a = input.count / 3, b = 2 * input.count / 3
        return [input[..<a], input[a..<b], input[b...]]
    }

    @Test(arguments: GoldenCase.all)
    func aTerminalOfTheSessionsSizeEndsExactlyAsTheSessionWithAMessageShownAndTakenAway(_ golden: GoldenCase) {
        var view = HostView(session: (golden.cols, golden.rows), terminal: (golden.cols, golden.rows))
        let parts = thirds(golden.input)
        view.output(parts[0])
        view.message("swiftmate: a mate has joined (127.0.0.1:40412) -- 1 connected")
        view.output(parts[1])
        view.message(nil)
        view.output(parts[2])
        let (session, terminal) = (ScreenState(view.session()), ScreenState(view.terminal))
        #expect(session == terminal, "\(golden.name): \(session.difference(from: terminal))")
    }

    @Test(arguments: GoldenCase.all)
    func aLargerTerminalShowsTheSessionAtItsSizeWithTheRestDotted(_ golden: GoldenCase) {
        var view = HostView(session: (golden.cols, golden.rows), terminal: (golden.cols + 7, golden.rows + 3))
        let parts = thirds(golden.input)
        view.output(parts[0])
        view.message("swiftmate: a mate has joined")
        view.output(parts[1])
        // The message is in the margin: no row of the session is covered.
        #expect(view.terminal.text(row: golden.rows + 2).contains("a mate has joined"))
        view.message(nil)
        view.output(parts[2])
        let difference = differenceFromSessionWithDots(view.terminal, view.session())
        #expect(difference == nil, "\(golden.name): \(difference ?? "")")
    }

    @Test func theMessageOnTheBottomRowGoesAndTheRowComesBackEvenAfterScrolling() {
        var view = HostView(session: (40, 6), terminal: (40, 6))
        view.output(Array("1\r\n2\r\n3\r\n4\r\n5\r\nprompt$ ".utf8)[...])
        view.message("swiftmate: a mate has joined")
        #expect(view.terminal.text(row: 5).contains("a mate has joined"))
        #expect(view.terminal.cursorX == 8 && view.terminal.cursorY == 5, "the cursor is where the shell left it")
        // The shell scrolls the message's row up before it goes.
        view.output(Array("ls\r\nfile\r\nprompt$ ".utf8)[...])
        view.message(nil)
        #expect((0..<6).map { view.terminal.text(row: $0) } == ["3", "4", "5", "prompt$ ls", "file", "prompt$"])
        #expect(view.terminal.cursorX == 8 && view.terminal.cursorY == 5)
    }

    @Test func aMessageWaitsWhileTheStreamIsInTheMiddleOfASequence() {
        var view = HostView(session: (40, 6), terminal: (40, 6))
        view.output(Array("abc\u{1b}[3".utf8)[...])
        view.message("hello")
        #expect(!view.terminal.text(row: 5).contains("hello"), "not drawn inside the unfinished CSI")
        view.output(Array("1mred".utf8)[...])
        #expect(view.terminal.text(row: 5).contains("hello"))
        #expect(view.terminal.pen == view.session().pen, "the stream's pen is put back after the message")
        view.message(nil)
        #expect(ScreenState(view.terminal) == ScreenState(view.session()))
    }

    @Test func theSessionShrinkingBelowTheTerminalIsDottedAndGrowingBackTakesTheStreamAgain() {
        var view = HostView(session: (30, 8), terminal: (30, 8))
        view.output(Array("\u{1b}[5;7r\u{1b}[?6h\u{1b}(0qqq\u{1b}(B hello".utf8)[...])
        // A viewer's smaller window: the session shrinks, the host's terminal does not.
        view.resized(session: (20, 5))
        view.output(Array("\r\nmore".utf8)[...])
        let difference = differenceFromSessionWithDots(view.terminal, view.session())
        #expect(difference == nil, "\(difference ?? "")")
        // The viewer leaves: back to the terminal's size, and the terminal takes the stream as it is again.
        view.resized(session: (30, 8))
        view.output(Array("\r\nend".utf8)[...])
        #expect(ScreenState(view.terminal) == ScreenState(view.session()))
    }

    @Test func aSessionStartingBelowWhatTheHostPrintedKeepsTheRowsOfTheTerminalAndTheModelTogether() {
        let screen = ANSIFrontend(cols: 30, rows: 6, scrollback: 0)
        let terminal = ScreenModel(cols: 30, rows: 6, scrollback: 0)
        terminal.feed("ssh session: ssh -p 1 T@h\r\nssh session read only: …\r\n")
        terminal.feed(screen.start(session: (30, 6), terminal: (30, 6)))
        // The host runner starts the stream with a line feed per row printed (the terminal is not sent them).
        _ = screen.output(seq: 0, bytes: [0x0A, 0x0A])
        var seq: UInt64 = 2
        for line in ["host$ ls\r\n", "a b\r\n", "host$ "] {
            terminal.feed(screen.output(seq: seq, bytes: Array(line.utf8)))
            seq += UInt64(line.utf8.count)
        }
        terminal.feed(screen.message("a mate has joined"))
        terminal.feed(screen.message(nil))
        let session = ScreenModel(cols: 30, rows: 6, scrollback: 0)
        session.feed(screen.keyframe().bytes)
        #expect((0..<6).map { session.text(row: $0) } == ["", "", "host$ ls", "a b", "host$", ""], "viewers never see the strings")
        #expect((0..<6).map { terminal.text(row: $0) }.dropFirst(2) == ["host$ ls", "a b", "host$", ""])
        #expect(terminal.cursorY == session.cursorY && terminal.cursorX == session.cursorX)
    }

    @Test func aSmallerTerminalSeesThePartAroundTheCursorWithANotice() {
        var view = HostView(session: (60, 20), terminal: (40, 10))
        view.output(Array((1...19).map { "row \($0)" }.joined(separator: "\r\n").utf8)[...])
        #expect(view.terminal.text(row: 9).contains("session 60x20, window 40x10"))
        #expect(view.terminal.text(row: 8) == "row 19")
        view.message("a mate has joined")
        #expect(view.terminal.text(row: 9).contains("a mate has joined"))
        view.message(nil)
        #expect(view.terminal.text(row: 9).contains("session 60x20, window 40x10"), "the notice is back")
    }

    @Test func theNoticeOfASmallerWindowIsTheLongestWordingThatFits() {
        for width in 8...200 {
            let text = ANSIRenderer.notice(session: (300, 90), window: (width, 20), columns: (101, 100 + width), rows: (71, 89))
            #expect(text.unicodeScalars.count <= max(width, " 300x90 in \(width)x20 ".count), "\(width): \(text)")
            if width >= 60 { #expect(text.contains("session 300x90, window \(width)x20"), "\(width): \(text)") }
            if width >= 130 { #expect(text.hasSuffix("enlarge the window to see it all "), "\(width): \(text)") }
        }
    }
}
