// Loads the golden cases recorded from tmux by scripts/golden.py (Tests/CoreTests/Golden/<case>/); FrontendsTests links this file.
import Foundation
import SwiftMateCore

/// One recorded case: the bytes tmux parsed, its size, and what tmux showed.
struct GoldenCase: CustomStringConvertible, Sendable {
    let name: String
    let cols: Int
    let rows: Int
    let input: [UInt8]
    /// `capture-pane -p`, one string per row.
    let screen: [String]
    /// `capture-pane -p -e`: rows with SGR sequences.
    let screenWithAttributes: [String]
    let cursorX: Int
    let cursorY: Int
    let alternate: Bool

    var description: String { name }

    /// Tests/CoreTests/Golden, found from either test target (FrontendsTests links this file).
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CoreTests/Golden")

    /// Every case, by name.
    static let all: [GoldenCase] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().compactMap { load($0) }
    }()

    static func load(_ name: String) -> GoldenCase? {
        let dir = directory.appendingPathComponent(name)
        func text(_ file: String) -> String? { try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8) }
        guard let size = text("size")?.split(separator: "x").compactMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }),
              size.count == 2, let input = try? Data(contentsOf: dir.appendingPathComponent("input")),
              let screen = text("screen.txt"), let withAttributes = text("screen-e.txt"),
              let cursor = text("cursor")?.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap({ Int($0) }),
              cursor.count == 3 else { return nil }
        func rows(_ s: String) -> [String] {
            var lines = s.components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() }
            return lines
        }
        return GoldenCase(name: name, cols: size[0], rows: size[1], input: [UInt8](input), screen: rows(screen),
                          screenWithAttributes: rows(withAttributes), cursorX: cursor[0], cursorY: cursor[1], alternate: cursor[2] == 1)
    }

    /// A model fed the whole recording.
    func model() -> ScreenModel {
        let m = ScreenModel(cols: cols, rows: rows)
        m.feed(input)
        return m
    }

    /// The attributes tmux reported, read back by feeding `capture-pane -e` into a model (G1 is line drawing
    /// there, as tmux's output assumes).
    func expectedAttributes() -> ScreenModel {
        let m = ScreenModel(cols: cols, rows: rows, scrollback: 0)
        m.feed("\u{1b})0")
        // tmux 3.3a writes overline as `5:3` (not 53) in capture-pane -e; read it as what tmux stores.
        m.feed(screenWithAttributes.joined(separator: "\r\n").replacingOccurrences(of: "\u{1b}[5:3m", with: "\u{1b}[53m"))
        return m
    }
}
