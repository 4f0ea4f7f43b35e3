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
            #expect(host.log.contains("resumed ssh://127.0.0.1:\(sshPort)"), "\(host.log)")
            let after = try connectionStrings(socket: socket)
            #expect(after == before, "same connection strings: \(before) then \(after)")

            // An OpenSSH viewer re-running its command gets the current screen.
            let viewer = try TmuxPane("ssh \(sshOptions) -p \(sshPort) \(sshToken(before["ssh session"]))@127.0.0.1")
            defer { viewer.kill() }
            #expect(viewer.waitFor("done-42", seconds: 60), "\(viewer.screen())\n\(relay.log)")
        }
    }
}
