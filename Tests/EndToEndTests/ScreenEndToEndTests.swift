// Late joiners see the current screen (keyframes); a viewer that stops reading is repainted, never slowing the host.
import Foundation
import Glibc
import Testing

/// Seconds the host's shell takes to `cat` `file` and print `MARKER-42` (clearing the screen first).
private func timedPrint(_ host: TmuxPane, file: String, marker: String) throws -> Double {
    try host.type("clear; cat \(file); echo \(marker)-$((40+2))")
    let started = Date()
    try host.send("Enter")
    #expect(host.waitFor("\(marker)-42", seconds: 120), "the host finished printing: \(host.screen())")
    return Date().timeIntervalSince(started)
}

/// The first `rows` rows of a pane as tmux shows them (the host's bottom row carries join messages).
private func rows(_ pane: TmuxPane, _ count: Int) -> [String] {
    let text = (try? run(["tmux", "-L", pane.socketName, "capture-pane", "-p"]).stdout) ?? ""
    return Array(text.components(separatedBy: "\n").prefix(count))
}

/// A relay (ssh and tcp) and a host sharing `command` (a quiet bash by default) from a tmux pane of `cols` x `rows`.
private final class SharedPane {
    let relay: Background
    let host: TmuxPane
    let strings: [String: String]
    let port: Int

    init(dir: String, cols: Int = 80, rows: Int = 24, command: String? = nil) throws {
        let (relay, url, port) = try startSSHRelay(dir: dir)
        self.relay = relay
        self.port = port
        let socket = dir + "/host.sock"
        host = try TmuxPane("\(swiftmateBinary) -S \(socket) --relay \(url) new-session \(command ?? quietShell)", cols: cols, rows: rows,
                            environment: command == nil ? shellEnvironment : [:])
        strings = try connectionStrings(socket: socket)
    }

    /// An OpenSSH viewer in its own pane, read-write unless `readOnly`.
    func sshViewer(readOnly: Bool = false, cols: Int = 80, rows: Int = 24) throws -> TmuxPane {
        let token = sshToken(strings[readOnly ? "ssh session read only" : "ssh session"])
        return try TmuxPane("ssh \(sshOptions) -tt -p \(port) \(token)@127.0.0.1", cols: cols, rows: rows)
    }

    /// Whether the first `count` rows of `viewer` come to equal the host's (message lines aside); records them if not.
    func expectSameScreen(_ viewer: TmuxPane, rows count: Int = 23, sourceLocation: SourceLocation = #_sourceLocation) {
        let same = waitUntil(seconds: 10) { rows(viewer, count) == rows(host, count) }
        #expect(same, "host:\n\(rows(host, count).joined(separator: "\n"))\nviewer:\n\(rows(viewer, count).joined(separator: "\n"))",
                sourceLocation: sourceLocation)
    }

    /// Ends host and relay (call it in a `defer`; a deinit could run before the test's last use of `host`).
    func stop() {
        host.kill()
        relay.stop()
    }
}

extension EndToEnd {
    @Suite struct Screens {
        @Test func aViewerJoiningARunningVimSeesTheHostsScreen() throws {
            let dir = try scratchDirectory()
            let file = dir + "/notes.txt"
            try (1...60).map { "line \($0): the quick brown fox jumps over the lazy dog" }.joined(separator: "\n")
                .write(toFile: file, atomically: true, encoding: .utf8)
            let shared = try SharedPane(dir: dir, command: "vim -u NONE -i NONE -N \(file)")
            defer { shared.stop() }
            let host = shared.host
            #expect(host.waitFor("line 1: the quick"), "\(host.screen())")
            // Make the screen something a replay of recent output would not rebuild: scroll, edit, split.
            try host.type(":set number\r40Gointo the middle\u{1b}:split\r")
            #expect(host.waitFor("into the middle"), "\(host.screen())")
            usleep(500_000)
            let viewer = try shared.sshViewer()
            defer { viewer.kill() }
            #expect(viewer.waitFor("into the middle"), "\(viewer.screen())")
            shared.expectSameScreen(viewer)
            // And it stays live: typing at the host shows at the viewer.
            try host.type("Gofresh line after the join\u{1b}")
            #expect(viewer.waitFor("fresh line after the join"), "\(viewer.screen())")
            try host.type(":qa!\r")
        }

        @Test func aLateJoinerSeesWhatWasDrawnLongBeforeTheRecentOutput() throws {
            // A banner drawn once, then 200 KB scrolled below it in a scroll region: only a keyframe (not a
            // replay of recent output) shows the banner.
            let dir = try scratchDirectory()
            let shared = try SharedPane(dir: dir)
            defer { shared.stop() }
            let host = shared.host
            #expect(host.waitFor("host$"))
            try host.type("clear; printf '\\033[2;24r\\033[1;1H\\033[7mBANNER-%s\\033[0m\\033[24;1H' TOP; seq 1 30000; echo seq-done")
            try host.send("Enter")
            #expect(host.waitFor("seq-done", seconds: 60), "\(host.screen())")
            usleep(300_000)
            let viewer = try shared.sshViewer()
            defer { viewer.kill() }
            #expect(viewer.waitFor("seq-done"), "\(viewer.screen())")
            #expect(waitUntil(seconds: 10) { rows(viewer, 1) == ["BANNER-TOP"] }, "\(rows(viewer, 24))")
            shared.expectSameScreen(viewer)
        }

