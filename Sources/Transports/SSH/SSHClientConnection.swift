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
    private let endpoint: Endpoint
    private let options: SSHTransport.Options
    private let logger: Logger
    fileprivate let outbox: SSHOutbox
    /// What the relay sent, bounded in bytes: with no room the link's thread stops reading the socket.
    private let inbound: DirectInbound
    /// Left when the link's thread is done with libssh (the session freed).
    private let running = WaitGroup(count: 1)

    private init(endpoint: Endpoint, options: SSHTransport.Options, logger: Logger) throws {
        self.endpoint = endpoint
        self.options = options
        self.logger = logger
        let outbox = try SSHOutbox(name: "\(endpoint.host):\(endpoint.port)")
        self.outbox = outbox
        inbound = DirectInbound(limitBytes: options.inboundBytes) { outbox.wake() }
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

    /// A libssh session connected to the relay, key exchange done (the caller frees it).
    private func connected() throws -> ssh_session {
        guard let session = ssh_new() else { throw fail(nil, "libssh cannot make a session") }
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
        guard ssh_connect(session) == SSH_OK else {
            let detail = String(cString: ssh_get_error(UnsafeMutableRawPointer(session)))
            ssh_free(session)
            // libssh's "Connection refused" after its own prefix, in the words the tcp transport uses.
            let reason = detail.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            throw SwiftMateError(.connectionLost, "cannot reach relay \(endpoint.host):\(endpoint.port)\(reason.isEmpty ? "" : ": \(reason)")",
                                 detail: "libssh: \(detail)")
        }
        return session
    }

    private func establish() throws -> (ssh_session, ssh_channel) {
        let session = try connected()
        var ok = false
        defer { if !ok { ssh_disconnect(session); ssh_free(session) } }
        try checkHostKey(session)
        try authenticate(session)
        guard let channel = ssh_channel_new(session) else { throw fail(session, "cannot make a channel") }
        guard ssh_channel_open_session(channel) == SSH_OK, ssh_channel_request_subsystem(channel, "swiftmate") == SSH_OK else {
            ssh_channel_free(channel)
            throw fail(session, "the relay did not open the swiftmate subsystem (is it a swiftmate relay?)")
        }
        ok = true
        return (session, channel)
    }

    /// The host key the relay at `endpoint` presents (key exchange only; nothing is sent): what a host shows
    /// its user before trusting a relay for the first time.
    static func presentedKey(_ endpoint: Endpoint, options: SSHTransport.Options) async throws -> RelayHostKey {
        let link = try SSHClientConnection(endpoint: endpoint, options: options, logger: Logger(label: "swiftmate.ssh"))
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                // Answered once the session is freed (the caller may exit at once).
                let result = Result { () throws -> RelayHostKey in
                    let session = try link.connected()
                    defer { ssh_disconnect(session); ssh_free(session) }
                    return try link.presentedKey(session)
                }
                link.finish()
                continuation.resume(with: result)
            }
            thread.name = "swiftmate-ssh-probe"
            thread.start()
        }
    }

    private func presentedKey(_ session: ssh_session) throws -> RelayHostKey {
        var key: ssh_key?
        guard ssh_get_server_publickey(session, &key) == SSH_OK, let key else { throw fail(session, "no host key from the relay") }
        defer { ssh_key_free(key) }
        guard let fingerprint = SSHFingerprint.of(key) else { throw fail(session, "cannot fingerprint the relay's host key") }
        let type = ssh_key_type_to_char(ssh_key_type(key)).map { String(cString: $0) } ?? "unknown"
        return RelayHostKey(host: endpoint.host, port: endpoint.port, type: type.replacingOccurrences(of: "ssh-", with: ""),
                            fingerprint: fingerprint)
    }

    /// With `identity` configured, that key (a relay that lists its hosts checks it). Otherwise `none` first (an
    /// open relay); a relay that lists only host keys refuses it, and ssh-agent and the default key files follow.
    private func authenticate(_ session: ssh_session) throws {
        let result: Int32
        if let identity = options.identity {
            var key: ssh_key?
            guard ssh_pki_import_privkey_file(identity, nil, nil, nil, &key) == SSH_OK, let key else {
                throw SwiftMateError(.badConfig, "cannot load the private key \(identity) (transports.ssh.identity); is it an unencrypted OpenSSH key?")
            }
            defer { ssh_key_free(key) }
            result = ssh_userauth_publickey(session, nil, key)
        } else if ssh_userauth_none(session, nil) == SSH_AUTH_SUCCESS.rawValue {
            return
        } else {
            result = ssh_userauth_publickey_auto(session, nil, nil)
        }
        guard result == SSH_AUTH_SUCCESS.rawValue else {
            throw SwiftMateError(.refused, """
                the relay \(endpoint.host):\(endpoint.port) lets only listed hosts open sessions and accepted none of this host's \
                SSH keys (\(options.identity ?? "ssh-agent, ~/.ssh/id_ed25519, id_ecdsa, id_rsa")); ask its operator to add your public \
                key to relay.hosts.authorized_keys, or set transports.ssh.identity to the key they listed
                """)
        }
    }

    private func checkHostKey(_ session: ssh_session) throws {
        let key = try presentedKey(session)
        guard !options.fingerprints.contains(key.fingerprint) else { return }
        throw SwiftMateError(.refused, options.fingerprints.isEmpty ? key.notPinned : key.changed(pinned: options.fingerprints))
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
            let (chunks, closing) = outbox.take()
            for chunk in chunks where !SSHOutbox.write(chunk, to: channel) {
                inbound.finish(throwing: fail(session, "writing to the relay failed"))
                return
            }
            if closing {
                ssh_channel_send_eof(channel)
                ssh_channel_close(channel)
                return
            }
            // With no room for more (the host is behind), the socket is left unread until the reader wakes us.
            let room = inbound.room
            if room > 0 {
                let n = ssh_channel_read_nonblocking(channel, buffer, UInt32(min(room, 64 << 10)), 0)
                if n > 0 {
                    inbound.deliver([UInt8](UnsafeRawBufferPointer(start: buffer, count: Int(n))))
                    continue
                }
                if n < 0 || ssh_channel_is_eof(channel) != 0 || ssh_channel_is_closed(channel) != 0 {
                    if n == SSH_ERROR { inbound.finish(throwing: fail(session, "the connection failed")) } else { inbound.finish() }
                    return
                }
            }
            var fds = [pollfd(fd: outbox.wakeFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: ssh_get_fd(session), events: Int16(POLLIN), revents: 0)]
            if poll(&fds, room > 0 ? 2 : 1, 5000) < 0 && errno != EINTR { return }
            if fds[0].revents != 0 { outbox.clearWake() }
        }
    }

    private func finish() {
        inbound.finish()
        outbox.finish()
        running.leave()
    }

    /// Asks the thread to close the channel after what is queued and waits (at most `limit`) until it has freed
    /// the libssh session: a process that exits while that thread is still in libcrypto can crash in OpenSSL's
    /// exit handlers.
    fileprivate func close(within limit: Duration) async {
        outbox.requestClose()
        await running.wait(atMost: limit)
    }

}

/// The `ByteWriter` of a host's SSH link.
struct SSHClientWriter: ByteWriter {
    let link: SSHClientConnection
    func write(_ bytes: [UInt8]) async throws { try await link.outbox.send(bytes) }
    func close() async { await link.close(within: .seconds(3)) }
}
