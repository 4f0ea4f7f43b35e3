// `capacity`: one relay process holding N sessions, their hosts linked alternately over tcp and over ssh (libssh,
// the `swiftmate` subsystem), one SSH viewer each (libssh asking for a PTY and a shell, as `ssh TOKEN@relay` does),
// each host printing a line a second. Printed: whether every viewer is live, the relay's RSS and threads, and the
// keystroke echo a stock OpenSSH viewer sees in a session of each kind, beside the same on an idle relay (two
// sessions), all in the same run; and the threads of an embedded host.
import Foundation
import Glibc
import Synchronization
import SwiftMateCore
import SwiftMateSystem

/// What one relay under load showed.
struct CapacityRun {
    var sessions: Int
    /// Seconds to open the sessions, and then their viewers.
    var setUp: (hosts: Double, viewers: Double)
    /// Viewers that received output in the last 2.5 s, of all.
    var live: (live: Int, total: Int)
    var rss: Double
    var threads: Int
    /// An OpenSSH viewer's echo (ms) in the first session (host over tcp) and the second (host over ssh).
    var echo: (tcpHost: [Double], sshHost: [Double])
}

private func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// A relay with `count` sessions (at least 2) under load; the echo measured in sessions 0 and 1.
func capacityRun(count: Int, keystrokes: Int) throws -> CapacityRun {
    let count = max(2, count)
    let tag = "capacity-\(count)"
    let config = try loadRelayConfig(tag: tag, sessions: count, connections: 2 * count)
    let (relay, tcpURL, sshURL, _) = try startRelay(tag: tag, config: config)
    defer {
        relay.signal(SIGTERM)
        _ = relay.waitForExit()
    }
    let tcpPort = Int(tcpURL.split(separator: ":").last ?? "") ?? 0
    let sshPort = Int(sshURL.split(separator: ":").last ?? "") ?? 0
    var started = ContinuousClock.now
    let hosts = try LoadHosts(count: count) { i in
        if i % 2 == 0 { return try TCPLoadLink(port: tcpPort) }
        return try SSHLoadLink(port: sshPort, purpose: .host)
    }
    let hostsSetUp = seconds(since: started)
    hosts.start(interval: 1)
    defer { hosts.finish() }

    // The viewers, from four threads at once (the relay lets one address have 32 logins in progress).
    started = ContinuousClock.now
    let failure = Mutex<(any Error)?>(nil)
    let group = DispatchGroup()
    for t in 0..<4 {
        group.enter()
        Thread {
            defer { group.leave() }
            for i in stride(from: t, to: count, by: 4) {
                do {
                    hosts.add(viewer: try SSHLoadLink(port: sshPort, purpose: .viewer(token: hosts.tokens[i])))
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                    return
                }
            }
        }.start()
    }
    group.wait()
    if let error = failure.withLock({ $0 }) { throw error }
    let viewersSetUp = seconds(since: started)
    sleep(3) // every host prints a line a second
    let live = hosts.liveViewers(within: 2.5)
    let rss = memory(relay.pid).rss
    let threads = threadCount(relay.pid)

    func echo(session: Int) throws -> [Double] {
        let viewer = try EchoClient.start(sshViewer(port: String(sshPort), token: hosts.tokens[session]), viaPTY: false)
        defer { viewer.stop() }
        return try measureEcho(viewer, count: keystrokes)
    }
    let echoes = (try echo(session: 0), try echo(session: 1))
    return CapacityRun(sessions: count, setUp: (hostsSetUp, viewersSetUp), live: live, rss: rss, threads: threads, echo: echoes)
}

/// Threads of a host sharing `cat` on its embedded relay, once it is ready.
func embeddedHostThreads() throws -> Int {
    let socket = dir + "/threads.sock"
    let host = try PTYProcess(command: [binary, "-S", socket, "new-session", "cat"], environment: env, cols: 120, rows: 40)
    _ = drain(host)
    defer {
        host.signal(SIGTERM)
        _ = host.waitForExit()
    }
    let deadline = Date().addingTimeInterval(30)
    while !FileManager.default.fileExists(atPath: socket) {
        guard Date() < deadline else { throw BenchError(description: "the host did not start") }
        usleep(20_000)
    }
    _ = try ControlClient.send("wait-ready", to: socket)
    sleep(1)
    return threadCount(host.pid)
}

/// The suite: an idle relay (2 sessions), 1,000 sessions and `count`, each line beside the idle relay's echo.
func capacitySuite(count: Int, keystrokes: Int) throws {
    raiseFileLimit()
    let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    say("cores: \(cores); thread target ≤ 2 × cores + 4 = \(2 * cores + 4); embedded host (sharing cat, idle): \(try embeddedHostThreads()) threads")
    var idle: CapacityRun?
    for n in Set([2, min(1000, count), count]).sorted() {
        let r = try capacityRun(count: n, keystrokes: keystrokes)
        let reference = idle ?? r
        if idle == nil { idle = r }
        let (tcpEcho, sshEcho) = (percentile(r.echo.tcpHost, 0.5), percentile(r.echo.sshHost, 0.5))
        say(String(format: "relay with %d sessions (hosts %d over tcp, %d over ssh; opened in %.1f s, viewers in %.1f s): viewers live %d/%d, relay RSS %.1f MB, %d threads; OpenSSH viewer's echo, host over tcp: median %.3f ms p99 %.3f ms (%.2f × idle relay), host over ssh: median %.3f ms p99 %.3f ms (%.2f × idle relay)",
                   r.sessions, (r.sessions + 1) / 2, r.sessions / 2, r.setUp.hosts, r.setUp.viewers, r.live.live, r.live.total, r.rss, r.threads,
                   tcpEcho, percentile(r.echo.tcpHost, 0.99), tcpEcho / percentile(reference.echo.tcpHost, 0.5),
                   sshEcho, percentile(r.echo.sshHost, 0.99), sshEcho / percentile(reference.echo.sshHost, 0.5)))
    }
}
