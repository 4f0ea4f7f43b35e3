// A host's SSH link to its relay: libssh client on a thread of its own, host key pinned, `swiftmate` subsystem.
import CLibSSH
import Foundation
import Glibc
import Logging
import SwiftMateCore
import Synchronization

/// The client side of an SSH link. All libssh calls happen on the link's thread; other threads only
/// queue bytes (under a lock) and wake it through an eventfd.
final class SSHClientConnection: @unchecked Sendable {
    private struct Outbox {
        var chunks: [[UInt8]] = []
        var bytes = 0
        var closing = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let endpoint: Endpoint
    private let options: SSHTransport.Options
    private let logger: Logger
    private let wake: Int32
    private let outbox = Mutex(Outbox())
    private let outboxLimit = 256 << 10
    private let inboundFeed: AsyncThrowingStream<[UInt8], any Error>.Continuation
    private let inbound: AsyncThrowingStream<[UInt8], any Error>

    private init(endpoint: Endpoint, options: SSHTransport.Options, logger: Logger) throws {
        self.endpoint = endpoint
        self.options = options
        self.logger = logger
        wake = swiftmate_eventfd()
        guard wake >= 0 else { throw SwiftMateError(.system, "eventfd: \(String(cString: strerror(errno)))") }
        (inbound, inboundFeed) = AsyncThrowingStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
    }

