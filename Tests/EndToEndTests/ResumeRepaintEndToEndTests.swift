// Durable sessions where bytes cannot all come back: a join viewer returning after the relay kept only the tail is
// repainted, and a host whose replay ring was too small says so once, then the viewers' screens are right.
import Foundation
import Testing

/// The last `count` non-empty lines of a screen.
private func lastLines(_ screen: String, _ count: Int) -> [String] {
    Array(screen.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.suffix(count))
}

extension EndToEnd.Resume {
    @Test func aJoinViewerReturningAfterTheRelayKeptOnlyTheTailIsRepainted() throws {
        let dir = try scratchDirectory()
        let tcpPort = freePort()
        func startRelay(_ n: Int) throws -> Background { try startTCPRelay(port: tcpPort, dir: dir, log: dir + "/relay-\(n).log") }
        var relay = try startRelay(1)
        defer { relay.stop() }
        // A flood, a pause (the relay is killed), a second flood while it is away, then the end marker.
        let socket = dir + "/host.sock"
        let host = try Background([swiftmateBinary, "-F", "-S", socket, "--relay", "tcp://127.0.0.1:\(tcpPort)", "new-session", "sh", "-c",
                                   "seq 1 100000; echo mid-$((6*7)); while [ ! -e \(dir)/go ]; do sleep 0.1; done; "
                                   + "seq 100001 300000; echo done-$((6*7)); sleep 600"], log: dir + "/host.log")
        defer { host.stop() }
        let strings = try connectionStrings(socket: socket)
        let viewer = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session read only"]))", cols: 80, rows: 24)
        defer { viewer.kill() }
        #expect(viewer.waitFor("mid-42", seconds: 60), "\(viewer.screen())")

        kill(relay.child.pid, SIGKILL)
        _ = relay.child.wait(timeout: 5)
        _ = FileManager.default.createFile(atPath: dir + "/go", contents: nil)
        // The second flood (1.4 MB) goes to the host's ring while the relay is away; then the relay is back, the host
        // sends it all again, and the relay keeps only its tail: the viewer's offset is long gone when it returns.
        sleep(3)
        relay = try startRelay(2)
        #expect(viewer.waitFor("done-42", seconds: 60), "\(viewer.screen())\n\(host.log)")
        // The screen is the end of the stream, in order: the repaint plus what followed it.
        #expect(waitUntil { lastLines(viewer.screen(), 4) == ["299998", "299999", "300000", "done-42"] }, "\(viewer.screen())")
        #expect(!host.log.contains("were skipped"), "the ring held it all: \(host.log)")
    }

    @Test func aReplayRingTooSmallGivesExactlyOneNoticeThenTheRightScreen() throws {
        let dir = try scratchDirectory()
        let (sshPort, tcpPort) = (freePort(), freePort())
        let relay = try Background([swiftmateBinary, "relay", "--listen", "tcp://127.0.0.1:\(tcpPort)", "--listen", "ssh://127.0.0.1:\(sshPort)",
                                    "--state-dir", dir + "/state"], log: dir + "/relay.log")
        defer { relay.stop() }
        #expect(waitUntil { relay.log.contains("listening on ssh://127.0.0.1:\(sshPort)") }, "\(relay.log)")
        let proxy = try CuttableProxy(to: tcpPort)
        defer { proxy.cut() }
        // The smallest ring there is (64 KiB), and 590 KB of output while the host's link is cut.
        try "host:\n  replay_bytes: 65536\n".write(toFile: dir + "/host.yaml", atomically: true, encoding: .utf8)
        let socket = dir + "/host.sock"
        let host = try Background([swiftmateBinary, "-F", "-f", dir + "/host.yaml", "-S", socket, "--relay", "tcp://127.0.0.1:\(proxy.port)",
                                   "new-session", "sh", "-c", "echo start-$((6*7)); while [ ! -e \(dir)/go ]; do sleep 0.1; done; "
                                   + "seq 1 100000; echo done-$((6*7)); sleep 600"], log: dir + "/host.log")
        defer { host.stop() }
        let strings = try connectionStrings(socket: socket)
        // Two viewers connected to the relay directly, staying through the cut: a join client whose messages go to
        // its log (its output to a file), and OpenSSH in a pane.
        let url = joinURL(strings["tcp session read only"]).replacingOccurrences(of: ":\(proxy.port)/", with: ":\(tcpPort)/")
        let joined = try joinToFile(url, output: dir + "/join.out", log: dir + "/join.log")
        defer { joined.stop() }
        let ssh = try TmuxPane("ssh \(sshOptions) -p \(sshPort) \(sshToken(strings["ssh session read only"]))@127.0.0.1", cols: 80, rows: 24)
        defer { ssh.kill() }
        #expect(ssh.waitFor("start-42"), "\(ssh.screen())")

        proxy.cut()
        _ = FileManager.default.createFile(atPath: dir + "/go", contents: nil)
        sleep(2)
        try proxy.restore()
        #expect(ssh.waitFor("done-42", seconds: 60), "\(ssh.screen())\n\(host.log)")
        #expect(waitUntil { lastLines(ssh.screen(), 3) == ["99999", "100000", "done-42"] }, "\(ssh.screen())")
        // One notice, to each viewer, saying how much was skipped.
        #expect(waitUntil { joined.log.components(separatedBy: "were skipped").count == 2 }, "\(joined.log)")
        #expect(joined.log.contains("bytes of output were skipped"), "\(joined.log)")
        #expect(host.log.components(separatedBy: "were skipped").count == 2, "\(host.log)")
        let received = (try? String(contentsOfFile: dir + "/join.out", encoding: .utf8)) ?? ""
        #expect(received.contains("done-42") && !received.contains("were skipped"), "the notice is not in the session's bytes")
    }
}

extension EndToEnd.Resume {
    @Test func theHostsTerminalSaysOnceThatTheRelayIsAwayAndOnceThatItIsBack() throws {
        let dir = try scratchDirectory()
        let tcpPort = freePort()
        func startRelay(_ n: Int) throws -> Background { try startTCPRelay(port: tcpPort, dir: dir, log: dir + "/relay-\(n).log") }
        var relay = try startRelay(1)
        defer { relay.stop() }
        let socket = dir + "/host.sock"
        let host = try TmuxPane("\(swiftmateBinary) -S \(socket) --relay tcp://127.0.0.1:\(tcpPort) new-session \(quietShell)",
                                cols: 80, rows: 24, environment: shellEnvironment)
        defer { host.kill() }
        _ = try connectionStrings(socket: socket)
        func bottom() -> String {
            let text = (try? run(["tmux", "-L", host.socketName, "capture-pane", "-p"]).stdout) ?? ""
            return text.components(separatedBy: "\n").prefix(24).last ?? ""
        }
        kill(relay.child.pid, SIGKILL)
        _ = relay.child.wait(timeout: 5)
        #expect(waitUntil { bottom().contains("swiftmate: lost the relay") || bottom().contains("cannot reach relay") }, "\(bottom())")
        // Past a message's 3 s, and across attempts (0.5, 1.5, 3.5 and 7.5 s after the loss, then 15.5 s), the line is
        // still there: one line while the relay is away.
        sleep(12)
        #expect(bottom().contains("relay"), "\(bottom())")
        relay = try startRelay(2)
        #expect(waitUntil { bottom().contains("back: the session goes on") }, "\(bottom())")
        // Then it goes, and the shell's screen is whole again.
        #expect(waitUntil(seconds: 10) { !bottom().contains("swiftmate") }, "\(bottom())")
    }
}
