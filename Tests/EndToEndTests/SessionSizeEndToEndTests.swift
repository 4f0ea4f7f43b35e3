// Every window shows exactly the session's screen at the session's size, plus the dotted margin (tmux's rule).
import Foundation
import Glibc
import Testing

/// A pane's rows as tmux shows them (`capture-pane -p`: trailing blanks trimmed).
private func rows(_ pane: TmuxPane) -> [String] {
    let text = (try? run(["tmux", "-L", pane.socketName, "capture-pane", "-p"]).stdout) ?? ""
    var lines = text.components(separatedBy: "\n")
    if lines.last == "" { lines.removeLast() }
    return lines
}

private func trimmed(_ s: String) -> String {
    var s = s
    while s.last == " " { s.removeLast() }
    return s
}

/// What a window of `window` size shows of a session whose screen is `session` (rows of `size`): the session's
/// rows padded to its width, dots to the window's right edge, and rows of dots below.
private func padded(_ session: [String], size: (cols: Int, rows: Int), window: (cols: Int, rows: Int)) -> [String] {
    (0..<window.rows).map { y in
        guard y < size.rows else { return String(repeating: "·", count: window.cols) }
        let row = y < session.count ? session[y] : ""
        let cut = String(row.prefix(size.cols))
        let dots = String(repeating: "·", count: window.cols - size.cols)
        return trimmed(dots.isEmpty ? cut : cut + String(repeating: " ", count: size.cols - cut.count) + dots)
    }
}

/// A relay, a host in a large window and windows of several sizes on one session: a read-write OpenSSH viewer
/// that sets the size (smallest policy), a read-only OpenSSH viewer of exactly the session's size (the reference:
/// its tmux parses the session's bytes at the session's size, unaltered), a larger read-only OpenSSH viewer and a
/// smaller read-only `swiftmate join`.
private final class SizedSession {
    let relay: Background
    let host: TmuxPane
    let hostSize = (cols: 120, rows: 35)
    var session = (cols: 100, rows: 30)
    let rw: TmuxPane
    let reference: TmuxPane
    let larger: TmuxPane
    let largerSize = (cols: 110, rows: 33)
    let smaller: TmuxPane

    init(dir: String, command: String) throws {
        let (relay, url, port) = try startSSHRelay(dir: dir)
        self.relay = relay
        let socket = dir + "/host.sock"
        host = try TmuxPane("\(swiftmateBinary) -S \(socket) --relay \(url) new-session \(command)",
                            cols: hostSize.cols, rows: hostSize.rows, environment: shellEnvironment)
        let strings = try connectionStrings(socket: socket)
        func ssh(_ name: String, _ size: (cols: Int, rows: Int)) throws -> TmuxPane {
            try TmuxPane("ssh \(sshOptions) -tt -p \(port) \(sshToken(strings[name]))@127.0.0.1", cols: size.cols, rows: size.rows)
        }
        rw = try ssh("ssh session", session)
        reference = try ssh("ssh session read only", session)
        larger = try ssh("ssh session read only", largerSize)
        smaller = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session read only"]))", cols: 90, rows: 20)
    }

    /// The session changes size: the read-write viewer's window does, and the reference follows it.
    func resize(to size: (cols: Int, rows: Int)) throws {
        session = size
        try run(["tmux", "-L", rw.socketName, "resize-window", "-x", "\(size.cols)", "-y", "\(size.rows)"])
        try run(["tmux", "-L", reference.socketName, "resize-window", "-x", "\(size.cols)", "-y", "\(size.rows)"])
    }

    /// Waits until every window shows the reference's screen by the rule, and records what differs if not.
    func expectEveryWindowShowsTheSession(_ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        var last = ""
        let same = waitUntil(seconds: 15) {
            let screen = rows(reference)
            guard screen.count == session.rows else { last = "the reference is not \(session.rows) rows yet"; return false }
            let checks: [(String, [String], [String])] = [
                ("host", rows(host), padded(screen, size: session, window: hostSize)),
                ("read-write viewer", rows(rw), screen),
                ("larger viewer", rows(larger), padded(screen, size: session, window: largerSize)),
            ]
            for (name, got, want) in checks where got.map(trimmed) != want.map(trimmed) {
                last = "\(name):\n\(got.joined(separator: "\n"))\nexpected:\n\(want.joined(separator: "\n"))"
                return false
            }
            // The smaller window shows the rows around the cursor, cut to its width, above its notice line.
            let small = rows(smaller)
            guard let notice = small.last, notice.contains("session \(session.cols)x\(session.rows), window 90x20") else {
                last = "smaller viewer has no notice:\n\(small.joined(separator: "\n"))"
                return false
            }
            // (Where the window is wider than the session, its rows end in dots.)
            let shown = small.dropLast().map { row in
                var r = row
                while r.last == "·" { r.removeLast() }
                return trimmed(r)
            }
            let windows = (0...(max(0, screen.count - shown.count))).map { y in
                screen[y..<min(screen.count, y + shown.count)].map { trimmed(String($0.prefix(90))) }
            }
            guard windows.contains(where: { Array($0) == Array(shown) }) else {
                last = "smaller viewer shows no part of the session:\n\(small.joined(separator: "\n"))"
                return false
            }
            return true
        }
        #expect(same, "\(what): \(last)", sourceLocation: sourceLocation)
    }

    func stop() {
        for pane in [smaller, larger, reference, rw, host] { pane.kill() }
        relay.stop()
    }
}

