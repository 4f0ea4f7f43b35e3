// Golden screens: the screen model must show what tmux showed for the same bytes.
import Testing
import SwiftMateCore

@Suite struct ScreenModelGoldenTests {
    @Test func thereAreCases() {
        #expect(GoldenCase.all.count >= 20)
    }

    @Test(arguments: GoldenCase.all)
    func textMatchesTmux(_ golden: GoldenCase) {
        let model = golden.model()
        let actual = model.screenText
        #expect(actual.count == golden.screen.count)
        for (y, (got, want)) in zip(actual, golden.screen).enumerated() where got != want {
            Issue.record("\(golden.name) row \(y):\n  tmux:  \(want)\n  model: \(got)")
        }
        #expect(model.modes.alternateScreen == golden.alternate, "\(golden.name): alternate screen")
        #expect(model.cursorX == min(golden.cursorX, golden.cols - 1) && model.cursorY == golden.cursorY,
                "\(golden.name): cursor \(model.cursorX),\(model.cursorY) vs tmux \(golden.cursorX),\(golden.cursorY)")
    }

    @Test(arguments: GoldenCase.all)
    func attributesMatchTmux(_ golden: GoldenCase) {
        let model = golden.model()
        let expected = golden.expectedAttributes()
        var mismatches = 0
        for y in 0..<golden.rows {
            for x in 0..<golden.cols {
                let want = expected.cell(x: x, y: y), got = model.cell(x: x, y: y)
                // Only cells with text: tmux's -e output trims trailing blanks, so their colours are not in it.
                guard want.scalar != 0x20 || got.scalar != 0x20, want.width != 0 else { continue }
                var w = want.pen, g = got.pen
                w.attributes.remove(.lineDrawing)
                g.attributes.remove(.lineDrawing)
                if w != g {
                    mismatches += 1
                    if mismatches <= 5 { Issue.record("\(golden.name) cell \(x),\(y) '\(Unicode.Scalar(got.scalar).map { String($0) } ?? "?")': tmux \(w) model \(g)") }
                }
            }
        }
    }
}
