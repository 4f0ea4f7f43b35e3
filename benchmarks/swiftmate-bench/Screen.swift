// `swiftmate-bench screen`: screen model throughput beside libvterm's own screen layer, same bytes, same run.
import CVTerm
import Foundation
import SwiftMateCore

/// The bench's inputs: the seq file as a PTY shows it (CR LF), and a mixed full-screen recording made of the
/// golden recordings of real programs (vim, less, man, top, ls, a Python REPL, bash), repeated to `target` bytes.
func screenInputs(seqFile: String, target: Int = 24 << 20) -> [(name: String, bytes: [UInt8])] {
    let seq = asPTYShowsIt([UInt8](FileManager.default.contents(atPath: seqFile) ?? Data()))
    let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/CoreTests/Golden")
    var mixed: [UInt8] = []
    let programs = ["vim", "vim-200x50", "less", "man", "top", "ls-color", "python-repl", "bash-200x50"]
    let pieces = programs.compactMap { FileManager.default.contents(atPath: golden.appendingPathComponent($0 + "/input").path) }
    if !pieces.isEmpty {
        while mixed.count < target { for p in pieces { mixed += p } }
    }
    return [("seq (\(seq.count >> 20) MiB)", seq), ("full-screen mix (\(mixed.count >> 20) MiB)", mixed)]
}

/// Seconds to feed `bytes` in 64 KiB chunks (a PTY read's size or more) into a fresh screen model.
func timeScreenModel(_ bytes: [UInt8], cols: Int, rows: Int, scrollback: Int = 2000) -> Double {
    let model = ScreenModel(cols: cols, rows: rows, scrollback: scrollback)
    let start = DispatchTime.now().uptimeNanoseconds
    bytes.withUnsafeBytes { all in
        var offset = 0
        while offset < all.count {
            let end = min(offset + 65536, all.count)
            model.feed(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
            offset = end
        }
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    withExtendedLifetime(model) {}
    return seconds
}

/// Seconds for libvterm (parser, state and its screen layer, UTF-8 on) to take the same bytes.
func timeLibvtermScreen(_ bytes: [UInt8], cols: Int, rows: Int) -> Double {
    guard let vt = vterm_new(Int32(rows), Int32(cols)) else { return .nan }
    defer { vterm_free(vt) }
    vterm_set_utf8(vt, 1)
    let screen = vterm_obtain_screen(vt)
    vterm_screen_reset(screen, 1)
    let start = DispatchTime.now().uptimeNanoseconds
    bytes.withUnsafeBufferPointer { all in
        var offset = 0
        while offset < all.count {
            let end = min(offset + 65536, all.count)
            all.baseAddress!.advanced(by: offset).withMemoryRebound(to: CChar.self, capacity: end - offset) {
                _ = vterm_input_write(vt, $0, end - offset)
            }
            offset = end
        }
    }
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func runScreenBench(seqFile: String, runs: Int) {
    for (name, bytes) in screenInputs(seqFile: seqFile) where !bytes.isEmpty {
        for (cols, rows) in [(80, 24), (200, 50)] {
            var ours: [Double] = [], host: [Double] = [], theirs: [Double] = []
            for _ in 0..<runs {
                ours.append(timeScreenModel(bytes, cols: cols, rows: rows))
                host.append(timeScreenModel(bytes, cols: cols, rows: rows, scrollback: 0))
                theirs.append(timeLibvtermScreen(bytes, cols: cols, rows: rows))
            }
            let mb = Double(bytes.count) / 1e6
            say(String(format: "screen %@ at %dx%d: ScreenModel %.1f MB/s (%.3f s), without scrollback as the host keeps it %.1f MB/s | libvterm screen layer %.1f MB/s (%.3f s)",
                       name as NSString, cols, rows, mb / median(ours), median(ours), mb / median(host), mb / median(theirs), median(theirs)))
        }
    }
}
