// Random bytes and random well-formed sequences never crash the screen model or put the cursor out of bounds.
import Testing
@testable import SwiftMateCore

/// A small seeded generator, so a failure can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct ScreenModelFuzzTests {
    /// A random piece of terminal output: text (ASCII, wide, combining, invalid UTF-8), controls, or a
    /// CSI/ESC/OSC/DCS sequence with random (sometimes huge or many) parameters.
    static func piece(_ rng: inout SplitMix64) -> [UInt8] {
        func number() -> String {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: return ""
            case 1: return String(Int.random(in: 0...9_999_999_999, using: &rng))
            default: return String(Int.random(in: 0...300, using: &rng))
            }
        }
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: return (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        case 1: return Array("日本語😀e\u{301}\u{302}x".utf8.shuffled(using: &rng).prefix(Int.random(in: 1...12, using: &rng)))
        case 2: return [[0x08, 0x09, 0x0A, 0x0D, 0x0E, 0x0F, 0x07, 0x0B, 0x0C].randomElement(using: &rng)!]
        case 3, 4, 5:
            let finals = Array("@ABCDEFGHIJKLMPSTXZ`abdefghlmnqrsu".utf8)
            let prefix = ["", "", "?", ">", "!", " "].randomElement(using: &rng)!
            let count = Int.random(in: 0...20, using: &rng)
            let params = (0..<count).map { _ in number() }.joined(separator: Bool.random(using: &rng) ? ";" : ":")
            let privateModes = ["1", "6", "7", "25", "47", "1047", "1048", "1049", "2004", "1000", "1006", "3", "66"]
            if prefix == "?" && Bool.random(using: &rng) {
                return Array("\u{1b}[?\(privateModes.randomElement(using: &rng)!)\(Bool.random(using: &rng) ? "h" : "l")".utf8)
            }
            return Array("\u{1b}[\(prefix)\(params)".utf8) + [finals.randomElement(using: &rng)!]
        case 6: return Array("\u{1b}\(["7", "8", "D", "E", "M", "H", "c", "=", ">", "(0", "(B", ")0", "#8"].randomElement(using: &rng)!)".utf8)
        case 7: return Array("\u{1b}]\(["0", "2", "52", "1"].randomElement(using: &rng)!);".utf8)
            + (0..<Int.random(in: 0...3000, using: &rng)).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) } + [0x07]
        case 8: return Array("\u{1b}P1;2q".utf8) + (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) } + Array("\u{1b}\\".utf8)
        default:
            return Array("some text \(Int.random(in: 0...99999, using: &rng)) ".utf8)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func randomOutputKeepsTheModelSane(seed: UInt64) {
        var rng = SplitMix64(state: seed)
        let model = ScreenModel(cols: Int.random(in: 1...120, using: &rng), rows: Int.random(in: 1...40, using: &rng), scrollback: 50)
        for step in 0..<3000 {
            if step % 400 == 399 { model.resize(cols: Int.random(in: 1...150, using: &rng), rows: Int.random(in: 1...50, using: &rng)) }
            let bytes = Self.piece(&rng)
            // Sometimes split a piece across two feeds.
            let cut = Int.random(in: 0...bytes.count, using: &rng)
            model.feed(Array(bytes[..<cut]))
            model.feed(Array(bytes[cut...]))
            guard model.cursorX >= 0, model.cursorX < model.cols, model.cursorY >= 0, model.cursorY < model.rows,
                  model.scrollTop >= 0, model.scrollTop < model.scrollBottom || model.rows == 1, model.scrollBottom < model.rows else {
                Issue.record("seed \(seed) step \(step): cursor \(model.cursorX),\(model.cursorY) region \(model.scrollTop)-\(model.scrollBottom) in \(model.cols)x\(model.rows)")
                return
            }
        }
        // Reading everything back works too.
        _ = model.screenText
        _ = (0..<model.scrollbackCount).map { model.scrollbackText($0) }
        #expect(model.scrollbackCount <= 50)
    }

    @Test func pureRandomBytesAtEverySize() {
        var rng = SplitMix64(state: 42)
        for cols in [1, 2, 3, 80] {
            for rows in [1, 2, 24] {
                let model = ScreenModel(cols: cols, rows: rows)
                for _ in 0..<200 {
                    model.feed((0..<256).map { _ in UInt8.random(in: 0...255, using: &rng) })
                    #expect(model.cursorX < cols && model.cursorY < rows)
                }
            }
        }
    }

    @Test func longSequencesAreCapped() {
        let model = ScreenModel(cols: 80, rows: 24)
        model.feed("\u{1b}]2;" + String(repeating: "t", count: 100_000) + "\u{07}after")
        #expect(model.title.isEmpty) // over the cap: ignored, not cut
        model.feed("\u{1b}[" + String(repeating: "1;", count: 10_000) + "31mred")
        model.feed("\u{1b}[99999999999999999999Cx")
        #expect(model.cursorX == 79)
        #expect(model.text(row: 0).hasPrefix("afterred"))
    }
}

