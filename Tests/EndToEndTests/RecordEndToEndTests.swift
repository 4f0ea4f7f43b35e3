// Recording for real: host and relay recorders read back by asciinema, swiftmate play of asciinema's files.
import Foundation
import Glibc
import SwiftMateRecorder
import Testing

extension EndToEnd { @Suite struct RecordEndToEnd {
    /// Text with multi-byte characters and escape sequences, large enough to be split across many PTY reads.
    private func sampleText() -> String {
        var text = ""
        for i in 0..<6000 {
            text += "line \(i): \u{1b}[1;3\(i % 8)mcolour\u{1b}[0m 漢字 emoji 🙂 café \(String(repeating: "é", count: i % 7))\n"
        }
        return text
    }

    @Test func aHostRecordingPlaysBackTheExactPTYBytesWithItsSizes() throws {
        let dir = try scratchDirectory()
        let (relay, url) = try startRelay(dir: dir)
        defer { relay.stop() }
        let text = sampleText()
        try text.write(toFile: dir + "/data.txt", atomically: true, encoding: .utf8)
        let cast = dir + "/host.cast", socket = dir + "/host.sock", go = dir + "/go"
        let script = "while [ ! -f \(go) ]; do sleep 0.1; done; cat \(dir)/data.txt"
        let host = try Background([swiftmateBinary, "-S", socket, "--relay", url, "--record", cast,
                                   "new-session", "sh", "-c", script], log: dir + "/host.log")
        defer { host.stop() }
        let strings = try connectionStrings(socket: socket)
        let viewer = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session"]))", cols: 100, rows: 30)
        defer { viewer.kill() }
        #expect(waitUntil { ((try? String(contentsOfFile: cast, encoding: .utf8)) ?? "").contains("\"r\", \"100x30\"") },
                "the viewer's size is recorded as a resize")
        let marked = try run([swiftmateBinary, "-S", socket, "marker", "before the cat"])
        #expect(marked.status == 0, "\(marked.stdout)")
        try "".write(toFile: go, atomically: true, encoding: .utf8)
        #expect(host.child.wait(timeout: 60) == 0)
        #expect(try AsciicastReader(path: cast).readAll().contains { $0.code == "m" && $0.data == "before the cat" })

        let reader = try AsciicastReader(path: cast)
        #expect(reader.version == 2 && reader.header.cols == 80 && reader.header.rows == 24, "headless hosts start at 80x24")
        #expect(reader.header.command?.hasPrefix("sh -c") == true)
        let (status, bytes) = try asciinemaCat(cast, dir: dir)
        #expect(status == "0")
        let expected = Data(text.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(bytes.count == expected.count)
        #expect(bytes == expected, "asciinema cat prints exactly what the PTY produced")
    }

    @Test func swiftmatePlayReproducesAnAsciinemaRecording() throws {
        let dir = try scratchDirectory()
        let cast = dir + "/asciinema.cast"
        let command = "printf 'one \\\\033[1mbold\\\\033[0m\\\\n'; sleep 0.2; printf 'two 漢字\\\\n'; seq 1 2000"
        let pane = try TmuxPane("asciinema rec -q -c \"sh -c \\\"\(command)\\\"\" \(cast); touch \(dir)/rec-done",
                                environment: ["ASCIINEMA_CONFIG_HOME": dir + "/asciinema-config"])
        defer { pane.kill() }
        #expect(waitUntil(seconds: 60) { FileManager.default.fileExists(atPath: dir + "/rec-done") }, "\(pane.screen())")
        let (status, expected) = try asciinemaCat(cast, dir: dir)
        #expect(status == "0")
        #expect(String(decoding: expected, as: UTF8.self).contains("two 漢字\r\n"))
        let played = try run([swiftmateBinary, "play", "--speed", "20", cast], timeout: 60)
        #expect(played.status == 0)
        #expect(Data(played.stdout.utf8) == expected, "swiftmate play writes the recording's output bytes")
    }

    @Test(arguments: [true, false])
    func theRelayRecordsEverySessionAndAttributesInputWhenAsked(recordInput: Bool) throws {
        let dir = try scratchDirectory()
        let casts = dir + "/casts"
        let config = dir + "/relay.yaml"
        try "relay:\n  recording: {mode: all, directory: \(casts), record_input: \(recordInput)}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let (relay, url) = try startRelay(dir: dir, arguments: ["-f", config])
        defer { relay.stop() }
        let socket = dir + "/host.sock"
        let host = try Background([swiftmateBinary, "-S", socket, "--relay", url, "new-session", "bash", "--norc", "--noprofile"],
                                  log: dir + "/host.log")
        defer { host.stop() }
        let strings = try connectionStrings(socket: socket)
        let viewer = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session"]))")
        defer { viewer.kill() }
        #expect(viewer.waitFor("bash-"), "the viewer shows the prompt (and is in raw mode) before typing: \(viewer.screen())")
        try viewer.type("echo typed-$((2*3))")
        try viewer.send("Enter")
        #expect(viewer.waitFor("\ntyped-6"), "\(viewer.screen())")
        try viewer.type("exit 4")
        try viewer.send("Enter")
        #expect(host.child.wait(timeout: 30) == 4)
        #expect(host.log.contains("this session is recorded by the relay"), "\(host.log)")

