// Pinning a relay's host key: what it presented, what to say when it is not pinned or not the pinned one, known_relays.
import Foundation
import Glibc
import SwiftMateCore

/// The host key a relay presented, and the messages a host shows about it.
public struct RelayHostKey: Sendable, Equatable {
    /// The relay's host and port, as the host was told to reach it.
    public var host: String
    /// The relay's port.
    public var port: Int
    /// The key type as OpenSSH names it (`ed25519`, `rsa`, `ecdsa-sha2-nistp256`).
    public var type: String
    /// `SHA256:…`, as OpenSSH prints it.
    public var fingerprint: String

    /// A key.
    public init(host: String, port: Int, type: String, fingerprint: String) {
        self.host = host
        self.port = port
        self.type = type
        self.fingerprint = fingerprint
    }

    /// `HOST:PORT` (`[HOST]:PORT` for an IPv6 address), as known_relays writes it.
    public var address: String { Self.address(host: host, port: port) }

    /// `HOST:PORT`, or `[HOST]:PORT` for an IPv6 address.
    public static func address(host: String, port: Int) -> String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The refusal for a relay nothing is pinned for: what it presented, and the flag and YAML that pin it.
    public var notPinned: String {
        """
        the relay \(address) is not pinned: this host has no fingerprint for it, so it cannot tell the relay from an \
        impostor. It presented \(type.uppercased()) key \(fingerprint). Check that with the relay's operator \
        (`swiftmate relay fingerprints` on the relay prints its keys), then pin it: add
          --relay-fingerprint \(fingerprint)
        to the command, or to the config file:
          host:
            relay_fingerprints: [\(fingerprint)]
        """
    }

    /// The refusal for a relay whose key is not one of those pinned for it, worded as OpenSSH's.
    public func changed(pinned: [String]) -> String {
        """
        
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        @    WARNING: RELAY HOST KEY IS NOT THE PINNED ONE!       @
        @@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
        IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
        Someone could be eavesdropping on you right now (man-in-the-middle attack)!
        It is also possible that the relay's host key has just been changed.
        The relay \(address) presented \(type.uppercased()) key \(fingerprint).
        Pinned for it: \(pinned.joined(separator: ", ")).
        If the relay's operator confirms the new key (`swiftmate relay fingerprints` on the relay), replace the pinned \
        fingerprint (--relay-fingerprint, host.relay_fingerprints, transports.ssh.fingerprints, or the relay's line in \
        \(KnownRelays.defaultPath)).
        Host key verification failed.
        """
    }
}

/// `~/.config/swiftmate/known_relays`: relays an interactive host trusted on first use (as OpenSSH's known_hosts),
/// one `HOST:PORT SHA256:… TYPE` line each.
public struct KnownRelays: Sendable {
    /// `$XDG_CONFIG_HOME/swiftmate/known_relays`, else `~/.config/swiftmate/known_relays`.
    public static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        if let config = env["XDG_CONFIG_HOME"], !config.isEmpty { return config + "/swiftmate/known_relays" }
        return (env["HOME"] ?? "/tmp") + "/.config/swiftmate/known_relays"
    }

    /// The file.
    public let path: String
    /// Each line's relay address and fingerprint.
    public private(set) var entries: [(address: String, fingerprint: String)] = []

    /// Reads `path` (a missing file is empty). A line that is not `HOST:PORT SHA256:… [TYPE]` is an error naming it.
    public init(path: String = KnownRelays.defaultPath) throws {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SwiftMateError(.badConfig, "cannot read \(path); fix its permissions or remove it")
        }
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 2, words.count <= 3, HostKeyFingerprint.isWellFormed(words[1]), words[0].contains(":") else {
                throw SwiftMateError(.badConfig, "\(path):\(index + 1): expected 'HOST:PORT SHA256:… TYPE'; fix or delete the line")
            }
            entries.append((words[0], words[1]))
        }
    }

    /// The fingerprints trusted for `host`:`port`.
    public func fingerprints(host: String, port: Int) -> [String] {
        let address = RelayHostKey.address(host: host, port: port)
        return entries.filter { $0.address == address }.map(\.fingerprint)
    }

    /// Appends `key` (making the directory, and the file 0600).
    public mutating func add(_ key: RelayHostKey) throws {
        let directory = FilePaths.parent(of: path)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw SwiftMateError(.system, "cannot write \(path): \(String(cString: strerror(errno))); pin the relay with --relay-fingerprint instead")
        }
        defer { close(fd) }
        let line = Array("\(key.address) \(key.fingerprint) \(key.type)\n".utf8)
        guard line.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == line.count else {
            throw SwiftMateError(.system, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        entries.append((key.address, key.fingerprint))
    }
}

extension SSHTransport {
    /// The host key the relay at `endpoint` presents (key exchange only), to show before trusting it.
    public func presentedKey(_ endpoint: Endpoint) async throws -> RelayHostKey {
        try await SSHClientSetup(endpoint: endpoint, options: options).presentedKey()
    }

    /// This transport with `fingerprints` pinned besides its own.
    public func pinning(_ fingerprints: [String]) -> SSHTransport {
        var options = self.options
        for f in fingerprints where !options.fingerprints.contains(f) { options.fingerprints.append(f) }
        return SSHTransport(options: options, logger: logger)
    }
}
