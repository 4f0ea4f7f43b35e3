// Joiners the host approves (--approve): an OpenSSH viewer waits and receives no byte of the session until the host
// lets it in with Ctrl-] y; a denied one is told and never sees the session; a let-in one can be removed.
import Foundation
import Testing

extension EndToEnd {
    @Suite struct Approval {
        @Test func viewersWaitForTheHostsAnswer() throws {
            let dir = try scratchDirectory()
            let socket = dir + "/host.sock"
            let host = try TmuxPane("\(swiftmateBinary) -S \(socket) --approve new-session sh -c 'echo secret-$((6*7)); sleep 600'")
            defer { host.kill() }
            let strings = try connectionStrings(socket: socket)
            let ro = try #require(strings["ssh session read only"], "\(strings)")
            #expect(host.waitFor("secret-42"), "\(host.screen())")
            func viewers() throws -> [[String: Any]] {
                let status = try run([swiftmateBinary, "-S", socket, "status", "--json"])
                let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
                return json?["viewers"] as? [[String: Any]] ?? []
            }

            // The first viewer waits, and sees nothing of the session; the host is asked, and says yes with its keys.
            let first = try TmuxPane("\(ro.replacingOccurrences(of: "ssh ", with: "ssh \(sshOptions) "))")
            defer { first.kill() }
            #expect(first.waitFor("waiting for the host to let you in"), "\(first.screen())")
            #expect(host.waitFor("asks to join: Ctrl-] y lets in"), "\(host.screen())")
            let waiting = try viewers()
            #expect(waiting.count == 1, "\(waiting)")
            #expect(waiting.first?["waiting"] as? Bool == true && waiting.first?["readOnly"] as? Bool == true
                    && waiting.first?["transport"] as? String == "ssh" && (waiting.first?["peer"] as? String ?? "").hasPrefix("127.0.0.1:"),
                    "\(waiting)")
            #expect(!first.screen().contains("secret-42"))
            try host.send("C-]", "y")
            #expect(first.waitFor("secret-42"), "\(first.screen())")
            // The PTY echoes what reaches the command: the answer keys did not.
            #expect(!host.screen().split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "y" || $0.contains("^]") },
                    "the answer keys reached the command: \(host.screen())")
            let firstID = try #require(try viewers().first?["id"] as? Int)

            // The second viewer's bytes are kept as ssh received them: turned away, it never got one of the session's.
            let wire = dir + "/second.bytes"
            let second = try TmuxPane("\(ro.replacingOccurrences(of: "ssh ", with: "ssh -tt \(sshOptions) ")) > \(wire); echo ssh-exited-$?")
            defer { second.kill() }
            #expect(waitUntil { (try? viewers().contains { $0["waiting"] as? Bool == true }) == true })
            let secondID = try #require(try viewers().first { $0["waiting"] as? Bool == true }?["id"] as? Int)
            let denied = try run([swiftmateBinary, "-S", socket, "deny", "\(secondID)", "ask first"])
            #expect(denied.status == 0, "\(denied.stderr)")
            #expect(second.waitFor("ssh-exited-"), "\(second.screen())")
            let received = (try? String(contentsOfFile: wire, encoding: .utf8)) ?? ""
            #expect(received.contains("waiting for the host to let you in") && received.contains("the host did not let you in: ask first"),
                    "\(received)")
            #expect(!received.contains("secret"), "a denied viewer received session bytes: \(received)")

            // A join client keeps its waiting line (past a message's 3 s) until it is let in.
            let joiner = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session read only"]))", cols: 80, rows: 24)
            defer { joiner.kill() }
            #expect(joiner.waitFor("waiting for the host to let you in"), "\(joiner.screen())")
            let joinerID = try #require(waitUntil { (try? viewers().contains { $0["waiting"] as? Bool == true }) == true }
                                        ? try viewers().first { $0["waiting"] as? Bool == true }?["id"] as? Int : nil)
            sleep(4)
            #expect(joiner.screen().contains("waiting for the host to let you in"), "\(joiner.screen())")
            #expect(try run([swiftmateBinary, "-S", socket, "approve", "\(joinerID)"]).status == 0)
            #expect(joiner.waitFor("secret-42"), "\(joiner.screen())")
            #expect(waitUntil { !joiner.screen().contains("waiting for the host") }, "\(joiner.screen())")

            // Answers name viewers that exist and wait; the one let in can be removed, and is told.
            let wrong = try run([swiftmateBinary, "-S", socket, "approve", "\(firstID)"])
            #expect(wrong.status == 1 && wrong.stderr.contains("is not waiting"), "\(wrong.stderr)")
            let kicked = try run([swiftmateBinary, "-S", socket, "kick", "\(firstID)", "that is all"])
            #expect(kicked.status == 0, "\(kicked.stderr)")
            #expect(first.waitFor("the host removed you from the session: that is all"), "\(first.screen())")
            #expect(waitUntil { (try? viewers().map { $0["id"] as? Int }) == [joinerID] })
        }
    }
}
