// Keyframes rebuild the screen; viewport drawing clips and pads; the `ansi` frontend follows a session.
import Testing
import SwiftMateANSI
import SwiftMateCore
import SwiftMateTestSupport

@Suite struct KeyframeTests {
    @Test(arguments: GoldenCase.all)
    func keyframeRoundTrip(_ golden: GoldenCase) {
        let a = golden.model()
        let b = ScreenModel(cols: golden.cols, rows: golden.rows)
        b.feed("junk on the viewer's terminal first\r\n\u{1b}[31;1mred\u{1b}[?1h\u{1b}[5;10r")
        b.feed(ANSIRenderer.keyframe(of: a))
        let (sa, sb) = (ScreenState(a), ScreenState(b))
        #expect(sa == sb, "\(golden.name): \(sa.difference(from: sb))")
    }

    @Test(arguments: GoldenCase.all)
    func keyframeThenMoreOutputStaysEqual(_ golden: GoldenCase) {
        // Cut the recording in the middle: keyframe of the first half, then the second half on both.
        let half = golden.input.count / 2
        let a = ScreenModel(cols: golden.cols, rows: golden.rows)
        a.feed(Array(golden.input[..<half]))
        let b = ScreenModel(cols: golden.cols, rows: golden.rows)
        b.feed(ANSIRenderer.keyframe(of: a))
        // A sequence cut in two has not acted yet in A: B gets it whole, after the keyframe.
        let from = half - a.unfinishedSequenceBytes
        a.feed(Array(golden.input[half...]))
        b.feed(Array(golden.input[from...]))
        #expect(ScreenState(a).text == ScreenState(b).text, "\(golden.name): \(ScreenState(a).difference(from: ScreenState(b)))")
    }

    @Test func aSmallerWindowShowsTheCursorsCornerAndANotice() {
        let m = ScreenModel(cols: 120, rows: 40)
        for i in 0..<39 { m.feed("line \(i) " + String(repeating: "x", count: 100) + "\r\n") }
        m.feed("line 39")
        var viewport = Viewport(cols: 80, rows: 24)
        let out = ScreenModel(cols: 80, rows: 24)
        out.feed(ANSIRenderer.repaint(of: m, on: &viewport))
        #expect(out.text(row: 22) == "line 39")
        #expect(out.text(row: 21).hasPrefix("line 38 xxx"))
        #expect(out.text(row: 23).contains("session 120x40, window 80x24"))
        #expect(out.cursorY == 22)
        // Output lands where it should after an incremental update.
        _ = m.takeDamage()
        m.feed("\r\nnew line")
        out.feed(ANSIRenderer.update(of: m, damage: m.takeDamage(), on: &viewport))
        #expect(out.text(row: 22) == "new line")
        #expect(out.text(row: 21) == "line 39")
    }

    @Test func aLargerWindowIsPaddedWithDots() {
        let m = ScreenModel(cols: 20, rows: 5)
        m.feed("hello")
        var viewport = Viewport(cols: 30, rows: 8)
        let out = ScreenModel(cols: 30, rows: 8)
        out.feed(ANSIRenderer.repaint(of: m, on: &viewport))
        #expect(out.text(row: 0) == "hello" + String(repeating: " ", count: 15) + String(repeating: "·", count: 10))
        #expect(out.text(row: 6) == String(repeating: "·", count: 30))
        #expect(out.cursorX == 5 && out.cursorY == 0)
    }

    @Test func theFrontendFollowsOutputAndRendersAKeyframe() async throws {
        let frontend = ANSIFrontend(cols: 80, rows: 24)
        try await FrontendContract.check(frontend)
        let f = ANSIFrontend(cols: 40, rows: 10)
        try await f.handle(batch: [.start(SessionInfo(sessionID: "s", cols: 40, rows: 10, command: ["sh"])),
                                   .output(seq: 0, bytes: Array("\u{1b}[?1049hhello\r\nworld".utf8)),
                                   .output(seq: 20, bytes: Array("!".utf8))])
        let k = f.keyframe()
        #expect(k.seq == 21 && k.cols == 40 && k.rows == 10)
        let b = ScreenModel(cols: 40, rows: 10)
        b.feed(k.bytes)
        #expect(b.screenText.prefix(2) == ["hello", "world!"])
        #expect(f.screenText().prefix(2) == ["hello", "world!"])
        #expect(b.modes.alternateScreen)
    }
}

@Test func aHugeWindowIsPaddedOnlyUpToTheCap() {
    let m = ScreenModel(cols: 80, rows: 24)
    m.feed("x")
    var viewport = Viewport(cols: 65535, rows: 65535)
    let bytes = ANSIRenderer.repaint(of: m, on: &viewport)
    #expect(viewport.cols == 1000 && viewport.rows == 1000)
    #expect(bytes.count < 8 << 20)
}

@Test func aKeyframeKeepsTheCursorThatDECSET1049SavedInOriginMode() {
    let a = ScreenModel(cols: 40, rows: 10)
    a.feed("\u{1b}[3;8r\u{1b}[?6h\u{1b}[2;5Hmain\u{1b}[?1049halt")
    let b = ScreenModel(cols: 40, rows: 10)
    b.feed(ANSIRenderer.keyframe(of: a))
    #expect(b.alternateSavedCursor == a.alternateSavedCursor)
    a.feed("\u{1b}[?1049lX")
    b.feed("\u{1b}[?1049lX")
    #expect(ScreenState(a) == ScreenState(b))
}

@Test func aWideCharacterWhoseRightHalfMovedAwayIsDrawnAsABlankAndTheNextCellKept() {
    // Found by the screen fuzz target: an insert at the right half of a wide character leaves its left half
    // alone (as tmux's grid does); the keyframe drew the wide character and so swallowed the cell after it.
    let a = ScreenModel(cols: 20, rows: 3, scrollback: 0)
    a.feed("中中中中\u{1b}[1;2H\u{1b}[4h9\u{1b}[4l")
    #expect(a.cell(x: 0, y: 0).width == 2 && a.cell(x: 1, y: 0).scalar == 0x39, "the model keeps the lone left half")
    let b = ScreenModel(cols: 20, rows: 3, scrollback: 0)
    b.feed(ANSIRenderer.keyframe(of: a))
    #expect(b.cell(x: 0, y: 0).scalar == 0x20)
    #expect(b.cell(x: 1, y: 0).scalar == 0x39)
    #expect((2..<20).map { b.cell(x: $0, y: 0).scalar } == (2..<20).map { a.cell(x: $0, y: 0).scalar })
}
