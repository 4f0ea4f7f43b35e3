// `show-messages`, `status`, `wait-ready`, `marker` without -S: from inside the shared shell, and from outside it.
import Foundation
import Glibc
import Testing

extension EndToEnd {
    @Suite struct ControlWithoutSocketFlag {
        @Test func insideTheSharedShellTheCommandsFindTheirHostThroughTheEnvironment() throws {
            let dir = try scratchDirectory()
            let (relay, url) = try startRelay(dir: dir)
            defer { relay.stop() }
            let bin = URL(fileURLWithPath: swiftmateBinary).deletingLastPathComponent().path
            // No -S: the host makes its socket in TMPDIR's per-user directory and tells its shell where it is.
            let host = try TmuxPane("\(swiftmateBinary) --relay \(url) new-session \(quietShell)",
                                    environment: shellEnvironment.merging(["TMPDIR": dir, "PATH": "\(bin):/usr/bin:/bin"]) { a, _ in a })
            defer { host.kill() }
            #expect(host.waitFor("host$"), "\(host.screen())")
            try host.type("clear; swiftmate wait-ready && swiftmate show-messages | grep -c 'tcp session' && echo wait-$((6*7))")
            try host.send("Enter")
            #expect(host.waitFor("wait-42"), "\(host.screen())")
            try host.type("clear; swiftmate status")
            try host.send("Enter")
            #expect(host.waitFor("no viewers"), "\(host.screen())")
            #expect(host.screen().contains("connected to \(url) (session "), "human-readable: \(host.screen())")
            #expect(host.screen().contains("tcp session: swiftmate join \(url)/"), "\(host.screen())")
            try host.type("clear; swiftmate status --json | grep -c '\\\\/'; echo $SWIFTMATE_SOCKET")
            try host.send("Enter")
            #expect(host.waitFor("0\n\(dir)/swiftmate-\(getuid())/host-"), "JSON without \\/ escapes: \(host.screen())")
        }

        @Test func outsideItTheOnlyHostIsFoundAndSeveralAreListed() throws {
            let dir = try scratchDirectory()
            let (relay, url) = try startRelay(dir: dir)
            defer { relay.stop() }
            func swiftmate(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
                try run(["env", "-u", "SWIFTMATE_SOCKET", "TMPDIR=\(dir)", swiftmateBinary] + arguments, timeout: 30)
            }
            let none = try swiftmate("status")
            #expect(none.status == 1 && none.stderr.contains("no SwiftMate host is running for this user"), "\(none)")
            let first = try TmuxPane("\(swiftmateBinary) --relay \(url) new-session \(quietShell)", environment: shellEnvironment.merging(["TMPDIR": dir]) { a, _ in a })
            defer { first.kill() }
            #expect(first.waitFor("host$"), "\(first.screen())")
            let ready = try swiftmate("wait-ready")
            #expect(ready.status == 0, "\(ready)")
            let one = try swiftmate("status")
            #expect(one.status == 0 && one.stdout.hasPrefix("connected to \(url)"), "\(one)")
            let second = try TmuxPane("\(swiftmateBinary) --relay \(url) new-session \(quietShell)", environment: shellEnvironment.merging(["TMPDIR": dir]) { a, _ in a })
            defer { second.kill() }
            #expect(second.waitFor("host$"), "\(second.screen())")
            let two = try swiftmate("show-messages")
            #expect(two.status == 1 && two.stderr.contains("2 SwiftMate hosts are running; say which with -S"), "\(two)")
            #expect(two.stderr.components(separatedBy: "swiftmate -S \(dir)/swiftmate-\(getuid())/host-").count == 3, "both listed: \(two.stderr)")
            #expect(two.stderr.contains(" on \(url), 0 viewer(s)"), "\(two.stderr)")
            // A host killed outright leaves its socket behind: it is skipped (and removed), the other one answers.
            let pids = try run(["pgrep", "-f", "^\(swiftmateBinary) --relay \(url) new-session"]).stdout.split(separator: "\n").compactMap { pid_t($0) }
            #expect(pids.count == 2, "\(pids)")
            kill(pids.min()!, SIGKILL)
            #expect(waitUntil { (try? swiftmate("status").status) == 0 }, "the live host is found: \((try? swiftmate("status")).map { "\($0)" } ?? "")")
            let left = try FileManager.default.contentsOfDirectory(atPath: "\(dir)/swiftmate-\(getuid())")
            #expect(left.count == 1, "the stale socket was removed: \(left)")
        }
    }
}
