// A relay holding many sessions: N hosts linked over tcp, each printing a line every second and echoing what its
// viewers type; the relay's memory and threads, and an OpenSSH viewer's keystroke echo in one of the sessions,
// beside the same echo with one session only and one OpenSSH hop (the floor), all in the same run.
import Foundation
import Glibc
import SwiftMateCore
import SwiftMateSystem

/// The load: hosts that speak the framed protocol themselves, each echoing its viewers' input as output and
/// printing a line every `interval`, and viewers that only read, all on one thread (poll).
final class LoadHosts: @unchecked Sendable {
    private struct Host {
        let link: any LoadLink
        var decoder = FrameDecoder()
        var seq: UInt64 = 0
    }
    private struct Viewer {
        let link: any LoadLink
        var bytes = 0
        var lastOutput = Date.distantPast
    }
    private var hosts: [Host] = []
    private var viewers: [Viewer] = []
    /// Read-write tokens, one per session.
    private(set) var tokens: [String] = []
    private let lock = NSCondition()
    private var stopping = false
    private var finished = false
    /// Viewers opened since the loop last looked (set up on other threads).
    private var arriving: [any LoadLink] = []
    /// Viewers that have seen output since `since`, and in all (the loop counts them on request).
    private var liveQuery: (since: Date, live: Int, total: Int)?

    /// Opens one session per link on the relay, one at a time (`links` makes the i-th host's link).
    init(count: Int, link: (Int) throws -> any LoadLink) throws {
        for i in 0..<count {
            let l = try link(i)
            guard l.send(Framing.frame(Message.hello(Hello(role: .host, codecs: ["none"], cols: 80, rows: 24)).encoded())) else {
                throw BenchError(description: "host \(i): cannot send hello")
            }
            var host = Host(link: l)
            var welcome: Welcome?
            let deadline = Date().addingTimeInterval(30)
            while welcome == nil {
                if let body = try host.decoder.next() {
                    switch try Message.decode(body) {
                    case .welcome(let w): welcome = w
                    case .refused(_, let reason): throw BenchError(description: "host \(i) refused: \(reason)")
                    default: continue
                    }
                    continue
                }
                guard let got = l.receive() else { throw BenchError(description: "host \(i): the relay closed during the handshake") }
                if got.isEmpty {
                    guard Date() < deadline else { throw BenchError(description: "host \(i): no welcome in 30 s") }
                    var p = pollfd(fd: l.fd, events: Int16(POLLIN), revents: 0)
                    _ = poll(&p, 1, 10)
                }
                host.decoder.append(got[...])
            }
            hosts.append(host)
            tokens.append(welcome?.readWriteToken ?? "")
        }
    }

    /// Adds a viewer (from any thread); the loop reads it from its next pass.
    func add(viewer: any LoadLink) {
        lock.withLock { arriving.append(viewer) }
    }

    /// How many viewers have received output in the last `seconds`, of how many.
    func liveViewers(within seconds: Double) -> (live: Int, total: Int) {
        lock.withLock {
            liveQuery = (Date().addingTimeInterval(-seconds), -1, 0)
            while liveQuery?.live == -1 { lock.wait() }
            defer { liveQuery = nil }
            return (liveQuery?.live ?? 0, liveQuery?.total ?? 0)
        }
    }

    private func send(_ i: Int, _ bytes: [UInt8]) {
        _ = hosts[i].link.send(Framing.frame(Message.output(seq: hosts[i].seq, bytes: bytes).encoded()))
        hosts[i].seq += UInt64(bytes.count)
    }

    /// Reads host `i`'s link and echoes its input: whether it echoed anything, nil when the link closed.
    private func receive(host i: Int) -> Bool? {
        guard let got = hosts[i].link.receive() else { return nil }
        hosts[i].decoder.append(got[...])
        var echoed = false
        while let body = try? hosts[i].decoder.next() {
            if case .input(_, let bytes)? = try? Message.decode(body) {
                send(i, bytes)
                echoed = true
            }
        }
        return echoed
    }