/// Skipping bulk output that scrolls off unseen (models without scrollback) must not change the result.
@Suite struct ScrolledOffOutputTests {
    private func pair(cols: Int, rows: Int) -> (ScreenModel, ScreenModel) {
        let fast = ScreenModel(cols: cols, rows: rows, scrollback: 0)
        let exact = ScreenModel(cols: cols, rows: rows, scrollback: 0)
        exact.skipsScrolledOffOutput = false
        return (fast, exact)
    }

    @Test(arguments: [11, 12, 13, 14, 15, 16] as [UInt64])
    func skippingGivesTheSameScreen(seed: UInt64) {
        var rng = SplitMix64(state: seed)
        let (fast, exact) = pair(cols: Int.random(in: 5...100, using: &rng), rows: Int.random(in: 2...30, using: &rng))
        for _ in 0..<60 {
            var chunk: [UInt8] = []
            // Mostly plain lines (some long enough to wrap), now and then a sequence or a cursor move.
            for _ in 0..<Int.random(in: 1...400, using: &rng) {
                switch Int.random(in: 0..<20, using: &rng) {
                case 0: chunk += ScreenModelFuzzTests.piece(&rng)
                case 1: chunk += Array("\u{1b}[\(Int.random(in: 1...40, using: &rng));\(Int.random(in: 1...120, using: &rng))H".utf8)
                case 2: chunk += Array("\r\n\r\n".utf8)
                default:
                    chunk += (0..<Int.random(in: 0...150, using: &rng)).map { _ in UInt8.random(in: 0x20...0x7E, using: &rng) }
                    chunk += Array((Bool.random(using: &rng) ? "\r\n" : "\n").utf8)
                }
            }
            fast.feed(chunk)
            exact.feed(chunk)
            guard fast.screenText == exact.screenText, fast.cursorX == exact.cursorX, fast.cursorY == exact.cursorY,
                  fast.pendingWrap == exact.pendingWrap, fast.pen == exact.pen, fast.modes == exact.modes else {
                Issue.record("seed \(seed): differs\n\(fast.screenText.joined(separator: "\n"))\n---\n\(exact.screenText.joined(separator: "\n"))")
                return
            }
        }
    }

    @Test func theGoldenRecordingsGiveTmuxsScreenWithoutScrollbackToo() {
        for golden in GoldenCase.all {
            let m = ScreenModel(cols: golden.cols, rows: golden.rows, scrollback: 0)
            m.feed(golden.input)
            #expect(m.screenText == golden.screen, "\(golden.name)")
        }
    }

    @Test func aBigPlainOutputIsSkippedToItsLastScreen() {
        let (fast, exact) = pair(cols: 80, rows: 24)
        let text = Array((1...20000).map { "\($0)\r\n" }.joined().utf8)
        fast.feed("\u{1b}[41mred background from here\r\n")
        exact.feed("\u{1b}[41mred background from here\r\n")
        fast.feed(text)
        exact.feed(text)
        #expect(fast.screenText == exact.screenText)
        #expect(fast.text(row: 22) == "20000")
        #expect(fast.cell(x: 50, y: 0).background == exact.cell(x: 50, y: 0).background)
    }
}

@Test func clearingTheScrollbackKeepsTheScreenAndScrollsOnAfterIt() {
    let m = ScreenModel(cols: 20, rows: 5, scrollback: 10)
    m.feed((1...30).map { "line \($0)" }.joined(separator: "\r\n"))
    #expect(m.scrollbackCount == 10)
    let screen = m.screenText
    m.feed("\u{1b}[3J")
    #expect(m.scrollbackCount == 0 && m.screenText == screen)
    m.feed("\r\n" + (31...40).map { "line \($0)" }.joined(separator: "\r\n"))
    #expect(m.scrollbackCount == 10)
    #expect((0..<10).map { m.scrollbackText($0) } == (26...35).map { "line \($0)" })
    #expect(m.screenText == (36...40).map { "line \($0)" })
}
