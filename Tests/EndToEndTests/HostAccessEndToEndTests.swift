// A relay that lists its hosts (relay.hosts): over ssh a host proves a listed key, over tcp it gives an API key.
import Foundation
import Testing

extension EndToEnd {
    @Suite struct HostAccess {
        @Test func onlyHostsWithAListedKeyOrAPIKeyOpenSessions() throws {
            let dir = try scratchDirectory()
            for name in ["listed", "other"] {
                let made = try run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", dir + "/\(name).key"])
                #expect(made.status == 0, "\(made.stdout)")
            }
            try String(contentsOfFile: dir + "/listed.key.pub", encoding: .utf8).write(toFile: dir + "/hosts.pub", atomically: true, encoding: .utf8)
            let apiKey = "an-api-key-for-the-e2e-test-0123"
            let relayConfig = dir + "/relay.yaml"
            try "relay:\n  hosts: {authorized_keys: \(dir)/hosts.pub, api_keys: [\(apiKey)]}\n".write(toFile: relayConfig, atomically: true, encoding: .utf8)
            let sshPort = freePort()
            let (relay, url) = try startRelay(dir: dir, arguments: ["-f", relayConfig, "--listen", "ssh://127.0.0.1:\(sshPort)", "--state-dir", dir + "/state"])
            defer { relay.stop() }
            #expect(waitUntil { relay.log.contains("listening on ssh://127.0.0.1:\(sshPort)") }, "\(relay.log)")
            let printed = try run([swiftmateBinary, "relay", "fingerprints", "--state-dir", dir + "/state"])
            let pins = printed.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").last.map { "\"\($0)\"" } }.joined(separator: ", ")
            func hostConfig(_ key: String) throws -> String {
                let path = dir + "/host-\(key).yaml"
                try "transports:\n  ssh: {fingerprints: [\(pins)], identity: \(dir)/\(key).key}\n".write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }

            // Refused before the command starts: an unlisted ssh key, and tcp without (or with a wrong) API key.
            for (label, arguments) in [("unlisted key", ["-f", try hostConfig("other"), "--relay", "ssh://127.0.0.1:\(sshPort)"]),
                                       ("no API key", ["--relay", url]),
                                       ("wrong API key", ["--relay", url, "-k", apiKey + "x"])] {
                let refused = try run([swiftmateBinary] + arguments + ["new-session", "echo", "ran"], timeout: 30)
                #expect(refused.status == 1, "\(label): \(refused.stderr)")
                #expect(refused.stderr.contains("lets only listed hosts open sessions"), "\(label): \(refused.stderr)")
                #expect(!refused.stdout.contains("\nran"), "\(label): the command does not start")
            }

            // Admitted: the listed key over ssh, the API key over tcp; each session serves a viewer.
            for (label, arguments) in [("listed key", ["-f", try hostConfig("listed"), "--relay", "ssh://127.0.0.1:\(sshPort)"]),
                                       ("API key", ["--relay", url, "-k", apiKey])] {
                let socket = dir + "/\(label.replacingOccurrences(of: " ", with: "-")).sock"
                let host = try Background([swiftmateBinary, "-S", socket] + arguments + ["new-session", "sh", "-c", "echo hosted-$((6*7)); sleep 600"],
                                          log: dir + "/host-\(label).log")
                defer { host.stop() }
                let strings = try connectionStrings(socket: socket)
                let viewer = try TmuxPane("ssh \(sshOptions) -p \(sshPort) \(sshToken(strings["ssh session read only"]))@127.0.0.1")
                defer { viewer.kill() }
                #expect(viewer.waitFor("hosted-42"), "\(label): \(viewer.screen()) \(host.log)")
            }
        }
    }
}
