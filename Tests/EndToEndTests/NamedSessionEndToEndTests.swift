// Named sessions (tmate's -n/-r/-k): the same `ssh NAMESPACE/NAME@relay` works after the relay and the host restart.
import Foundation
import Testing

extension EndToEnd {
    @Suite struct NamedSessions {
        @Test func theSameSSHStringWorksAfterTheRelayAndTheHostRestart() throws {
            let dir = try scratchDirectory()
            let made = try run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "viewer", "-f", dir + "/viewer.key"])
            #expect(made.status == 0, "\(made.stdout)")
            try String(contentsOfFile: dir + "/viewer.key.pub", encoding: .utf8)
                .write(toFile: dir + "/authorized_keys", atomically: true, encoding: .utf8)
            let apiKey = "named-e2e-api-key-0123456789"
            try "relay:\n  access: {api_keys: {\(apiKey): team}}\n".write(toFile: dir + "/relay.yaml", atomically: true, encoding: .utf8)
            let (sshPort, tcpPort) = (freePort(), freePort())
            var starts = 0
            func startRelay() throws -> Background {
                starts += 1
                let relay = try Background([swiftmateBinary, "relay", "-f", dir + "/relay.yaml", "--listen", "ssh://127.0.0.1:\(sshPort)",
                                            "--listen", "tcp://127.0.0.1:\(tcpPort)", "--state-dir", dir + "/state"], log: dir + "/relay-\(starts).log")
                #expect(waitUntil { relay.log.contains("listening on ssh://127.0.0.1:\(sshPort)") }, "\(relay.log)")
                return relay
            }
            var relay = try startRelay()
            defer { relay.stop() }
            func socket(_ word: String) -> String { dir + "/host-\(word).sock" }
            func startHost(_ word: String) throws -> Background {
                try Background([swiftmateBinary, "-S", socket(word), "--relay", "tcp://127.0.0.1:\(tcpPort)", "-k", apiKey, "-n", "build", "-r", "build-ro",
                                "-a", dir + "/authorized_keys", "new-session", "sh", "-c", "while :; do echo \(word)-$((6*7)); sleep 1; done"],
                               log: dir + "/host-\(word).log")
            }
            var host = try startHost("first")
            defer { host.stop() }
            let strings = try connectionStrings(socket: socket("first"))
            let rw = try #require(strings["ssh session"]), ro = try #require(strings["ssh session read only"])
            #expect(rw == "ssh -p \(sshPort) team/build@127.0.0.1", "\(strings)")
            #expect(ro == "ssh -p \(sshPort) team/build-ro@127.0.0.1", "\(strings)")
            #expect(strings["tcp session"] == nil, "a session that admits listed keys only has no tcp strings: \(strings)")
            let viewerCommand = "ssh \(sshOptions) -o IdentitiesOnly=yes -i \(dir)/viewer.key -p \(sshPort) team/build-ro@127.0.0.1"
            func watch(_ expected: String) throws {
                let viewer = try TmuxPane(viewerCommand)
                defer { viewer.kill() }
                #expect(viewer.waitFor(expected), "\(viewer.screen())\n\(relay.log)")
            }
            try watch("first-42")

            // The relay is killed and started again on the same state directory: the host comes back by itself under
            // the same names, and the viewer's same command finds it.
            kill(relay.child.pid, SIGKILL)
            _ = relay.child.wait(timeout: 5)
            relay = try startRelay()
            #expect(waitUntil(seconds: 30) { relay.log.contains("opened by host") }, "\(relay.log)\n\(host.log)")
            #expect(try connectionStrings(socket: socket("first"))["ssh session"] == rw)
            try watch("first-42")

            // The host restarts: same strings again.
            host.stop()
            host = try startHost("second")
            let again = try connectionStrings(socket: socket("second"))
            #expect(again["ssh session"] == rw && again["ssh session read only"] == ro, "\(again)")
            try watch("second-42")
            #expect(host.log.contains("warning: a named session") == false, "with -a there is no warning: \(host.log)")
        }
    }
}
