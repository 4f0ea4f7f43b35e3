// Viewers join with the stock OpenSSH client: ssh -p PORT TOKEN@127.0.0.1, read-write and read-only.
import Foundation
import Glibc
import Testing

/// `ssh` with no user config, no known-hosts file and no prompts.
let sshOptions = "-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes"

/// A relay listening on tcp and ssh (host keys in `dir/state`); returns it with its tcp URL and ssh port.
func startSSHRelay(dir: String) throws -> (Background, String, Int) {
    let port = freePort()
    let (relay, url) = try startRelay(dir: dir, arguments: ["--listen", "ssh://127.0.0.1:\(port)", "--state-dir", dir + "/state"])
    #expect(waitUntil { relay.log.contains("listening on ssh://127.0.0.1:\(port)") }, "\(relay.log)")
    return (relay, url, port)
}

/// The token in an `ssh -p PORT TOKEN@HOST` connection string.
func sshToken(_ command: String?) -> String {
    String(command?.split(separator: " ").last?.split(separator: "@").first ?? "")
}

extension EndToEnd {
    @Suite struct SSHViewers {
        @Test func openSSHViewersSeeTheSessionAndOnlyReadWriteOnesType() throws {
            let dir = try scratchDirectory()
            let (relay, url, port) = try startSSHRelay(dir: dir)
            defer { relay.stop() }
            let socket = dir + "/host.sock"
            let host = try TmuxPane("\(swiftmateBinary) -S \(socket) --relay \(url) new-session \(quietShell)", environment: shellEnvironment)
            defer { host.kill() }
            let strings = try connectionStrings(socket: socket)
            #expect(strings["ssh session"] == "ssh -p \(port) \(sshToken(strings["ssh session"]))@127.0.0.1", "\(strings)")
            let rw = try TmuxPane("ssh \(sshOptions) -p \(port) \(sshToken(strings["ssh session"]))@127.0.0.1; echo ssh-exit-$?")
            defer { rw.kill() }
            let ro = try TmuxPane("ssh \(sshOptions) -p \(port) \(sshToken(strings["ssh session read only"]))@127.0.0.1; echo ssh-exit-$?")
            defer { ro.kill() }
            #expect(host.waitFor("2 connected"), "\(host.screen())")
            #expect(rw.waitFor("host$"), "the ssh viewer sees the prompt: \(rw.screen())")

            try checkOnlyReadWriteViewersType(host: host, rw: rw, ro: ro, marker: "ssh-marker")

            try host.type("exit 5")
            try host.send("Enter")
            #expect(rw.waitFor("exited with status 5"), "\(rw.screen())")
            #expect(rw.waitFor("ssh-exit-0"), "the ssh client ends cleanly: \(rw.screen())")
        }

        @Test func aWrongTokenCostsTheDelayAndLeaksNothing() throws {
            let dir = try scratchDirectory()
            let (relay, _, port) = try startSSHRelay(dir: dir)
            defer { relay.stop() }
            var outputs: [String] = []
            var durations: [Double] = []
            for token in ["AAAAAAAAAAAAAAAAAAAAAA", "x"] { // well-formed unknown, malformed
                let started = Date()
                let result = try run(["sh", "-c", "ssh \(sshOptions) -tt -p \(port) \(token)@127.0.0.1 < /dev/null"], timeout: 30)
                durations.append(Date().timeIntervalSince(started))
                #expect(durations.last! >= 0.05, "the refusal waits the random delay")
                #expect(result.stdout.contains("Invalid or expired session token"), "\(result.stdout)")
                #expect(result.status == 1, "ssh exits 1 for a refused token, as for a failed command: \(result.status)")
                outputs.append(result.stdout)
            }
            #expect(outputs[0] == outputs[1], "the same answer whether or not the token could exist")
            #expect(abs(durations[0] - durations[1]) < 0.5, "similar timing: \(durations)")
            let exec = try run(["sh", "-c", "ssh \(sshOptions) -p \(port) sometoken@127.0.0.1 ls"], timeout: 30)
            #expect(exec.status == 1)
            #expect(exec.stdout.contains("only serves interactive sessions"), "\(exec.stdout)")
            #expect(exec.stdout.contains("connect with: ssh -t -p \(port) sometoken@HOST"), "the hint keeps the port: \(exec.stdout)")
        }

