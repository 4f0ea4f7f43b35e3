// A host that lists several relays: one it cannot reach is passed over at once; when its relay dies it moves to the
// next, and relays that share a state directory (resume key and host keys) give it its session back, same tokens.
import Foundation
import Testing

extension EndToEnd {
    @Suite struct Failover {
        @Test func aHostMovesToTheNextRelayAndKeepsItsTokens() throws {
            let dir = try scratchDirectory()
            let (first, second) = (freePort(), freePort())
            func startRelay(_ port: Int) throws -> Background { try startTCPRelay(port: port, dir: dir, log: dir + "/relay-\(port).log") }
            // The first relay is not running: the host goes on to the second without waiting.
            let b = try startRelay(second)
            defer { b.stop() }
            let socket = dir + "/host.sock"
            let started = Date()
            let host = try Background([swiftmateBinary, "-F", "-S", socket, "--relay", "tcp://127.0.0.1:\(first)", "--relay",
                                       "tcp://127.0.0.1:\(second)", "new-session", "sh", "-c", "while :; do echo tick-$((6*7)); sleep 1; done"],
                                      log: dir + "/host.log")
            defer { host.stop() }
            let strings = try connectionStrings(socket: socket)
            #expect(Date().timeIntervalSince(started) < 5)
            let rw = try #require(strings["tcp session"], "\(strings)")
            #expect(rw.contains(":\(second)/"), "\(rw)")
            #expect(host.log.contains("trying tcp://127.0.0.1:\(second)"), "\(host.log)")

            // The second dies; the first is up now, on the same state directory: the host is back there, same token.
            let a = try startRelay(first)
            defer { a.stop() }
            kill(b.child.pid, SIGKILL)
            _ = b.child.wait(timeout: 5)
            #expect(waitUntil(seconds: 20) { a.log.contains("opened by host") }, "\(a.log)\n\(host.log)")
            let after = try connectionStrings(socket: socket)
            let token = { (s: String?) in s?.split(separator: "/").last.map(String.init) }
            #expect(token(after["tcp session"]) == token(rw) && after["tcp session"]?.contains(":\(first)/") == true, "\(after) vs \(rw)")
            let viewer = try TmuxPane("\(swiftmateBinary) join \(joinURL(after["tcp session read only"]))")
            defer { viewer.kill() }
            #expect(viewer.waitFor("tick-42"), "\(viewer.screen())")
        }
    }
}