    /// Connects, checks the relay's host key against `options.fingerprints`, authenticates and opens the
    /// `swiftmate` subsystem; the connection then runs on its own thread.
    static func open(_ endpoint: Endpoint, options: SSHTransport.Options, logger: Logger) async throws -> Connection {
        let link = try SSHClientConnection(endpoint: endpoint, options: options, logger: logger)
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    let (session, channel) = try link.establish()
                    continuation.resume(returning: Connection(inbound: link.inbound, outbound: SSHClientWriter(link: link),
                                                              peer: "\(endpoint.host):\(endpoint.port)"))
                    link.serve(session, channel)
                } catch {
                    link.finish()
                    continuation.resume(throwing: error)
                }
            }
            thread.name = "swiftmate-ssh-client"
            thread.start()
        }
    }

    // MARK: The link's thread

    private func fail(_ session: ssh_session?, _ what: String) -> SwiftMateError {
        let detail = session.map { String(cString: ssh_get_error(UnsafeMutableRawPointer($0))) } ?? ""
        return SwiftMateError(.connectionLost, "ssh \(endpoint.host):\(endpoint.port): \(what)\(detail.isEmpty ? "" : ": \(detail)")")
    }

    private func establish() throws -> (ssh_session, ssh_channel) {
        guard let session = ssh_new() else { throw fail(nil, "libssh cannot make a session") }
        var ok = false
        defer { if !ok { ssh_disconnect(session); ssh_free(session) } }
        var no: Int32 = 0
        var port = Int32(endpoint.port)
        var timeout = options.setupSeconds
        ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no) // never read ~/.ssh/config or /etc/ssh
        ssh_options_set(session, SSH_OPTIONS_HOST, endpoint.host)
        ssh_options_set(session, SSH_OPTIONS_PORT, &port)
        ssh_options_set(session, SSH_OPTIONS_USER, "swiftmate")
        ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout)
        var yes: Int32 = 1
        ssh_options_set(session, SSH_OPTIONS_NODELAY, &yes)
        ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null")
        ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null")
        guard ssh_connect(session) == SSH_OK else { throw fail(session, "cannot connect") }
        try checkHostKey(session)
        let auth = ssh_userauth_none(session, nil)
        guard auth == SSH_AUTH_SUCCESS.rawValue else { throw fail(session, "the relay refused authentication") }
        guard let channel = ssh_channel_new(session) else { throw fail(session, "cannot make a channel") }
        guard ssh_channel_open_session(channel) == SSH_OK, ssh_channel_request_subsystem(channel, "swiftmate") == SSH_OK else {
            ssh_channel_free(channel)
            throw fail(session, "the relay did not open the swiftmate subsystem (is it a swiftmate relay?)")
        }
        ok = true
        return (session, channel)
    }

    private func checkHostKey(_ session: ssh_session) throws {
        var key: ssh_key?
        guard ssh_get_server_publickey(session, &key) == SSH_OK, let key else { throw fail(session, "no host key from the relay") }
        defer { ssh_key_free(key) }
        guard let fingerprint = SSHFingerprint.of(key) else { throw fail(session, "cannot fingerprint the relay's host key") }
        guard options.fingerprints.contains(fingerprint) else {
            let expected = options.fingerprints.isEmpty ? "none configured" : options.fingerprints.joined(separator: ", ")
            throw SwiftMateError(.refused, """
                the relay \(endpoint.host):\(endpoint.port) presented host key \(fingerprint), which is not the one pinned \
                (expected: \(expected)). If the relay's keys really changed, put the new fingerprint (from \
                `swiftmate relay fingerprints` on the relay) in transports.ssh.fingerprints of your config; otherwise \
                someone may be intercepting the connection
                """)
        }
    }

    private func serve(_ session: ssh_session, _ channel: ssh_channel) {
        defer {
            ssh_channel_free(channel)
            ssh_disconnect(session)
            ssh_free(session)
            finish()
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let (chunks, closing) = outbox.withLock { o -> ([[UInt8]], Bool) in
                let c = o.chunks
                o.chunks = []
                o.bytes = 0
                o.waiters.forEach { $0.resume() }
                o.waiters = []
                return (c, o.closing)
            }
            for chunk in chunks where !write(chunk, channel) {
                inboundFeed.finish(throwing: fail(session, "writing to the relay failed"))
                return
            }
            if closing {
                ssh_channel_send_eof(channel)
                ssh_channel_close(channel)
                return
            }
            let n = ssh_channel_read_nonblocking(channel, buffer, UInt32(64 << 10), 0)
            if n > 0 {
                inboundFeed.yield([UInt8](UnsafeRawBufferPointer(start: buffer, count: Int(n))))
                continue
            }
            if n < 0 || ssh_channel_is_eof(channel) != 0 || ssh_channel_is_closed(channel) != 0 {
                if n == SSH_ERROR { inboundFeed.finish(throwing: fail(session, "the connection failed")) } else { inboundFeed.finish() }
                return
            }
            var fds = [pollfd(fd: ssh_get_fd(session), events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, 2, 5000) < 0 && errno != EINTR { return }
            if fds[1].revents != 0 {
                var value: UInt64 = 0
                _ = Glibc.read(wake, &value, 8)
            }
        }
    }

    private func write(_ bytes: [UInt8], _ channel: ssh_channel) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = ssh_channel_write(channel, raw.baseAddress! + offset, UInt32(raw.count - offset))
                if n <= 0 { return false }
                offset += Int(n)
            }
            return true
        }
    }

    private func finish() {
        inboundFeed.finish()
        let waiters = outbox.withLock { o -> [CheckedContinuation<Void, Never>] in
            if o.finished { return [] }
            o.finished = true
            let w = o.waiters
            o.waiters = []
            close(wake)
            return w
        }
        waiters.forEach { $0.resume() }
    }

    // MARK: Other threads

    fileprivate func send(_ bytes: [UInt8]) async throws {
        let (queued, full) = outbox.withLock { o -> (Bool, Bool) in
            if o.closing || o.finished { return (false, false) }
            o.chunks.append(bytes)
            o.bytes += bytes.count
            return (true, o.bytes > outboxLimit)
        }
        guard queued else { throw SwiftMateError(.connectionLost, "ssh \(endpoint.host):\(endpoint.port): the connection is closed") }
        signal()
        guard full else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = outbox.withLock { o -> Bool in
                if o.finished || o.bytes <= outboxLimit { return true }
                o.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    fileprivate func requestClose() {
        outbox.withLock { $0.closing = true }
        signal()
    }

    private func signal() {
        outbox.withLock { o in
            guard !o.finished else { return }
            var one: UInt64 = 1
            _ = Glibc.write(wake, &one, 8)
        }
    }
}

/// The `ByteWriter` of a host's SSH link.
struct SSHClientWriter: ByteWriter {
    let link: SSHClientConnection
    func write(_ bytes: [UInt8]) async throws { try await link.send(bytes) }
    func close() async { link.requestClose() }
}