    /// Runs until `finish`: echoes input, prints a line per host every `interval` (spread over the interval), and
    /// reads every viewer.
    func start(interval: Double) {
        Thread { [self] in
            var polls = hosts.map { pollfd(fd: $0.link.fd, events: Int16(POLLIN), revents: 0) }
            var next = 0
            let perHost = interval / Double(max(1, hosts.count))
            var due = Date()
            while true {
                let (stop, new, query) = lock.withLock { () -> (Bool, [any LoadLink], Date?) in
                    defer { arriving = [] }
                    return (stopping, arriving, liveQuery?.since)
                }
                if stop { break }
                for link in new {
                    viewers.append(Viewer(link: link))
                    polls.append(pollfd(fd: link.fd, events: Int16(POLLIN), revents: 0))
                }
                if let query {
                    let live = viewers.filter { $0.lastOutput >= query }.count
                    lock.withLock {
                        liveQuery = (query, live, viewers.count)
                        lock.broadcast()
                    }
                }
                _ = poll(&polls, nfds_t(polls.count), 10)
                let now = Date()
                for p in polls.indices where polls[p].revents != 0 {
                    polls[p].revents = 0
                    if p < hosts.count {
                        // An echo written through libssh may have read more input meanwhile: read until none.
                        var echoed: Bool? = true
                        while echoed == true { echoed = receive(host: p) }
                        if echoed == nil { polls[p].fd = -1 }
                        continue
                    }
                    let v = p - hosts.count
                    switch viewers[v].link.receive() {
                    case nil: polls[p].fd = -1 // closed: poll ignores it
                    case let got? where !got.isEmpty:
                        viewers[v].bytes += got.count
                        viewers[v].lastOutput = now
                    default: break
                    }
                }
                while Date() >= due && !hosts.isEmpty {
                    send(next, Array("session \(next) line at \(Date().timeIntervalSince1970)\r\n".utf8))
                    next = (next + 1) % hosts.count
                    due.addTimeInterval(perHost)
                }
            }
            lock.withLock {
                finished = true
                lock.broadcast()
            }
        }.start()
    }

    /// Stops the loop and closes every link (the relay ends the sessions).
    func finish() {
        lock.withLock { stopping = true }
        lock.withLock { while !finished { lock.wait() } }
        for viewer in viewers { viewer.link.close() }
        for host in hosts { host.link.close() }
    }
}

/// Threads of `pid`.
/// A relay config for a load of `sessions` sessions and `connections` ssh connections (with room to spare); its path.
func loadRelayConfig(tag: String, sessions: Int, connections: Int) throws -> String {
    let config = dir + "/\(tag).yaml"
    try """
        relay:
          limits: {max_sessions: \(sessions + 10)}
        transports:
          ssh: {max_connections: \(connections + 100)}

        """.write(toFile: config, atomically: true, encoding: .utf8)
    return config
}

func threadCount(_ pid: pid_t) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
}

/// A relay with `count` sessions; the echo an OpenSSH viewer of the first one sees (milliseconds).
func sessionsRun(count: Int, keystrokes: Int) throws -> (echo: [Double], rss: Double, threads: Int, setUp: Double) {
    let tag = "sessions-\(count)"
    let config = try loadRelayConfig(tag: tag, sessions: count, connections: count)
    let (relay, tcpURL, sshURL, _) = try startRelay(tag: tag, config: config)
    defer {
        relay.signal(SIGTERM)
        _ = relay.waitForExit()
    }
    let tcpPort = Int(tcpURL.split(separator: ":").last ?? "") ?? 0
    let sshPort = String(sshURL.split(separator: ":").last ?? "")
    let started = ContinuousClock.now
    let hosts = try LoadHosts(count: count) { _ in try TCPLoadLink(port: tcpPort) }
    let d = ContinuousClock.now - started
    let setUp = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    hosts.start(interval: 1)
    defer { hosts.finish() }
    let viewer = try EchoClient.start(sshViewer(port: sshPort, token: hosts.tokens[0]), viaPTY: false)
    defer { viewer.stop() }
    let echo = try measureEcho(viewer, count: keystrokes)
    return (echo, memory(relay.pid).rss, threadCount(relay.pid), setUp)
}