extension EndToEnd {
    @Suite struct SessionSizes {
        @Test func vimIsShownAtTheSessionsSizeInEveryWindowAndAfterTheSessionShrinks() throws {
            let dir = try scratchDirectory()
            let file = dir + "/notes.txt"
            try (1...80).map { "line \($0): such words with doubled letters at the ends of the lines, as vim draws them" }
                .joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let shared = try SizedSession(dir: dir, command: "vim -u NONE -i NONE -N \(file)")
            defer { shared.stop() }
            #expect(shared.reference.waitFor("line 1: such"), "\(shared.reference.screen())")
            try shared.host.type(":set number\r40Gosudden new line written at the host\u{1b}")
            #expect(shared.reference.waitFor("sudden new line"), "\(shared.reference.screen())")
            shared.expectEveryWindowShowsTheSession("vim at 100x30")
            // The read-write viewer's window shrinks: so does the session, while vim runs.
            try shared.resize(to: (cols: 84, rows: 26))
            #expect(waitUntil { rows(shared.reference).count == 26 })
            try shared.host.type("ggOa second edit after the resize\u{1b}")
            #expect(shared.reference.waitFor("a second edit"), "\(shared.reference.screen())")
            shared.expectEveryWindowShowsTheSession("vim at 84x26")
            try shared.host.type(":qa!\r")
        }

        @Test func lessIsShownAtTheSessionsSizeInEveryWindow() throws {
            let dir = try scratchDirectory()
            let file = dir + "/pages.txt"
            try (1...300).map { "page line \($0) " + String(repeating: "-", count: $0 % 90) }
                .joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let shared = try SizedSession(dir: dir, command: "less \(file)")
            defer { shared.stop() }
            #expect(shared.reference.waitFor("page line 1 "), "\(shared.reference.screen())")
            try shared.host.send("Space")
            try shared.host.send("Space")
            #expect(shared.reference.waitFor("page line 60 "), "\(shared.reference.screen())")
            shared.expectEveryWindowShowsTheSession("less at 100x30")
            try shared.resize(to: (cols: 70, rows: 24))
            #expect(waitUntil { rows(shared.reference).count == 24 })
            try shared.host.send("g")
            #expect(shared.reference.waitFor("page line 1 "), "\(shared.reference.screen())")
            shared.expectEveryWindowShowsTheSession("less at 70x24")
            try shared.host.send("q")
        }

        @Test func aShellIsShownAtTheSessionsSizeInEveryWindow() throws {
            let dir = try scratchDirectory()
            let shared = try SizedSession(dir: dir, command: quietShell)
            defer { shared.stop() }
            #expect(shared.reference.waitFor("host$"), "\(shared.reference.screen())")
            // Wraps at the session's width everywhere (the bug: at 120 on the host, at 100 for viewers).
            try shared.host.type("clear; seq -s, 1 60; seq 1 40")
            try shared.host.send("Enter")
            #expect(shared.reference.waitFor("\n40\n"), "\(shared.reference.screen())")
            shared.expectEveryWindowShowsTheSession("a shell at 100x30")
            try shared.resize(to: (cols: 90, rows: 22))
            #expect(waitUntil { rows(shared.reference).count == 22 })
            try shared.host.type("clear; seq -s, 1 70")
            try shared.host.send("Enter")
            #expect(shared.reference.waitFor("69,70"), "\(shared.reference.screen())")
            shared.expectEveryWindowShowsTheSession("a shell at 90x22")
        }
    }
}
