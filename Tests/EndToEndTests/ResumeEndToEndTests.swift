// Durable sessions: a relay SIGKILLed mid-output and started again on its state directory takes its host back, same tokens.
import Foundation
import Testing

extension EndToEnd {
    @Suite struct Resume {
        @Test func aHostIsBackWithTheSameTokensSoonAfterItsRelayRestarts() throws {
            let dir = try scratchDirectory()
            let (sshPort, tcpPort) = (freePort(), freePort())
            var starts = 0
            func startRelay() throws -> (Background, Date) {
                starts += 1
                let relay = try Background([swiftmateBinary, "relay", "--listen", "ssh://127.0.0.1:\(sshPort)", "--listen", "tcp://127.0.0.1:\(tcpPort)",
                                            "--state-dir", dir + "/state"], log: dir + "/relay-\(starts).log")
                #expect(waitUntil(seconds: 20) { relay.log.contains("listening on ssh://127.0.0.1:\(sshPort)") }, "\(relay.log)")
                return (relay, Date())
            }
            var (relay, _) = try startRelay()
            defer { relay.stop() }
            let printed = try run([swiftmateBinary, "relay", "fingerprints", "--state-dir", dir + "/state"])
            let pins = printed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            // The host links over ssh, pinned, and prints a long stream.
            let socket = dir + "/host.sock"
            let host = try Background([swiftmateBinary, "-F", "-S", socket, "--relay", "ssh://127.0.0.1:\(sshPort)"]
                                      + pins.flatMap { ["--relay-fingerprint", $0] }
                                      + ["new-session", "sh", "-c", "seq 1 2000000; echo done-$((6*7)); sleep 600"], log: dir + "/host.log")
            defer { host.stop() }
            let before = try connectionStrings(socket: socket)
            #expect(before["ssh session"] != nil, "\(before)")
            #expect(waitUntil { relay.log.contains("opened by host") }, "\(relay.log)")

            // SIGKILL mid-stream, then the same relay again on its state directory.
            usleep(300_000)
            kill(relay.child.pid, SIGKILL)
            _ = relay.child.wait(timeout: 5)
            let listening: Date
            (relay, listening) = try startRelay()
            #expect(waitUntil(seconds: 15) { relay.log.contains("opened by host") }, "\(relay.log)\n\(host.log)")
            let back = Date().timeIntervalSince(listening)
            #expect(back < 3, "the host was back \(back) s after the relay listened")
            // (The relay logs the session before its welcome reaches the host, which logs it then.)
            #expect(waitUntil(seconds: 5) { host.log.contains("resumed ssh://127.0.0.1:\(sshPort)") }, "\(host.log)")
            let after = try connectionStrings(socket: socket)
            #expect(after == before, "same connection strings: \(before) then \(after)")

            // An OpenSSH viewer re-running its command gets the current screen.
            let viewer = try TmuxPane("ssh \(sshOptions) -p \(sshPort) \(sshToken(before["ssh session"]))@127.0.0.1")
            defer { viewer.kill() }
            #expect(viewer.waitFor("done-42", seconds: 60), "\(viewer.screen())\n\(relay.log)")
        }

        // Killed between two floods of output: both the host and the viewer come back and the viewer goes on from its own
        // offset. (Killed in the middle of a flood, the host may be back and past the viewer's offset before the viewer
        // is: the viewer then gets a repaint, as any joiner; the host's side of that case is CoreTests' replay tests.)
        @Test func aJoinViewerGetsEveryByteOnceThroughARelayRestart() throws {
            let dir = try scratchDirectory()
            let tcpPort = freePort()
            var starts = 0
            func startRelay() throws -> Background {
                starts += 1
                return try startTCPRelay(port: tcpPort, dir: dir, log: dir + "/relay-\(starts).log")
            }
            var relay = try startRelay()
            defer { relay.stop() }
            let socket = dir + "/host.sock"
            let host = try Background([swiftmateBinary, "-F", "-S", socket, "--relay", "tcp://127.0.0.1:\(tcpPort)", "new-session",
                                       "sh", "-c", "sleep 2; seq 1 1000000; sleep 5; seq 1000001 2000000; echo END-$((6*7)); sleep 600"],
                                      log: dir + "/host.log")
            defer { host.stop() }
            let strings = try connectionStrings(socket: socket)
            let url = joinURL(strings["tcp session read only"])
            // A viewer whose raw output goes to a file (its input stays open: no detach).
            let output = dir + "/join.out"
            let viewer = try joinToFile(url, output: output, log: dir + "/join.log")
            defer { viewer.stop() }
            func size() -> Int { ((try? FileManager.default.attributesOfItem(atPath: output))?[.size] as? Int) ?? 0 }
            func has(_ text: String) -> Bool { ((try? Data(contentsOf: URL(fileURLWithPath: output))) ?? Data()).range(of: Data(text.utf8)) != nil }
            #expect(waitUntil(seconds: 60) { has("\n1000000\r\n") }, "the viewer got \(size()) bytes\n\(host.log)")
            usleep(1_500_000) // the relay acknowledges it all

            // SIGKILL; the same relay again on its state directory.
            kill(relay.child.pid, SIGKILL)
            _ = relay.child.wait(timeout: 5)
            relay = try startRelay()
            #expect(waitUntil(seconds: 120) { has("END-42") }, "\(size()) bytes; \(viewer.log)\n\(host.log)\n\(relay.log)")

            // What the viewer received holds the command's whole output once, in order: nothing lost, nothing doubled.
            var expected = Data()
            expected.reserveCapacity(15_000_000)
            for i in 1...2_000_000 { expected.append(contentsOf: Array("\(i)\r\n".utf8)) }
            let got = try Data(contentsOf: URL(fileURLWithPath: output))
            guard let start = got.range(of: Data("1\r\n2\r\n3\r\n".utf8))?.lowerBound else {
                Issue.record("the output's start is missing; \(got.count) bytes")
                return
            }
            let slice = got[start..<min(got.endIndex, start + expected.count)]
            #expect(slice == expected, "the viewer's bytes differ from the command's output (\(slice.count) of \(expected.count) bytes compared)")
            #expect(slice.count == expected.count && got[slice.endIndex...].starts(with: Data("END-42".utf8)), "the stream goes on right after the last line")
            #expect(!host.log.contains("were skipped"), "nothing was skipped: \(host.log)")
            #expect(host.log.contains("resumed tcp://127.0.0.1:\(tcpPort)"), "\(host.log)")
        }
    }
}

