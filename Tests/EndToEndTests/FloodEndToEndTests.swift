// The real relay over tcp under a flood of unfinished handshakes: past its limits they are refused, a viewer still joins.
import Foundation
import Glibc
import Testing

/// A TCP connection to 127.0.0.1:`port` from the loopback address `source`, or nil.
private func connectFrom(_ source: String, port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    func address(_ host: String, _ port: Int) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = in_port_t(UInt16(port).bigEndian)
        a.sin_addr.s_addr = inet_addr(host)
        return a
    }
    var local = address(source, 0), remote = address("127.0.0.1", port)
    let size = socklen_t(MemoryLayout<sockaddr_in>.size)
    guard withUnsafePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } }) == 0,
          withUnsafePointer(to: &remote, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) } }) == 0 else {
        close(fd)
        return nil
    }
    return fd
}

extension EndToEnd {
    @Suite struct HandshakeFlood {
        @Test func unfinishedHandshakesPastTheLimitsAreRefusedAndAViewerStillJoins() throws {
            let dir = try scratchDirectory()
            let config = dir + "/relay.yaml"
            try "relay:\n  limits: {handshakes_per_address: 8, handshake_bytes: 1048576}\n".write(toFile: config, atomically: true, encoding: .utf8)
            let (relay, url) = try startRelay(dir: dir, arguments: ["-f", config])
            defer { relay.stop() }
            let port = Int(url.split(separator: ":").last ?? "") ?? 0
            let socket = dir + "/host.sock"
            let host = try Background([swiftmateBinary, "-S", socket, "--relay", url, "new-session", "sh", "-c", "echo flood-$((6*7)); sleep 600"],
                                      log: dir + "/host.log")
            defer { host.stop() }
            let strings = try connectionStrings(socket: socket)

            // 40 connections from 127.0.0.2, each sending 150,000 bytes of a 200,000-byte hello and then waiting.
            var frame: [UInt8] = [0, 0x03, 0x0d, 0x40] // 200,000
            frame += [UInt8](repeating: 0x41, count: 150_000)
            var flood: [Int32] = []
            for _ in 0..<40 {
                guard let fd = connectFrom("127.0.0.2", port: port) else { continue }
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                _ = frame.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                flood.append(fd)
            }
            defer { flood.forEach { close($0) } }
            #expect(flood.count == 40)
            // Past 8 per address, and past 1 MiB held in all, the relay answers `refused` (and closes).
            var refused = 0
            let deadline = Date().addingTimeInterval(20)
            var answered = Set<Int32>()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline && answered.count < 33 {
                for fd in flood where !answered.contains(fd) {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n >= 0 {
                        answered.insert(fd)
                        if String(decoding: buffer[0..<max(0, n)], as: UTF8.self).contains("handshake") { refused += 1 }
                    }
                }
                usleep(50_000)
            }
            #expect(refused >= 32, "refused \(refused) of 40; relay log: \(relay.log.suffix(2000))")
            #expect(relay.log.contains("its address has 8 connections in their handshake"), "\(relay.log.suffix(2000))")

            // A viewer from 127.0.0.1 joins meanwhile and sees the session.
            let viewer = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session read only"]))")
            defer { viewer.kill() }
            #expect(viewer.waitFor("flood-42"), "\(viewer.screen())")
        }
    }
}
