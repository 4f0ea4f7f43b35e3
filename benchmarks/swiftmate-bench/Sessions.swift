// A relay holding many sessions: N hosts linked over tcp, each printing a line every second and echoing what its
// viewers type; the relay's memory and threads, and an OpenSSH viewer's keystroke echo in one of the sessions,
// beside the same echo with one session only and one OpenSSH hop (the floor), all in the same run.
import Foundation
import Glibc
import SwiftMateCore
import SwiftMateSystem

/// Hosts that speak the framed protocol themselves, all on one thread (poll): each echoes viewers' input as
/// output and prints a line every `interval`.
final class SyntheticHosts: @unchecked Sendable {
    private var fds: [Int32] = []
    private var decoders: [FrameDecoder] = []
    private var seqs: [UInt64] = []
    /// Read-write tokens, one per session.
    private(set) var tokens: [String] = []
    private let stop = NSCondition()
    private var stopping = false
    private var finished = false

    /// Opens `count` sessions on the relay at 127.0.0.1:`port`, one at a time.
    init(count: Int, port: Int) throws {
        for i in 0..<count {
            guard let fd = tcpConnect(port: port) else { throw BenchError(description: "host \(i): cannot connect to the relay") }
            let hello = Framing.frame(Message.hello(Hello(role: .host, codecs: ["none"], cols: 80, rows: 24)).encoded())
            guard FileDescriptorIO.writeAll(fd, hello) else { throw BenchError(description: "host \(i): cannot send hello") }
            var decoder = FrameDecoder()
            var buffer = [UInt8](repeating: 0, count: 65536)
            var welcome: Welcome?
            while welcome == nil {
                if let body = try decoder.next() {
                    switch try Message.decode(body) {
                    case .welcome(let w): welcome = w
                    case .refused(_, let reason): throw BenchError(description: "host \(i) refused: \(reason)")
                    default: continue
                    }
                    continue
                }
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                guard n > 0 else { throw BenchError(description: "host \(i): the relay closed during the handshake") }
                decoder.append(buffer[0..<n])
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            var one: Int32 = 1 // as the host's tcp transport does: an echo must not wait for the last line's ACK
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            fds.append(fd)
            decoders.append(decoder)
            seqs.append(0)
            tokens.append(welcome?.readWriteToken ?? "")
        }
    }

    private func send(_ i: Int, _ bytes: [UInt8]) {
        let frame = Framing.frame(Message.output(seq: seqs[i], bytes: bytes).encoded())
        seqs[i] += UInt64(bytes.count)
        // Blocking for the rest if the socket is full (a line or an echo: rarely).
        var offset = 0
        while offset < frame.count {
            let n = frame[offset...].withUnsafeBytes { write(fds[i], $0.baseAddress, $0.count) }
            if n > 0 { offset += n } else if errno == EAGAIN { usleep(100) } else { return }
        }
    }

    /// Runs until `finish`: echoes input, prints a line per host every `interval` (spread over the interval).
    func start(interval: Double) {
        Thread { [self] in
            var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            var next = 0
            let perHost = interval / Double(max(1, fds.count))
            var due = Date()
            while !stop.withLock({ stopping }) {
                _ = poll(&polls, nfds_t(polls.count), 10)
                for i in polls.indices where polls[i].revents != 0 {
                    polls[i].revents = 0
                    let n = buffer.withUnsafeMutableBytes { read(fds[i], $0.baseAddress, $0.count) }
                    guard n > 0 else { continue }
                    decoders[i].append(buffer[0..<n])
                    while let body = try? decoders[i].next() {
                        if case .input(_, let bytes)? = try? Message.decode(body) { send(i, bytes) }
                    }
                }
                while Date() >= due && !fds.isEmpty {
                    send(next, Array("session \(next) line at \(Date().timeIntervalSince1970)\r\n".utf8))
                    next = (next + 1) % fds.count
                    due.addTimeInterval(perHost)
                }
            }
            stop.withLock {
                finished = true
                stop.broadcast()
            }
        }.start()
    }

    /// Stops the hosts' thread and closes their links (the relay ends the sessions).
    func finish() {
        stop.withLock { stopping = true }
        stop.withLock { while !finished { stop.wait() } }
        for fd in fds { close(fd) }
    }
}

/// Threads of `pid`.
func threadCount(_ pid: pid_t) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
}

/// A relay with `count` sessions; the echo an OpenSSH viewer of the first one sees (milliseconds).
func sessionsRun(count: Int, keystrokes: Int) throws -> (echo: [Double], rss: Double, threads: Int, setUp: Double) {
    let tag = "sessions-\(count)"
    let config = dir + "/\(tag).yaml"
    try """
        relay:
          limits: {max_sessions: \(count + 10)}
        transports:
          ssh: {max_connections: \(count + 100)}

        """.write(toFile: config, atomically: true, encoding: .utf8)
    let (relay, tcpURL, sshURL, _) = try startRelay(tag: tag, config: config)
    defer {
        relay.signal(SIGTERM)
        _ = relay.waitForExit()
    }
    let tcpPort = Int(tcpURL.split(separator: ":").last ?? "") ?? 0
    let sshPort = String(sshURL.split(separator: ":").last ?? "")
    let started = ContinuousClock.now
    let hosts = try SyntheticHosts(count: count, port: tcpPort)
    let d = ContinuousClock.now - started
    let setUp = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    hosts.start(interval: 1)
    defer { hosts.finish() }
    let viewer = try EchoClient.start(sshViewer(port: sshPort, token: hosts.tokens[0]), viaPTY: false)
    defer { viewer.stop() }
    let echo = try measureEcho(viewer, count: keystrokes)
    return (echo, memory(relay.pid).rss, threadCount(relay.pid), setUp)
}