        @Test func fiftyViewersAtOnceAllGetTheMarkerAndLeaveCleanly() throws {
            let dir = try scratchDirectory()
            let (relay, url, port) = try startSSHRelay(dir: dir)
            defer { relay.stop() }
            let socket = dir + "/host.sock"
            let go = dir + "/go"
            let host = try Background([swiftmateBinary, "-S", socket, "--relay", url, "new-session", "sh", "-c",
                                       "while [ ! -f \(go) ]; do sleep 0.1; done; echo fifty-$((25*2)); sleep 600"],
                                      log: dir + "/host.log")
            defer { host.stop() }
            let strings = try connectionStrings(socket: socket)
            let token = sshToken(strings["ssh session read only"])
            var viewers: [Background] = []
            for i in 0..<50 {
                // Two waves of 25: one address may have only 32 connections still logging in
                // (`max_setups_per_address`), and a relay slower than this loop would rightly refuse the rest.
                if i == 25 {
                    #expect(waitUntil(seconds: 60) { relay.log.components(separatedBy: "joined session").count - 1 == 25 },
                            "the first 25 viewers joined: \(relay.log.components(separatedBy: "joined session").count - 1)")
                }
                // stdin is /dev/null: the client sends EOF at once and goes on watching, as a viewer may.
                viewers.append(try Background(["ssh"] + sshOptions.split(separator: " ").map(String.init)
                                              + ["-tt", "-p", "\(port)", "\(token)@127.0.0.1"], log: dir + "/viewer-\(i).log"))
            }
            defer { viewers.forEach { $0.stop() } }
            #expect(waitUntil(seconds: 60) { relay.log.components(separatedBy: "joined session").count - 1 == 50 },
                    "50 viewers joined: \(relay.log.components(separatedBy: "joined session").count - 1)")
            try "".write(toFile: go, atomically: true, encoding: .utf8)
            #expect(waitUntil(seconds: 30) { viewers.allSatisfy { $0.log.contains("fifty-50") } },
                    "\(viewers.filter { !$0.log.contains("fifty-50") }.count) viewers missed the marker")
            for viewer in viewers { kill(viewer.child.pid, SIGTERM) }
            #expect(waitUntil(seconds: 30) { relay.log.components(separatedBy: "left session").count - 1 == 50 },
                    "all 50 left: \(relay.log.components(separatedBy: "left session").count - 1)")
            #expect(!relay.log.contains("error"), "\(relay.log)")
        }

        @Test func aHostConnectsOverSSHOnlyToThePinnedRelay() throws {
            let dir = try scratchDirectory()
            let (relay, _, port) = try startSSHRelay(dir: dir)
            defer { relay.stop() }
            let printed = try run([swiftmateBinary, "relay", "fingerprints", "--state-dir", dir + "/state"])
            let fingerprints = printed.stdout.split(separator: "\n").map(String.init)
            #expect(fingerprints.count == 2 && fingerprints.allSatisfy { $0.hasPrefix("SHA256:") }, "\(printed.stdout)")
            #expect(relay.log.contains(fingerprints.first ?? "-"), "the relay logs its fingerprints at start")

            let good = dir + "/good.yaml", wrong = dir + "/wrong.yaml"
            try "transports:\n  ssh: {fingerprints: [\"\(fingerprints[0])\"]}\n".write(toFile: good, atomically: true, encoding: .utf8)
            try "transports:\n  ssh: {fingerprints: [\"SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"]}\n"
                .write(toFile: wrong, atomically: true, encoding: .utf8)

            let refused = try run([swiftmateBinary, "-f", wrong, "--relay", "ssh://127.0.0.1:\(port)", "new-session", "echo", "ran"], timeout: 30)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("WARNING: RELAY HOST KEY IS NOT THE PINNED ONE!"), "\(refused.stderr)")
            #expect(refused.stderr.contains("presented ED25519 key \(fingerprints[0])"), "\(refused.stderr)")
            #expect(refused.stderr.contains("Pinned for it: SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
            #expect(refused.stderr.contains("transports.ssh.fingerprints") && refused.stderr.contains("(config file in use: \(wrong))"))
            #expect(!refused.stdout.contains("\nran"), "the command does not start")

            // Nothing pinned (and no terminal to ask on): refused, with the key it presented and how to pin it.
            let unpinned = try run(["env", "HOME=\(dir)", swiftmateBinary, "--relay", "ssh://127.0.0.1:\(port)", "new-session", "echo", "ran"], timeout: 30)
            #expect(unpinned.status == 1)
            #expect(unpinned.stderr.contains("the relay 127.0.0.1:\(port) is not pinned"), "\(unpinned.stderr)")
            #expect(unpinned.stderr.contains("--relay-fingerprint \(fingerprints[0])"), "\(unpinned.stderr)")
            #expect(unpinned.stderr.contains("relay_fingerprints: [\(fingerprints[0])]"), "\(unpinned.stderr)")
            #expect(unpinned.stderr.contains("no config file in use: \(dir)/.config/swiftmate/config.yaml does not exist"), "\(unpinned.stderr)")
            #expect(!unpinned.stderr.contains("relay refused"), "the relay refused nothing: \(unpinned.stderr)")
            // Pinned in one step: the flag takes what `relay fingerprints` printed, and the --yaml block is a config.
            let flagged = try run(["env", "HOME=\(dir)", swiftmateBinary, "--relay", "ssh://127.0.0.1:\(port)", "--relay-fingerprint", fingerprints[1],
                                   "--relay-fingerprint", fingerprints[0], "new-session", "touch", dir + "/ran-flagged"], timeout: 30)
            #expect(flagged.status == 0 && FileManager.default.fileExists(atPath: dir + "/ran-flagged"), "\(flagged)")
            let yaml = try run([swiftmateBinary, "relay", "fingerprints", "--state-dir", dir + "/state", "--yaml"])
            try yaml.stdout.write(toFile: dir + "/pinned.yaml", atomically: true, encoding: .utf8)
            let fromYAML = try run([swiftmateBinary, "-f", dir + "/pinned.yaml", "--relay", "ssh://127.0.0.1:\(port)", "new-session", "touch", dir + "/ran-yaml"], timeout: 30)
            #expect(fromYAML.status == 0 && FileManager.default.fileExists(atPath: dir + "/ran-yaml"), "\(yaml.stdout)\n\(fromYAML)")
            let bad = try run([swiftmateBinary, "--relay-fingerprint", "SHA256:short", "new-session", "true"])
            #expect(bad.status != 0 && bad.stderr.contains("--relay-fingerprint 'SHA256:short' is not a host-key fingerprint"), "\(bad)")

            let socket = dir + "/host.sock"
            let host = try Background([swiftmateBinary, "-f", good, "-S", socket, "--relay", "ssh://127.0.0.1:\(port)",
                                       "new-session", "bash", "--norc", "--noprofile"], log: dir + "/host.log")
            defer { host.stop() }
            let strings = try connectionStrings(socket: socket)
            #expect(host.log.contains("connected to ssh://127.0.0.1:\(port)"), "\(host.log)")
            let viewer = try TmuxPane("ssh \(sshOptions) -p \(port) \(sshToken(strings["ssh session"]))@127.0.0.1")
            defer { viewer.kill() }
            try viewer.type("echo over-ssh-both-ways-$((3*3))")
            try viewer.send("Enter")
            #expect(viewer.waitFor("\nover-ssh-both-ways-9"), "\(viewer.screen())")
        }

        @Test func anInteractiveHostTrustsANewRelayOnceAndRefusesItWhenItsKeyChanges() throws {
            let dir = try scratchDirectory()
            let (relay, _, port) = try startSSHRelay(dir: dir)
            let known = dir + "/.config/swiftmate/known_relays"
            let fingerprint = try run([swiftmateBinary, "relay", "fingerprints", "--state-dir", dir + "/state"]).stdout
                .split(separator: "\n").first.map(String.init) ?? "-"
            let command = "\(swiftmateBinary) --relay ssh://127.0.0.1:\(port) new-session \(quietShell)"
            let environment = shellEnvironment.merging(["HOME": dir, "TMPDIR": dir]) { a, _ in a }
            let first = try TmuxPane(command, environment: environment)
            #expect(first.waitFor("The authenticity of relay '127.0.0.1:\(port)' can't be established."), "\(first.screen())")
            #expect(first.screen().contains("ED25519 key fingerprint is \(fingerprint)."), "\(first.screen())")
            try first.type("maybe\r")
            #expect(first.waitFor("Please type 'yes', 'no' or the fingerprint:"), "\(first.screen())")
            try first.type("yes\r")
            #expect(first.waitFor("host$"), "\(first.screen())")
            first.kill()
            let line = (try? String(contentsOfFile: known, encoding: .utf8)) ?? ""
            #expect(line == "127.0.0.1:\(port) \(fingerprint) ed25519\n", "\(line)")
            // Known now: no question the second time.
            let second = try TmuxPane(command, environment: environment)
            #expect(second.waitFor("host$"), "\(second.screen())")
            #expect(!second.screen().contains("authenticity"), "\(second.screen())")
            second.kill()
            // The relay comes back on the same port with other keys: refused, as OpenSSH refuses a changed host key.
            relay.stop()
            let other = try Background([swiftmateBinary, "relay", "--listen", "ssh://127.0.0.1:\(port)", "--state-dir", dir + "/other-state"],
                                       log: dir + "/other-relay.log")
            defer { other.stop() }
            #expect(waitUntil { other.log.contains("listening on ssh://127.0.0.1:\(port)") }, "\(other.log)")
            let third = try TmuxPane(command + "; echo host-exit-$?", environment: environment)
            defer { third.kill() }
            #expect(third.waitFor("host-exit-1"), "\(third.screen())")
            #expect(third.screen().contains("WARNING: RELAY HOST KEY IS NOT THE PINNED ONE!"), "\(third.screen())")
            #expect(third.screen().contains("Pinned for it: \(fingerprint)"), "\(third.screen())")
            #expect(!third.screen().contains("host$"), "the shell never started: \(third.screen())")
        }

        @Test func authorizedKeysAdmitOnlyListedKeysForBothTokens() throws {
            let dir = try scratchDirectory()
            for name in ["listed", "other"] {
                let made = try run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", dir + "/\(name).key"])
                #expect(made.status == 0, "\(made.stdout)")
            }
            let listed = try String(contentsOfFile: dir + "/listed.key.pub", encoding: .utf8)
            try "# who may join\nno-pty \(listed)".write(toFile: dir + "/authorized_keys", atomically: true, encoding: .utf8)
            let (relay, url, port) = try startSSHRelay(dir: dir)
            defer { relay.stop() }
            let socket = dir + "/host.sock", go = dir + "/go"
            let host = try Background([swiftmateBinary, "-S", socket, "-a", dir + "/authorized_keys", "--relay", url, "new-session", "sh", "-c",
                                       "while [ ! -f \(go) ]; do sleep 0.1; done; echo keyed-$((7*6)); sleep 600"], log: dir + "/host.log")
            defer { host.stop() }
            let strings = try connectionStrings(socket: socket)
            func viewer(_ label: String, token: String, key: String?) throws -> Background {
                let identity = key.map { ["-i", dir + "/\($0).key", "-o", "IdentitiesOnly=yes"] } ?? ["-o", "PubkeyAuthentication=no"]
                return try Background(["ssh"] + sshOptions.split(separator: " ").map(String.init) + identity
                                      + ["-tt", "-p", "\(port)", "\(token)@127.0.0.1"], log: dir + "/\(label).log")
            }
            #expect(strings["tcp session"] == nil && strings["tcp session read only"] == nil,
                    "no tcp strings for a session tcp cannot serve: \(strings)")
            let rw = sshToken(strings["ssh session"]), ro = sshToken(strings["ssh session read only"])
            let admitted = [try viewer("listed-rw", token: rw, key: "listed"), try viewer("listed-ro", token: ro, key: "listed")]
            defer { admitted.forEach { $0.stop() } }
            var refused: [Background] = []
            for (label, token, key) in [("other-rw", rw, "other"), ("other-ro", ro, "other"), ("none-rw", rw, nil), ("none-ro", ro, nil)] {
                refused.append(try viewer(label, token: token, key: key))
            }
            for r in refused {
                #expect(r.child.wait(timeout: 30) == 255)
                #expect(r.log.contains("Permission denied (publickey)"), "\(r.logPath): \(r.log)")
            }
            #expect(waitUntil { relay.log.components(separatedBy: "joined session").count - 1 == 2 }, "\(relay.log)")
            let tcp = try run([swiftmateBinary, "join", "\(url)/\(rw)"], timeout: 30)
            #expect(tcp.status == 2)
            #expect(tcp.stderr.contains("admits only listed SSH keys"), "\(tcp.stderr)")
            try "".write(toFile: go, atomically: true, encoding: .utf8)
            #expect(waitUntil { admitted.allSatisfy { $0.log.contains("keyed-42") } }, "\(admitted.map(\.log))")
        }

        @Test func keystrokesSentWithTheShellRequestAreKept() throws {
            let dir = try scratchDirectory()
            let (relay, url, port) = try startSSHRelay(dir: dir)
            defer { relay.stop() }
            let socket = dir + "/host.sock"
            let host = try Background([swiftmateBinary, "-S", socket, "--relay", url, "new-session", "bash", "--norc", "--noprofile"],
                                      log: dir + "/host.log")
            defer { host.stop() }
            let token = sshToken(try connectionStrings(socket: socket)["ssh session"])
            // The line is on ssh's stdin before it connects, so it leaves right behind the shell request.
            let viewer = try Background(["sh", "-c", "(printf 'echo ahead-$((2+3))\\r'; sleep 20) | ssh \(sshOptions) -tt -p \(port) \(token)@127.0.0.1"],
                                        log: dir + "/viewer.log")
            defer { viewer.stop() }
            #expect(waitUntil { viewer.log.contains("\nahead-5") || viewer.log.contains("\rahead-5") }, "\(viewer.log.debugDescription)")
        }
    }
}
