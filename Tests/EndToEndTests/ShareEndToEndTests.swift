// The real thing: relay, host and join clients as separate processes in real PTYs (tmux), over loopback TCP.
import Foundation
import Glibc
import Testing

extension EndToEnd { @Suite struct ShareEndToEnd {
    @Test func readWriteViewerTypesAndEveryoneSeesItReadOnlyViewerCannotType() throws {
        let dir = try scratchDirectory()
        let (relay, url) = try startRelay(dir: dir)
        defer { relay.stop() }
        let socket = dir + "/host.sock"
        let host = try TmuxPane("\(swiftmateBinary) -S \(socket) --relay \(url) new-session \(quietShell)", environment: shellEnvironment)
        let strings = try connectionStrings(socket: socket)
        #expect(host.waitFor("tcp session read only: swiftmate join \(url)/"), "the host prints its connection strings: \(host.screen())")
        let rw = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session"]))")
        let ro = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session read only"]))")
        #expect(host.waitFor("2 connected"), "the host is told about joins: \(host.screen())")

        try checkOnlyReadWriteViewersType(host: host, rw: rw, ro: ro, marker: "marker")

        // Detach with Enter ~. ; the host hears that a mate left.
        try rw.send("Enter")
        try rw.type("~.")
        #expect(rw.waitFor("[swiftmate: detached]"))
        #expect(host.waitFor("1 connected"))

        // The command's exit ends the session for viewers and the host exits with its status.
        try host.type("exit 7")
        try host.send("Enter")
        #expect(ro.waitFor("exited with status 7"), "ro viewer: \(ro.screen())")
    }

    @Test func aBadTokenIsRefusedClearly() throws {
        let dir = try scratchDirectory()
        let (relay, url) = try startRelay(dir: dir)
        defer { relay.stop() }
        for token in ["NoSuchSessionToken0000000", "bad"] {
            let start = Date()
            let result = try run([swiftmateBinary, "join", "\(url)/\(token)"], timeout: 20)
            #expect(result.status == 2)
            #expect(result.stderr.contains("Invalid or expired session token"), "\(result.stderr)")
            #expect(Date().timeIntervalSince(start) >= 0.05)
        }
    }

    @Test(arguments: ["none", "zlib", "lz4"])
    func eachCodecIsNegotiatedAndUsed(codec: String) throws {
        let dir = try scratchDirectory()
        let (relay, url) = try startRelay(dir: dir)
        defer { relay.stop() }
        let socket = dir + "/host.sock"
        // A headless (-F) host: log lines on stdout, tmate style.
        let host = try Background([swiftmateBinary, "-F", "-S", socket, "--relay", url, "--codecs", codec,
                                   "new-session", "bash", "--norc", "--noprofile"], log: dir + "/host.log")
        defer { host.stop() }
        let strings = try connectionStrings(socket: socket)
        let status = try run([swiftmateBinary, "-S", socket, "status", "--json"])
        #expect(status.stdout.contains("\"codec\" : \"\(codec)\""), "\(status.stdout)")
        #expect(host.log.contains("tcp session: swiftmate join"), "\(host.log)")
        let viewer = try TmuxPane("\(swiftmateBinary) join --codecs \(codec) \(joinURL(strings["tcp session"]))")
        #expect(relay.log.contains("codec \(codec)"))
        try viewer.type("seq 1 3000 | tail -n 1; echo codec-$((100+1))")
        try viewer.send("Enter")
        #expect(viewer.waitFor("\n3000"), "\(viewer.screen())")
        #expect(viewer.waitFor("codec-101"), "\(viewer.screen())")
    }

    @Test func aViewerThatStopsReadingDoesNotStallTheHost() throws {
        let dir = try scratchDirectory()
        let (relay, url) = try startRelay(dir: dir)
        defer { relay.stop() }
        let big = dir + "/big.txt"
        try run(["sh", "-c", "seq 1 3000000 > \(big)"])
        let socket = dir + "/host.sock"
        let host = try TmuxPane("\(swiftmateBinary) -S \(socket) --relay \(url) new-session \(quietShell)", environment: shellEnvironment)
        defer { host.kill() }
        let strings = try connectionStrings(socket: socket)
        let pidFile = dir + "/viewer.pid"
        let viewer = try TmuxPane("sh -c 'echo $$ > \(pidFile); exec \(swiftmateBinary) join \(joinURL(strings["tcp session read only"]))'")
        defer { viewer.kill() }
        #expect(host.waitFor("1 connected"))
        let pid = pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(pid > 0)
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let started = Date()
        try host.type("cat \(big); echo cat-done-$((5*5))")
        try host.send("Enter")
        #expect(host.waitFor("cat-done-25", seconds: 120), "the host stalled: \(host.screen())")
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 120)
        kill(pid, SIGCONT)
        // The stopped viewer comes back to the live stream, told that output was skipped.
        try host.type("echo back-$((3*3))")
        try host.send("Enter")
        #expect(viewer.waitFor("back-9", seconds: 60), "viewer: \(viewer.screen())")
    }
}
}
