// An ssh viewer's writer: the stream as it is while sizes agree, a display of its own while they differ.
import Testing
@testable import SwiftMateCore

/// A display that tags what it was given, so the writer's choices show in its output.
private final class TaggingDisplay: JoinDisplay {
    func output(_ bytes: [UInt8]) -> [UInt8] { Array("<out:".utf8) + bytes + Array(">".utf8) }
    func keyframe(_ k: Keyframe) -> [UInt8] { Array("<key@\(k.seq)>".utf8) }
    func sessionResized(cols: UInt16, rows: UInt16) -> [UInt8] { Array("<session \(cols)x\(rows)>".utf8) }
    func terminalResized(cols: UInt16, rows: UInt16) -> [UInt8] { Array("<window \(cols)x\(rows)>".utf8) }
    func message(_ text: String?) -> [UInt8] { Array("<message \(text ?? "gone")>".utf8) }
}

@Suite struct TerminalViewerWriterTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    private let catchUp = KeyframeCache.CatchUp(repaint: Keyframe(seq: 10, cols: 80, rows: 24, bytes: []), seq: 10, bytes: Array("0123".utf8))

    @Test func sameSizePassesTheStreamThrough() async {
        var w = TerminalViewerWriter(window: (80, 24)) { _, _ in TaggingDisplay() }
        let out = w.bytes(for: [.resize(viewer: 0, cols: 80, rows: 24), .output(seq: 0, bytes: Array("hi".utf8))]) { catchUp }
        #expect(text(out) == "hi")
    }

    @Test func aSmallerWindowIsDrawnFromACatchUpWithoutRepeatingOutput() async {
        var w = TerminalViewerWriter(window: (40, 10)) { _, _ in TaggingDisplay() }
        // The join's own catch-up is queued behind the size: its keyframe resets, its output is drawn once.
        let out = w.bytes(for: [.resize(viewer: 0, cols: 80, rows: 24), .keyframe(catchUp.repaint!),
                                      .output(seq: 10, bytes: Array("0123".utf8)), .output(seq: 14, bytes: Array("45".utf8))]) { catchUp }
        #expect(text(out) == "<key@10><out:0123><key@10><out:0123><out:45>")
        // Output already drawn from the catch-up is not drawn again.
        var v = TerminalViewerWriter(window: (40, 10)) { _, _ in TaggingDisplay() }
        let out2 = v.bytes(for: [.resize(viewer: 0, cols: 80, rows: 24), .output(seq: 12, bytes: Array("2345".utf8))]) { catchUp }
        #expect(text(out2) == "<key@10><out:0123><out:45>")
    }

    @Test func whenTheSizesAgreeAgainTheStreamGoesAsItIs() async {
        var w = TerminalViewerWriter(window: (40, 10)) { _, _ in TaggingDisplay() }
        _ = w.bytes(for: [.resize(viewer: 0, cols: 80, rows: 24)]) { catchUp }
        let out = w.bytes(for: [.resize(viewer: 7, cols: 80, rows: 24), .output(seq: 14, bytes: Array("x".utf8))]) { catchUp }
        #expect(text(out) == "<window 80x24>x")
    }

    @Test func withoutADisplayOrATerminalSizeTheStreamGoesAsItIs() async {
        var none = TerminalViewerWriter(window: (40, 10), makeDisplay: nil)
        #expect(text(none.bytes(for: [.resize(viewer: 0, cols: 80, rows: 24), .output(seq: 0, bytes: Array("a".utf8))]) { catchUp }) == "a")
        var noPTY = TerminalViewerWriter(window: (0, 0)) { _, _ in TaggingDisplay() }
        #expect(text(noPTY.bytes(for: [.resize(viewer: 0, cols: 80, rows: 24), .output(seq: 0, bytes: Array("b".utf8))]) { catchUp }) == "b")
    }
}
