// The relay under a handshake flood: 1,000 connections each holding a partial frame, its memory before, at the peak
// and after they close, and how long a fresh viewer takes to join meanwhile, beside the same join on an idle relay.
import Foundation
import Glibc
import SwiftMateCore
import SwiftMateSystem

/// `VmRSS` and `VmHWM` (the peak) of `pid`, in MB.
func memory(_ pid: pid_t) -> (rss: Double, peak: Double) {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    func field(_ name: String) -> Double {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return .nan }
        return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? .nan) / 1024
    }
    return (field("VmRSS"), field("VmHWM"))
}

/// A blocking TCP connection to 127.0.0.1:`port`, from `source` (another loopback address, so the flood and the
/// measured viewer are different peers to the relay).
func tcpConnect(port: Int, source: String? = nil) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    func address(_ host: String, _ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &a.sin_addr)
        return a
    }
    if let source {
        var local = address(source, 0)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0 else { close(fd); return nil }
    }
    var remote = address("127.0.0.1", port)
    let ok = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard ok == 0 else { close(fd); return nil }
    return fd
}

/// Seconds from connecting to the first session message after `welcome` (the screen a viewer is shown first).
func timedJoin(port: Int, token: String) -> Double? {
    let start = ContinuousClock.now
    guard let fd = tcpConnect(port: port) else { return nil }
    defer { close(fd) }
    var tv = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    let hello = Framing.frame(Message.hello(Hello(role: .viewer, codecs: ["none"], token: token, cols: 80, rows: 24)).encoded())
    guard FileDescriptorIO.writeAll(fd, hello) else { return nil }
    var decoder = FrameDecoder()
    var welcomed = false
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        while let body = try? decoder.next() {
            guard let message = try? Message.decode(body) else { continue }
            if case .welcome = message { welcomed = true; continue }
            guard welcomed else { return nil } // refused
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        decoder.append(buffer[0..<n])
    }
}

/// Runs the flood against a relay with `limits` (YAML flow mapping), printing the figures.
func flood(tag: String, limits: String, connections: Int, declared: Int) throws {
    let config = dir + "/flood-\(tag).yaml"
    try "relay:\n  limits: \(limits)\n".write(toFile: config, atomically: true, encoding: .utf8)
    let relayLog = dir + "/relay-flood-\(tag).log"
    let relay = try PTYProcess(command: ["sh", "-c", "exec \(binary) relay -f \(config) --listen tcp://127.0.0.1:0 --state-dir \(dir)/state > \(relayLog) 2>&1"],
                               environment: env, cols: 80, rows: 24)
    var url = ""
    while url.isEmpty {
        usleep(20_000)
        let log = (try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? ""
        url = log.components(separatedBy: "listening on ").dropFirst().first.map { String($0.prefix { !$0.isWhitespace }) } ?? ""
    }
    let port = Int(url.split(separator: ":").last ?? "") ?? 0
    let socket = dir + "/flood-\(tag).sock"
    let host = try PTYProcess(command: [binary, "-F", "-S", socket, "--relay", url, "new-session", "sh", "-c", "while :; do date; sleep 1; done"],
                              environment: env, cols: 80, rows: 24)
    drain(host)
    _ = system("\(binary) -S \(socket) wait-ready >/dev/null 2>&1")
    let status = Process()
    status.executableURL = URL(fileURLWithPath: binary)
    status.arguments = ["-S", socket, "status", "--json"]
    let out = Pipe()
    status.standardOutput = out
    try status.run()
    status.waitUntilExit()
    let json = (try? JSONSerialization.jsonObject(with: out.fileHandleForReading.readDataToEndOfFile())) as? [String: Any]
    let strings = json?["connectionStrings"] as? [String: String] ?? [:]
    guard let join = strings["tcp session read only"], let token = join.split(separator: "/").last.map(String.init) else {
        throw BenchError(description: "no tcp connection string from the host: \(strings)")
    }
    func joins() -> Double { median((0..<15).compactMap { _ in timedJoin(port: port, token: token) }) * 1000 }

    let idleJoin = joins()
    let idle = memory(relay.pid)
    // The flood: each connection declares a frame of `declared` bytes and sends 90% of it, then waits.
    var sockets: [Int32] = []
    let partial = Framing.frame(Array(repeating: 0x41, count: declared)).prefix(4 + declared * 9 / 10)
    for _ in 0..<connections {
        guard let fd = tcpConnect(port: port, source: "127.0.0.2") else { continue }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        _ = Array(partial).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        sockets.append(fd)
    }
    // Finish sending what the kernel did not take at once.
    usleep(2_000_000)
    let during = memory(relay.pid)
    let floodJoin = joins()
    var refused = 0
    var scratch = [UInt8](repeating: 0, count: 4096)
    for fd in sockets where scratch.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) >= 0 { refused += 1 }
    let peak = memory(relay.pid).peak
    for fd in sockets { close(fd) }
    let closedAt = ContinuousClock.now
    var under100: Double?
    var after = memory(relay.pid).rss
    while ContinuousClock.now - closedAt < .seconds(10) {
        usleep(250_000)
        after = memory(relay.pid).rss
        if under100 == nil && after < 100 {
            let d = ContinuousClock.now - closedAt
            under100 = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }
    }
    say(String(format: "flood %@ (limits %@): %d connections from 127.0.0.2, each %d of a %d-byte frame; %d refused or closed by the relay",
               tag as NSString, limits as NSString, sockets.count, declared * 9 / 10, declared, refused))
    say(String(format: "  relay RSS: idle %.0f MB, during %.0f MB, peak %.0f MB, 10 s after the close %.0f MB (under 100 MB after %@)",
               idle.rss, during.rss, peak, after, under100.map { String(format: "%.2f s", $0) } ?? "more than 10 s"))
    say(String(format: "  viewer join (connect to first screen message), median of 15: idle %.2f ms, during the flood %.2f ms, ratio %.2f",
               idleJoin, floodJoin, floodJoin / idleJoin))
    host.signal(SIGTERM)
    _ = host.waitForExit()
    relay.signal(SIGTERM)
    _ = relay.waitForExit()
}
