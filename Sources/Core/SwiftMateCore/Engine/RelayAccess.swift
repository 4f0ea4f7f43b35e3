// Which sessions admit only listed public keys (authorized_keys), readable from transport threads.
import Synchronization

/// Who may open sessions on a relay (`relay.hosts`): hosts that prove one of `keys` over ssh, or send one of
/// `apiKeys` in their hello (any transport). A relay without it lets anyone who can reach it host.
public struct HostAccess: Sendable {
    /// `TYPE BASE64` of each listed host key.
    public var keys: Set<String>
    /// Listed API keys.
    public var apiKeys: [String]

    /// A policy.
    public init(keys: Set<String> = [], apiKeys: [String] = []) {
        self.keys = keys
        self.apiKeys = apiKeys
    }

    /// Whether a host that proved `publicKey` (or none) and sent `apiKey` (or none) may open a session.
    public func admits(publicKey: String?, apiKey: String?) -> Bool {
        if let publicKey, keys.contains(publicKey) { return true }
        guard let apiKey else { return false }
        // Every listed key is compared in full, so the time taken says nothing about how close a guess was.
        var matched = false
        for listed in apiKeys where Self.sameInConstantTime(listed, apiKey) { matched = true }
        return matched
    }

    static func sameInConstantTime(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = x.count ^ y.count
        for i in 0..<max(x.count, y.count) { diff |= Int((i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)) }
        return diff == 0
    }
}

/// The relay's answer to `AccessPolicy`: tokens of sessions that admit only listed keys, and those keys; and
/// the host login (user `swiftmate`) when only listed host keys may open sessions.
/// A plain lock, not the relay actor, because SSH logins ask from libssh threads and must not wait.
public final class RelayAccess: AccessPolicy {
    private let keysByToken = Mutex<[String: Set<String>]>([:])
    /// The user name hosts log in with over ssh.
    public static let hostLogin = "swiftmate"

    /// No restricted sessions yet; hosts as `hosts` says (nil: anyone may host).
    public init(hosts: HostAccess? = nil) {
        if let hosts, !hosts.keys.isEmpty, hosts.apiKeys.isEmpty {
            // Only keys can admit a host, so its ssh login must offer one (an API key could come with `none`).
            keysByToken.withLock { $0[Self.hostLogin] = hosts.keys }
        }
    }

    /// Restricts `tokens` to `keys` (`TYPE BASE64` each).
    func restrict(_ tokens: [String], to keys: Set<String>) {
        keysByToken.withLock { map in for t in tokens { map[t] = keys } }
    }

    /// Forgets `tokens` (their session ended).
    func forget(_ tokens: [String]) {
        keysByToken.withLock { map in for t in tokens { map[t] = nil } }
    }

    /// Whether `token` belongs to a session limited to listed keys.
    public func requiresPublicKey(token: String) -> Bool {
        keysByToken.withLock { $0[token] != nil }
    }

    /// Whether `key` is listed for `token`'s session (any key when the session is not limited).
    public func admits(token: String, key: String) -> Bool {
        keysByToken.withLock { $0[token].map { $0.contains(key) } ?? true }
    }

    /// Parses the `authorized_keys` hello option: `TYPE BASE64` lines (at most 1000, each at most 16 KiB).
    static func parseKeys(_ text: String) throws -> Set<String> {
        var keys = Set<String>()
        for line in text.split(separator: "\n") where !line.isEmpty {
            let parts = line.split(separator: " ")
            guard parts.count == 2, line.utf8.count <= 16 << 10, AuthorizedKeys.types.contains(String(parts[0])),
                  parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+/=".contains($0)) }) else {
                throw SwiftMateError(.protocolViolation, "a bad authorized key in the host's hello: \(line.prefix(40))")
            }
            keys.insert(String(line))
            if keys.count > 1000 { throw SwiftMateError(.protocolViolation, "more than 1000 authorized keys") }
        }
        guard !keys.isEmpty else { throw SwiftMateError(.protocolViolation, "an empty authorized_keys option") }
        return keys
    }
}

/// OpenSSH authorized_keys files, as a host reads them for `-a FILE`.
public enum AuthorizedKeys {
    /// Key types a line may have.
    public static let types: Set<String> = [
        "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
    ]

    /// The `TYPE BASE64` of every key in `text` (options before the type and comments after the key are
    /// dropped; blank lines and `#` comments skipped). `source` names the file in errors.
    public static func parse(_ text: String, source: String) throws -> [String] {
        var keys: [String] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let index = words.firstIndex(where: { types.contains(String($0)) }), index + 1 < words.count else {
                throw SwiftMateError(.badConfig, "\(source):\(number + 1): no public key on this line; "
                                     + "an authorized_keys line looks like 'ssh-ed25519 AAAAC3Nz… comment'")
            }
            keys.append("\(words[index]) \(words[index + 1])")
        }
        guard !keys.isEmpty else {
            throw SwiftMateError(.badConfig, "\(source): no public keys in it; add lines like 'ssh-ed25519 AAAAC3Nz… comment'")
        }
        return keys
    }
}
