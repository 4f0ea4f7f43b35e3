// `resume`: how soon a host and a `swiftmate join` viewer are back after their relay is SIGKILLed and started again
// on its state directory, and how much output the host sent again against how much was lost.
import Foundation
import Glibc
import SwiftMateSystem

/// A free loopback port (the relay must come back on the same one).
private func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

private func count(_ text: String, in file: String) -> Int {
    ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").components(separatedBy: text).count - 1
}

/// The sum of the numbers that follow `prefix` in `file` (`sent again N bytes`).
private func sum(after prefix: String, in file: String) -> Int {
    ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").components(separatedBy: prefix).dropFirst()
        .compactMap { Int($0.prefix { $0.isNumber }) }.reduce(0, +)
}

/// `restarts` times: SIGKILL the relay while its host prints 2,000 lines every 50 ms, start it again, and time from
/// its "listening" to the host's "resumed" and to the viewer's "back in the session".
func resumeSuite(restarts: Int) throws {
    let port = freeLoopbackPort()
    var started = 0
    func startRelay() throws -> (PTYProcess, Date) {
        started += 1
        let log = dir + "/relay-resume-\(started).log"
        let relay = try PTYProcess(command: ["sh", "-c", "exec \(binary) relay --listen tcp://127.0.0.1:\(port) --state-dir \(dir)/resume-state > \(log) 2>&1"],
                                   environment: env, cols: 80, rows: 24)
        let deadline = Date().addingTimeInterval(20)
        while count("listening on", in: log) == 0 {
            guard Date() < deadline else { throw BenchError(description: "the relay did not start: \(log)") }
            usleep(2_000)
        }
        return (relay, Date())
    }
    var (relay, _) = try startRelay()
    let hostLog = dir + "/host-resume.log", joinLog = dir + "/join-resume.log"
    let host = try PTYProcess(command: ["sh", "-c", "exec \(binary) -F -S \(dir)/resume.sock --relay tcp://127.0.0.1:\(port) --log-level debug new-session sh -c 'while :; do seq 1 2000; sleep 0.05; done' > \(hostLog) 2>&1"],
                              environment: env, cols: 80, rows: 24)
    defer { kill(host.pid, SIGTERM); kill(relay.pid, SIGKILL) }
    var url = ""
    while url.isEmpty {
        usleep(20_000)
        let log = (try? String(contentsOfFile: hostLog, encoding: .utf8)) ?? ""
        url = log.components(separatedBy: "tcp session read only: swiftmate join ").dropFirst().first.map { String($0.prefix { !$0.isWhitespace }) } ?? ""
    }
    let viewer = try PTYProcess(command: ["sh", "-c", "sleep 100000 | \(binary) join \(url) > /dev/null 2> \(joinLog)"], environment: env, cols: 80, rows: 24)
    defer { kill(viewer.pid, SIGTERM) }
    var hostBack: [Double] = [], viewerBack: [Double] = []
    for _ in 0..<restarts {
        sleep(2)
        let (resumed, rejoined) = (count("resumed tcp://", in: hostLog), count("back in the session", in: joinLog))
        kill(relay.pid, SIGKILL)
        _ = relay.waitForExit()
        let listening: Date
        (relay, listening) = try startRelay()
        let deadline = Date().addingTimeInterval(30)
        var (host, view): (Double?, Double?) = (nil, nil)
        while (host == nil || view == nil) && Date() < deadline {
            if host == nil, count("resumed tcp://", in: hostLog) > resumed { host = Date().timeIntervalSince(listening) }
            if view == nil, count("back in the session", in: joinLog) > rejoined { view = Date().timeIntervalSince(listening) }
            usleep(2_000)
        }
        guard let host, let view else { throw BenchError(description: "not back within 30 s: \(hostLog), \(joinLog)") }
        hostBack.append(host)
        viewerBack.append(view)
    }
    say(String(format: "relay SIGKILLed and restarted %d times, the host printing 2,000 lines every 50 ms: host back %.3f s (median; max %.3f) and viewer back %.3f s (median; max %.3f) after the relay listened again",
               restarts, median(hostBack), hostBack.max() ?? 0, median(viewerBack), viewerBack.max() ?? 0))
    // "swiftmate: N bytes of output were skipped": the number before each.
    let lost = ((try? String(contentsOfFile: hostLog, encoding: .utf8)) ?? "").components(separatedBy: " bytes of output were skipped").dropLast()
        .compactMap { Int(String($0.reversed().prefix { $0.isNumber }.reversed())) }.reduce(0, +)
    say("  bytes sent again on resume (the host's unacknowledged output): \(sum(after: "sent again ", in: hostLog)); bytes lost (told to viewers as skipped): \(lost)")
}
