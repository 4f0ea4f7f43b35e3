// A session that cannot run fails before the relay is contacted and before any connection string is printed.
import Foundation
import Glibc
import Testing

extension EndToEnd {
    @Suite struct ChecksBeforeSharing {
        @Test func aBadCommandOrRecordingFailsBeforeTheRelayHearsOfIt() throws {
            let dir = try scratchDirectory()
            let (relay, url) = try startRelay(dir: dir)
            defer { relay.stop() }
            let existing = dir + "/existing.cast"
            try "{\"version\": 2}\n".write(toFile: existing, atomically: true, encoding: .utf8)
            let cases: [(String, String, String)] = [
                ("--record \(existing) new-session true", "the recording \(existing) exists", "--overwrite"),
                ("new-session -d", "'-d' is not a command", "swiftmate -F new-session CMD"),
                ("new-session no-such-command-here", "cannot run 'no-such-command-here': no such command on PATH", "give a program"),
                ("new-session \(dir)", "cannot run '\(dir)': it is a directory", "executable"),
                ("--record \(dir)/ro/x.cast new-session true", "\(dir)/ro is not writable", "another path"),
            ]
            try FileManager.default.createDirectory(atPath: dir + "/ro", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o500])
            for (arguments, problem, remedy) in cases where !(getuid() == 0 && arguments.contains("/ro/")) {
                let pane = try TmuxPane("\(swiftmateBinary) --relay \(url) \(arguments); echo host-exit-$?", environment: shellEnvironment)
                defer { pane.kill() }
                #expect(pane.waitFor("host-exit-1"), "\(arguments): \(pane.screen())")
                let screen = pane.screen()
                #expect(screen.contains("swiftmate: ") && screen.contains(problem) && screen.contains(remedy), "\(arguments): \(screen)")
                #expect(!screen.contains("ssh session") && !screen.contains("tcp session"), "no strings: \(screen)")
                #expect(!screen.contains("Usage:"), "not a usage error: \(screen)")
            }
            #expect(!relay.log.contains("opened by host"), "the relay never heard of them: \(relay.log)")
            #expect((try? String(contentsOfFile: existing, encoding: .utf8)) == "{\"version\": 2}\n", "nothing recorded over it")
        }

        @Test func recordPrintsWhereItRecordsAndOverwriteReplaces() throws {
            let dir = try scratchDirectory()
            let (relay, url) = try startRelay(dir: dir)
            defer { relay.stop() }
            let file = dir + "/casts/mine.cast"
            for round in 1...2 {
                let pane = try TmuxPane("\(swiftmateBinary) --relay \(url) --record \(file) \(round == 2 ? "--overwrite " : "")new-session \(quietShell)",
                                        environment: shellEnvironment.merging(["TMPDIR": dir]) { a, _ in a })
                defer { pane.kill() }
                #expect(pane.waitFor("recording to \(file) (swiftmate play \(file))"), "\(pane.screen())")
                #expect(pane.waitFor("host$"), "\(pane.screen())")
                try pane.type("echo round-\(round)-$((6*7)); exit")
                try pane.send("Enter")
                #expect(waitUntil { ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").contains("round-\(round)-42") })
            }
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            #expect(!text.contains("round-1-42"), "the second session replaced the file")
        }
    }
}