        @Test func theSessionTakesTheSmallestReadWriteWindowAndASmallerViewerIsClipped() throws {
            let dir = try scratchDirectory()
            let shared = try SharedPane(dir: dir, cols: 100, rows: 30)
            defer { shared.stop() }
            let (host, strings) = (shared.host, shared.strings)
            #expect(host.waitFor("host$"))
            // A read-only join client in a smaller window: no say in the size, so it sees part of the screen.
            let ro = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session read only"]))", cols: 60, rows: 15)
            defer { ro.kill() }
            #expect(ro.waitFor("session 100x30, window 60x15"), "\(ro.screen())")
            try host.type("stty size")
            try host.send("Enter")
            #expect(host.waitFor("30 100"), "read-only viewers do not resize: \(host.screen())")
            // A read-write ssh viewer of 70x20: the session shrinks to it (smallest, the default).
            let rw = try shared.sshViewer(cols: 70, rows: 20)
            defer { rw.kill() }
            #expect(rw.waitFor("host$"), "\(rw.screen())")
            usleep(300_000)
            try host.type("clear; stty size")
            try host.send("Enter")
            #expect(host.waitFor("20 70"), "\(host.screen())")
            #expect(rw.waitFor("20 70"), "\(rw.screen())")
            #expect(ro.waitFor("session 70x20, window 60x15"), "\(ro.screen())")
            #expect(ro.waitFor("20 70"), "the clipped view follows the cursor: \(ro.screen())")
            // A read-only ssh viewer in a smaller window is drawn clipped by the relay, with the notice.
            let roSSH = try shared.sshViewer(readOnly: true, cols: 50, rows: 12)
            defer { roSSH.kill() }
            #expect(roSSH.waitFor("session 70x20, window 50x12"), "\(roSSH.screen())")
            #expect(roSSH.waitFor("20 70"), "\(roSSH.screen())")
            // The read-write viewer leaves: back to the host's size.
            rw.kill()
            usleep(500_000)
            try host.type("clear; stty size")
            try host.send("Enter")
            #expect(host.waitFor("30 100"), "\(host.screen())")
        }

        @Test func aJoinMessageOnTheHostsBottomLineGoesAwayAndThePromptComesBack() throws {
            let dir = try scratchDirectory()
            let shared = try SharedPane(dir: dir)
            defer { shared.stop() }
            let host = shared.host
            #expect(host.waitFor("host$"))
            try host.type("seq 1 40")
            try host.send("Enter")
            #expect(waitUntil { rows(host, 24).last == "host$" }, "\(rows(host, 24))")
            let viewer = try shared.sshViewer()
            defer { viewer.kill() }
            #expect(waitUntil { rows(host, 24).last?.contains("a mate has joined") == true }, "\(rows(host, 24))")
            #expect(waitUntil(seconds: 10) { rows(host, 24).last == "host$" }, "the covered line is back: \(rows(host, 24))")
            #expect(rows(host, 23).last == "40")
            // The cursor is where the shell left it: typing lands after the prompt.
            try host.type("echo back-$((3*3))")
            try host.send("Enter")
            #expect(host.waitFor("\nback-9"), "\(host.screen())")
        }

        @Test func aViewerThatStopsReadingIsRepaintedAndNeverSlowsTheHost() throws {
            let dir = try scratchDirectory()
            let big = dir + "/big.txt"
            _ = try run(["sh", "-c", "seq 1 6500000 > \(big)"], timeout: 60) // ~50 MB
            let shared = try SharedPane(dir: dir)
            defer { shared.stop() }
            let host = shared.host
            let viewer = try shared.sshViewer()
            defer { viewer.kill() }
            #expect(viewer.waitFor("host$"), "\(viewer.screen())")
            // Once with the viewer reading: how long the host takes to print 50 MB.
            let reading = try timedPrint(host, file: big, marker: "read-along")
            // Then stop the viewer's ssh client: it reads nothing for at least 10 s while the host prints 50 MB.
            let pids = try run(["pgrep", "-f", "ssh .*\(sshToken(shared.strings["ssh session"]))@127.0.0.1"]).stdout
                .split(separator: "\n").compactMap { pid_t($0) }
            #expect(!pids.isEmpty)
            for pid in pids { kill(pid, SIGSTOP) }
            let stopped = Date()
            let seconds = try timedPrint(host, file: big, marker: "printed-all")
            #expect(seconds < reading * 2 + 3, "the host was slowed by a viewer that does not read: \(seconds) s vs \(reading) s")
            usleep(UInt32(max(0, 10 - Date().timeIntervalSince(stopped)) * 1_000_000))
            for pid in pids { kill(pid, SIGCONT) }
            #expect(viewer.waitFor("printed-all-42", seconds: 30), "\(viewer.screen())")
            shared.expectSameScreen(viewer)
        }
    }
}