        var files: [String] = []
        #expect(waitUntil { files = (try? FileManager.default.contentsOfDirectory(atPath: casts)) ?? []; return files.count == 1 })
        #expect(waitUntil { relay.log.contains("ended: the shared command exited with status 4") })
        let events = try AsciicastReader(path: casts + "/" + files[0]).readAll()
        let output = events.filter { $0.code == "o" }.map(\.data).joined()
        #expect(output.contains("typed-6"))
        #expect(events.contains { $0.code == "m" && $0.data.contains("viewer 1 joined from 127.0.0.1") })
        let input = events.filter { $0.code == "i" }.map(\.data).joined()
        if recordInput {
            #expect(input.contains("echo typed-$((2*3))\r"), "\(input.debugDescription)")
            #expect(events.contains { $0.code == "m" && $0.data.hasPrefix("input from viewer 1 (127.0.0.1:") })
        } else {
            #expect(input.isEmpty)
        }
    }

    @Test func theSharedCommandInheritsNothingButItsTerminal() throws {
        let dir = try scratchDirectory()
        let cast = dir + "/fds.cast", socket = dir + "/host.sock"
        // With a control socket, an embedded relay (ssh and tcp) and a recorder open in the host. The shell's
        // fds are listed by a grandchild while the shell only waits: with `ls … | tr` the shell itself could still
        // hold the pipe's read end (fd 3) when `ls` looked, a race with what is measured.
        let result = try run([swiftmateBinary, "-S", socket, "--record", cast, "new-session", "sh", "-c",
                              "echo open:; sh -c 'ls /proc/$PPID/fd > \(dir)/fds'; tr '\\n' ' ' < \(dir)/fds; echo :end"],
                             timeout: 60)
        #expect(result.status == 0, "\(result.stdout)")
        let output = try AsciicastReader(path: cast).readAll().filter { $0.code == "o" }.map(\.data).joined()
        #expect(output.contains("open:\r\n0 1 2 :end"), "\(output.debugDescription)")
    }

    @Test func aKilledHostLeavesARecordingAsciinemaStillReads() throws {
        let dir = try scratchDirectory()
        let cast = dir + "/killed.cast"
        let host = try Background([swiftmateBinary, "--record", cast, "new-session", "sh", "-c",
                                   "echo before-kill-$((20+1)); printf 'half \\342\\202'; sleep 60"], log: dir + "/host.log")
        defer { host.stop() }
        #expect(waitUntil { ((try? String(contentsOfFile: cast, encoding: .utf8)) ?? "").contains("before-kill-21") })
        usleep(300_000)
        kill(host.child.pid, SIGKILL)
        _ = host.child.wait(timeout: 10)
        let (status, bytes) = try asciinemaCat(cast, dir: dir)
        #expect(status == "0")
        #expect(String(decoding: bytes, as: UTF8.self).contains("before-kill-21\r\nhalf "))
        let played = try run([swiftmateBinary, "play", "--speed", "50", cast])
        #expect(played.status == 0, "\(played.stdout)")
    }
}
}

/// `swiftmate play` on a terminal: space pauses, '.' steps, q quits; a corrupt file is named by line.
extension EndToEnd { @Suite struct PlayEndToEnd {
    @Test func keysPauseStepAndQuit() throws {
        let dir = try scratchDirectory()
        let cast = dir + "/ticks.cast"
        var text = "{\"version\": 2, \"width\": 80, \"height\": 24}\n"
        for i in 1...200 { text += "[\(Double(i) * 0.1), \"o\", \"tick-\(i)\\r\\n\"]\n" }
        try text.write(toFile: cast, atomically: true, encoding: .utf8)
        let pane = try TmuxPane("\(swiftmateBinary) play \(cast); echo play-exit-$?", cols: 80, rows: 24)
        defer { pane.kill() }
        #expect(pane.waitFor("tick-5"), "\(pane.screen())")
        try pane.send("Space")
        usleep(300_000)
        let paused = pane.screen()
        usleep(800_000)
        #expect(pane.screen() == paused, "nothing is played while paused")
        let last = paused.components(separatedBy: "\n").compactMap { line -> Int? in
            line.hasPrefix("tick-") ? Int(line.dropFirst(5)) : nil
        }.max() ?? 0
        try pane.send(".")
        #expect(pane.waitFor("tick-\(last + 1)", seconds: 5), "'.' shows the next event: \(pane.screen())")
        usleep(500_000)
        #expect(!pane.screen().contains("tick-\(last + 3)"), "one step, still paused")
        try pane.send("q")
        #expect(pane.waitFor("play-exit-0", seconds: 10), "q quits: \(pane.screen())")
    }

    @Test func aCorruptFileIsPlayedUpToTheBadLineAndNamed() throws {
        let dir = try scratchDirectory()
        let cast = dir + "/corrupt.cast"
        try "{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.01, \"o\", \"good-line\\r\\n\"]\n[0.02, \"o\" \"missing comma\"]\n"
            .write(toFile: cast, atomically: true, encoding: .utf8)
        let result = try run([swiftmateBinary, "play", cast])
        #expect(result.status == 1)
        #expect(result.stdout.contains("good-line"))
        #expect(result.stderr.contains("corrupt.cast:3: not valid JSON"), "\(result.stderr)")
    }
}
}