/// A loopback TCP proxy the test can cut (every connection closed, nothing accepted) and restore, as a network that
/// goes away and comes back.
final class CuttableProxy: @unchecked Sendable {
    let port: Int
    private let target: Int
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var open: [Int32] = []

    init(to target: Int) throws {
        self.target = target
        port = freePort()
        try restore()
    }

    /// Listens again on the same port.
    func restore() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw HarnessError("the proxy cannot listen on \(port)") }
        lock.withLock { listener = fd }
        let accepting = Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var to = Self.loopback(target)
                let connected = withUnsafePointer(to: &to) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                guard connected == 0 else { close(client); close(upstream); continue }
                lock.withLock { open += [client, upstream] }
                for (from, to) in [(client, upstream), (upstream, client)] {
                    Thread {
                        var buffer = [UInt8](repeating: 0, count: 65536)
                        while true {
                            let n = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
                            guard n > 0 else { break }
                            var sent = 0
                            while sent < n {
                                let w = buffer.withUnsafeBytes { write(to, $0.baseAddress! + sent, n - sent) }
                                guard w > 0 else { break }
                                sent += w
                            }
                        }
                        shutdown(to, Int32(SHUT_RDWR))
                    }.start()
                }
            }
        }
        accepting.start()
    }

    /// Closes every connection and stops accepting: connecting is refused, as with a network that is gone.
    func cut() {
        let (fd, fds) = lock.withLock { () -> (Int32, [Int32]) in
            defer { listener = -1; open = [] }
            return (listener, open)
        }
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        for f in fds { shutdown(f, Int32(SHUT_RDWR)) }
    }

    private static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }
}

extension EndToEnd.Resume {
    @Test func aLinkCutForTwentySecondsLosesNothingAndNeverPausesTheCommand() throws {
        let dir = try scratchDirectory()
        let tcpPort = freePort()
        let relay = try startTCPRelay(port: tcpPort, dir: dir, log: dir + "/relay.log")
        defer { relay.stop() }
        let proxy = try CuttableProxy(to: tcpPort)
        defer { proxy.cut() }
        // The host reaches the relay through the proxy; the viewer directly.
        let socket = dir + "/host.sock"
        let host = try Background([swiftmateBinary, "-F", "-S", socket, "--relay", "tcp://127.0.0.1:\(proxy.port)", "new-session",
                                   "sh", "-c", "for i in $(seq 1 36); do echo tick-$i-$(date +%s%N); sleep 1; done; echo END-$((6*7)); sleep 600"],
                                  log: dir + "/host.log")
        defer { host.stop() }
        let strings = try connectionStrings(socket: socket)
        let url = joinURL(strings["tcp session read only"]).replacingOccurrences(of: ":\(proxy.port)/", with: ":\(tcpPort)/")
        let output = dir + "/join.out"
        let viewer = try joinToFile(url, output: output, log: dir + "/join.log")
        defer { viewer.stop() }
        func text() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
        #expect(waitUntil(seconds: 30) { text().contains("tick-3-") }, "\(text())\n\(host.log)")

        proxy.cut()
        sleep(20)
        try proxy.restore()
        #expect(waitUntil(seconds: 60) { text().contains("END-42") }, "\(text().suffix(300))\n\(host.log)\n\(relay.log)")

        // Every tick once, in order; each about a second after the one before: the command never waited.
        // (Swift reads "\r\n" as one character; the first line follows the join's reset, ESC c.)
        let ticks = text().components(separatedBy: "\r\n").compactMap { line in line.range(of: "tick-").map { line[$0.lowerBound...] } }
        #expect(ticks.map { $0.split(separator: "-")[1] } == (1...36).map { Substring(String($0)) }, "\(ticks)")
        let times = ticks.compactMap { Double($0.split(separator: "-")[2]).map { $0 / 1e9 } }
        for (a, b) in zip(times, times.dropFirst()) {
            #expect(b - a < 2.5, "a gap of \(b - a) s between ticks: the command was held up")
        }
        #expect(relay.log.contains("resumed by host"), "the relay kept the session and the host took it back: \(relay.log)")
        #expect(viewer.log.contains("the host's link is lost") && viewer.log.contains("the host is back"), "\(viewer.log)")
    }
}
