// Which sessions admit only listed public keys (authorized_keys), readable from transport threads.
import Synchronization

/// The relay's answer to `AccessPolicy`: tokens of sessions that admit only listed keys, and those keys.
/// A plain lock, not the relay actor, because SSH logins ask from libssh threads and must not wait.
public final class RelayAccess: AccessPolicy {
    private let keysByToken = Mutex<[String: Set<String>]>([:])

    /// No restricted sessions yet.
    public init() {}

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
