// The host's control socket (`-S PATH`): one request line in, a text answer out, then close.
import Foundation
import Glibc
import CPTY
import SwiftMateCore

/// Serves requests on a Unix socket from threads of its own (requests may wait, e.g. `wait-ready`).
public final class ControlServer: Sendable {
    private let fd: Int32
    /// The socket's path.
    public let path: String

    /// Binds `path` (replacing a stale socket) with mode 0600 and starts answering with `handler`.
    public init(path: String, handler: @escaping @Sendable (String) async -> String) throws {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SwiftMateError(.system, "socket(): \(String(cString: strerror(errno)))") }
        var address = try Self.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o600) == 0, listen(fd, 16) == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw SwiftMateError(.system, "cannot create the control socket \(path): \(message); choose another path with -S")
        }
        self.fd = fd
        self.path = path
        let thread = Thread {
            while true {
                let client = swiftmate_accept_cloexec(fd)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                let worker = Thread { Self.serve(client, handler: handler) }
                worker.start()
            }
        }
        thread.name = "swiftmate-control"
        thread.start()
    }

    static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SwiftMateError(.system, "socket path too long (\(bytes.count) bytes): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        return address
    }

    private static func serve(_ client: Int32, handler: @escaping @Sendable (String) async -> String) {
        defer { Glibc.close(client) }
        var request: [UInt8] = []
        var byte: UInt8 = 0
        var ended = false
        while request.count < 1024 {
            guard read(client, &byte, 1) == 1 else { ended = true; break }
            if byte == 0x0a { break }
            request.append(byte)
        }
        // A connection that closes without a request (someone checking whether a host listens here) gets nothing.
        if ended && request.isEmpty { return }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let text = String(decoding: request, as: UTF8.self)
        Task {
            box.set(await handler(text))
            done.signal()
        }
        done.wait()
        FileDescriptorIO.writeAll(client, Array(box.get().utf8))
    }

    /// Stops serving and removes the socket file.
    public func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
        unlink(path)
    }
}

private final class ResultBox: @unchecked Sendable {
    // @unchecked: written once before the semaphore is signalled, read after it.
    private var value = ""
    func set(_ v: String) { value = v }
    func get() -> String { value }
}

/// Sends one request to a host's control socket and returns the answer.
public enum ControlClient {
    /// Connects to `path`, sends `request`, reads the answer until the host closes.
    public static func send(_ request: String, to path: String) throws -> String {
        let (fd, failure) = try connected(to: path)
        guard fd >= 0 else {
            throw SwiftMateError(.system, "no host is listening on \(path): \(String(cString: strerror(failure))); start one with swiftmate -S \(path)")
        }
        defer { close(fd) }
        FileDescriptorIO.writeAll(fd, Array((request + "\n").utf8))
        var answer: [UInt8] = []
        while let chunk = FileDescriptorIO.read(fd) { answer += chunk }
        return String(decoding: answer, as: UTF8.self)
    }
}

extension ControlClient {
    /// Whether a host answers on `path`.
    enum Probe { case listening, stale, other }

    static func probe(_ path: String) -> Probe {
        guard let (fd, failure) = try? connected(to: path) else { return .other }
        if fd >= 0 {
            close(fd)
            return .listening
        }
        return failure == ECONNREFUSED ? .stale : .other
    }

    /// A socket connected to `path` (the caller closes it), or -1 and connect's errno.
    private static func connected(to path: String) throws -> (fd: Int32, failure: Int32) {
        var address = try ControlServer.address(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SwiftMateError(.system, "socket(): \(String(cString: strerror(errno)))") }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc != 0 else { return (fd, 0) }
        let failure = errno
        close(fd)
        return (-1, failure)
    }
}
