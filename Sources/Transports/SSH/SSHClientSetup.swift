// A host's SSH link being set up: connect, host key pinned, auth, the `swiftmate` subsystem (blocking, on a thread).
import CLibSSH
import Foundation
import Glibc
import SwiftMateCore

/// A libssh session and its channel, handed from the thread that set them up to the loop that serves them (one
/// thread uses them at a time).
struct SSHClientHandles: @unchecked Sendable {
    let session: ssh_session
    let channel: ssh_channel
}

/// The steps before a host's link carries bytes. libssh's connect, key exchange and auth block, so they run on a
/// short-lived thread of their own (never on a loop or the cooperative pool); the link then runs on a loop.
struct SSHClientSetup: Sendable {
    let endpoint: Endpoint
    let options: SSHTransport.Options
    /// Whether to prove a key even when the relay would take `none` (`ConnectContext.proveKey`).
    var proveKey = false

    /// Runs `body` on a new thread named `name` and returns what it returns. `body` frees what it made before it
    /// returns, so a caller that exits next leaves no thread in libcrypto (OpenSSL's exit handlers would crash it).
    static func onThread<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.name = name
            thread.start()
        }
    }

    func fail(_ session: ssh_session?, _ what: String) -> SwiftMateError {
        let detail = session.map { String(cString: ssh_get_error(UnsafeMutableRawPointer($0))) } ?? ""
        return SwiftMateError(.connectionLost, "ssh \(endpoint.host):\(endpoint.port): \(what)\(detail.isEmpty ? "" : ": \(detail)")")
    }

    /// A libssh session connected to the relay, key exchange done (the caller frees it).
    func connected() throws -> ssh_session {
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

    /// Connected, the relay's key checked, logged in, the `swiftmate` subsystem open (the caller frees both).
    func establish() throws -> SSHClientHandles {
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
        return SSHClientHandles(session: session, channel: channel)
    }

    /// The host key the relay presents (key exchange only; nothing is sent): what a host shows its user before
    /// trusting a relay for the first time.
    func presentedKey() async throws -> RelayHostKey {
        try await Self.onThread("swiftmate-ssh-probe") {
            let session = try connected()
            defer { ssh_disconnect(session); ssh_free(session) }
            return try presentedKey(session)
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
    /// A link that must prove a key (`proveKey`: a namespace owned by it) tries those first, then `none`.
    private func authenticate(_ session: ssh_session) throws {
        let result: Int32
        if options.identity == nil, proveKey {
            guard ssh_userauth_publickey_auto(session, nil, nil) != SSH_AUTH_SUCCESS.rawValue else { return }
            result = ssh_userauth_none(session, nil)
        } else if let identity = options.identity {
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
}
