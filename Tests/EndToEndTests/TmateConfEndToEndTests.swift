// Moving over from tmate: a ~/.tmate.conf alone (server, pinned keys, API key, authorized keys, restart) drives a host to a relay.
import Foundation
import Testing

extension EndToEnd {
    @Suite struct TmateConf {
        @Test func aTmateConfDrivesASwiftMateHostToASwiftMateRelay() throws {
            let dir = try scratchDirectory()
            for name in ["viewer", "stranger"] {
                let made = try run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", dir + "/\(name).key"])
                #expect(made.status == 0, "\(made.stdout)")
            }
            try String(contentsOfFile: dir + "/viewer.key.pub", encoding: .utf8)
                .write(toFile: dir + "/authorized_keys", atomically: true, encoding: .utf8)
            // A relay that admits only hosts with its API key, over ssh only (as tmate's servers).
            let apiKey = "tmate-conf-e2e-api-key-0123456789"
            try "relay:\n  hosts: {api_keys: [\(apiKey)]}\n".write(toFile: dir + "/relay.yaml", atomically: true, encoding: .utf8)
            let sshPort = freePort()
            let relay = try Background([swiftmateBinary, "relay", "-f", dir + "/relay.yaml", "--listen", "ssh://127.0.0.1:\(sshPort)",
                                        "--state-dir", dir + "/state"], log: dir + "/relay.log")
            defer { relay.stop() }
            #expect(waitUntil { relay.log.contains("listening on ssh://127.0.0.1:\(sshPort)") }, "\(relay.log)")
            let printed = try run([swiftmateBinary, "relay", "fingerprints", "--state-dir", dir + "/state"])
            let pins = printed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
            #expect(pins.count == 2, "\(printed.stdout)")

            // The host's only configuration: a tmate file in its home (no YAML file there).
            let home = dir + "/home"
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            func writeTmateConf(restart: Int) throws {
                try """
                    # as a tmate user has it
                    set -g tmate-server-host "127.0.0.1"
                    set -g tmate-server-port \(sshPort)
                    set -g tmate-server-ed25519-fingerprint "\(pins[0])"
                    set -g tmate-server-rsa-fingerprint "\(pins.last ?? "")"
                    set -g tmate-api-key "\(apiKey)"
                    set -g tmate-authorized-keys "\(dir)/authorized_keys"
                    set -g tmate-foreground-restart \(restart)
                    set -g mouse on

                    """.write(toFile: home + "/.tmate.conf", atomically: true, encoding: .utf8)
            }
            let asUser = ["env", "-u", "XDG_CONFIG_HOME", "HOME=\(home)", swiftmateBinary]
            try writeTmateConf(restart: 1)
            let socket = dir + "/host.sock"
            let host = try Background(asUser + ["-F", "-S", socket, "new-session", "sh", "-c", "echo hosted-$((6*7)); sleep 600"],
                                      log: dir + "/host.log")
            defer { host.stop() }
            let strings = try connectionStrings(socket: socket)
            #expect(strings["ssh session"]?.contains("-p \(sshPort) ") == true, "\(strings)")
            #expect(host.log.contains("read \(home)/.tmate.conf: tmate-server-host, tmate-server-port → host.relay ssh://127.0.0.1:\(sshPort)"), "\(host.log)")
            #expect(host.log.contains("ignored: mouse"), "\(host.log)")

            // tmate-authorized-keys: the listed key joins, another is refused.
            let key = "-o IdentitiesOnly=yes -i \(dir)"
            let viewer = try TmuxPane("ssh \(sshOptions) \(key)/viewer.key -p \(sshPort) \(sshToken(strings["ssh session"]))@127.0.0.1")
            defer { viewer.kill() }
            #expect(viewer.waitFor("hosted-42"), "\(viewer.screen()) \(host.log)")
            let stranger = try TmuxPane("ssh \(sshOptions) \(key)/stranger.key -p \(sshPort) \(sshToken(strings["ssh session"]))@127.0.0.1; echo ssh-exit-$?")
            defer { stranger.kill() }
            #expect(stranger.waitFor("ssh-exit-"), "\(stranger.screen())")
            #expect(!stranger.screen().contains("hosted-42"))

            // tmate-foreground-restart 0: a headless host whose command exits ends instead of starting it again.
            try writeTmateConf(restart: 0)
            let once = try run(asUser + ["-F", "-S", dir + "/once.sock", "new-session", "sh", "-c", "echo ran >> \(dir)/runs"], timeout: 60)
            #expect(once.status == 0, "\(once.stdout)")
            #expect((try? String(contentsOfFile: dir + "/runs", encoding: .utf8)) == "ran\n", "\(once.stdout)")
        }
    }
}
