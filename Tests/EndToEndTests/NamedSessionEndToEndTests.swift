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

        @Test func aNamespaceBelongsToTheFirstSSHKeyToNameASessionInIt() throws {
            let dir = try scratchDirectory()
            for name in ["alice", "mallory"] {
                let made = try run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", dir + "/\(name).key"])
                #expect(made.status == 0, "\(made.stdout)")
            }
            try "relay:\n  access: {owned_namespaces: true}\n".write(toFile: dir + "/relay.yaml", atomically: true, encoding: .utf8)
            let sshPort = freePort()
            var starts = 0
            func startRelay() throws -> Background {
                starts += 1
                let relay = try Background([swiftmateBinary, "relay", "-f", dir + "/relay.yaml", "--listen", "ssh://127.0.0.1:\(sshPort)",
                                            "--state-dir", dir + "/state"], log: dir + "/relay-\(starts).log")
                #expect(waitUntil { relay.log.contains("listening on ssh://127.0.0.1:\(sshPort)") }, "\(relay.log)")
                return relay
            }
            var relay = try startRelay()
            defer { relay.stop() }
            let printed = try run([swiftmateBinary, "relay", "fingerprints", "--state-dir", dir + "/state"])
            let pins = printed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map { "\"\($0)\"" } }.joined(separator: ", ")
            func hostArguments(_ key: String, name: String) throws -> [String] {
                let path = dir + "/host-\(key).yaml"
                try "transports:\n  ssh: {fingerprints: [\(pins)], identity: \(dir)/\(key).key}\n".write(toFile: path, atomically: true, encoding: .utf8)
                return [swiftmateBinary, "-f", path, "--relay", "ssh://127.0.0.1:\(sshPort)", "-n", name]
            }
            let socket = dir + "/alice.sock"
            let alice = try Background(try hostArguments("alice", name: "alice/build") + ["-S", socket, "new-session", "sh", "-c",
                                       "while :; do echo alice-$((6*7)); sleep 1; done"], log: dir + "/alice.log")
            defer { alice.stop() }
            let strings = try connectionStrings(socket: socket)
            #expect(strings["ssh session"] == "ssh -p \(sshPort) alice/build@127.0.0.1", "\(strings)")

            // Mallory's key may not name a session in Alice's namespace, before or after a relay restart; her command
            // never runs, and Alice's viewers see Alice's session throughout.
            for round in 1...2 {
                let refused = try run(try hostArguments("mallory", name: "alice/build") + ["new-session", "echo", "mallory-ran"], timeout: 30)
                #expect(refused.status == 1, "round \(round): \(refused.stdout) \(refused.stderr)")
                #expect(refused.stderr.contains("the namespace 'alice' is owned by another SSH key"), "round \(round): \(refused.stderr)")
                #expect(!refused.stdout.contains("mallory-ran"))
                let viewer = try TmuxPane("ssh \(sshOptions) -p \(sshPort) alice/build@127.0.0.1")
                defer { viewer.kill() }
                #expect(viewer.waitFor("alice-42"), "round \(round): \(viewer.screen())\n\(relay.log)")
                guard round == 1 else { break }
                kill(relay.child.pid, SIGKILL)
                _ = relay.child.wait(timeout: 5)
                relay = try startRelay()
                #expect(waitUntil(seconds: 30) { relay.log.contains("opened by host") }, "\(relay.log)\n\(alice.log)")
            }
            // Her own namespace is hers.
            let ownSocket = dir + "/mallory.sock"
            let own = try Background(try hostArguments("mallory", name: "mallory/build") + ["-S", ownSocket, "new-session", "sleep", "600"],
                                     log: dir + "/mallory.log")
            defer { own.stop() }
            #expect(try connectionStrings(socket: ownSocket)["ssh session"] == "ssh -p \(sshPort) mallory/build@127.0.0.1")
        }
    }
}
