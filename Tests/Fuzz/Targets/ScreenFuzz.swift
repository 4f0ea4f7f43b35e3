// Fuzz target for terminal state: the VT parser, the screen writer, resizes, keyframes and viewer drawing.
import SwiftMateCore
import SwiftMateANSI

enum ScreenFuzz {
    /// Bytes fed in chunks to a model (host side) and to a viewer screen of another size (join client side),
    /// with resizes between chunks; keyframes rendered from the model rebuild a model with the same text.
    static func run(_ data: [UInt8]) {
        var input = FuzzInput(data)
        // Small screens keep each run fast under coverage instrumentation; sizes, not areas, find the edge cases.
        let cols = Int(input.byte() % 100) + 1, rows = Int(input.byte() % 40) + 1
        let model = ScreenModel(cols: cols, rows: rows, scrollback: Int(input.byte() % 8))
        let viewer = ViewerScreen(cols: UInt16(cols), rows: UInt16(rows),
                                  terminal: (UInt16(input.byte() % 110), UInt16(input.byte() % 50)))
        var viewport = Viewport(cols: Int(input.byte() % 90) + 1, rows: Int(input.byte() % 30) + 1)
        // Whole-screen work (resizes, keyframes, repaints) is capped per input so that each run stays fast.
        var wholeScreen = 6
        while !input.isEmpty {
            let op = input.byte()
            if op % 8 < 4 {
                guard wholeScreen > 0 else { continue }
                wholeScreen -= 1
            }
            switch op % 8 {
            case 0:
                let (c, r) = (input.byte() % 110, input.byte() % 50)
                model.resize(cols: Int(c), rows: Int(r))
                _ = viewer.sessionResized(cols: UInt16(c), rows: UInt16(r))
            case 1:
                _ = viewer.terminalResized(cols: UInt16(input.byte() % 110), rows: UInt16(input.byte() % 50))
            case 2:
                let k = Keyframe(seq: 0, cols: UInt16(model.cols), rows: UInt16(model.rows), bytes: ANSIRenderer.keyframe(of: model))
                _ = viewer.keyframe(k)
                checkKeyframe(k, of: model)
            case 3:
                _ = ANSIRenderer.repaint(of: model, on: &viewport)
            default:
                let chunk = input.chunk(max: 512)
                model.feed(chunk)
                _ = viewer.output(chunk)
                _ = ANSIRenderer.update(of: model, damage: model.takeDamage(), on: &viewport)
            }
        }
        checkKeyframe(Keyframe(seq: 0, cols: UInt16(model.cols), rows: UInt16(model.rows), bytes: ANSIRenderer.keyframe(of: model)), of: model)
    }

    /// A keyframe on a fresh model of its size gives the same screen and cursor (when the stream is not in the
    /// middle of a sequence, which a keyframe leaves out).
    private static func checkKeyframe(_ k: Keyframe, of model: ScreenModel) {
        guard model.unfinishedSequenceBytes == 0 else { return }
        let rebuilt = ScreenModel(cols: Int(k.cols), rows: Int(k.rows), scrollback: 0)
        rebuilt.feed(k.bytes)
        for y in 0..<model.rows {
            precondition(shown(row: y, of: rebuilt) == shown(row: y, of: model), "a keyframe does not rebuild row \(y)")
        }
        precondition(rebuilt.cursorX == model.cursorX && rebuilt.cursorY == model.cursorY, "a keyframe does not put the cursor back")
    }

    /// A row as a terminal shows it: each cell's character, and a blank for half of a wide character whose other
    /// half is gone. (The model keeps such halves as tmux's grid does, e.g. after deleting characters in the middle
    /// of a wide one; tmux's capture-pane skips them. No bytes rebuild a lone half on a terminal, so a keyframe
    /// draws it as the blank a terminal shows.)
    private static func shown(row y: Int, of m: ScreenModel) -> [UInt32] {
        (0..<m.cols).map { x in
            let c = m.cell(x: x, y: y)
            let leftHalfAlone = c.width == 2 && (x + 1 >= m.cols || m.cell(x: x + 1, y: y).width != 0)
            let rightHalfAlone = c.width == 0 && (x == 0 || m.cell(x: x - 1, y: y).width != 2)
            return leftHalfAlone || rightHalfAlone ? 0x20 : c.scalar
        }
    }
}
