// SSH host-key fingerprints as people copy them: `SHA256:` and 43 characters of unpadded base64.
import Crypto
import Foundation

/// The text form of an SSH host-key fingerprint (OpenSSH's `SHA256:…`), checked where it is given: a host's
/// `--relay-fingerprint`, `host.relay_fingerprints`, `transports.ssh.fingerprints`, known_relays.
public enum HostKeyFingerprint {
    /// Whether `text` is `SHA256:` and 43 base64 characters.
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix("SHA256:") else { return false }
        let body = text.dropFirst(7)
        return body.count == 43 && body.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "+" || $0 == "/" }
    }

    /// The fingerprint of a public key given as `TYPE BASE64 [comment]` (an authorized_keys line, or
    /// `Connection.publicKey`), as `ssh-keygen -lf` prints it; nil when the key's base64 does not decode.
    public static func of(publicKey text: String) -> String? {
        let words = text.split(separator: " ")
        guard words.count >= 2, let blob = Data(base64Encoded: String(words[1])) else { return nil }
        let digest = Data(SHA256.hash(data: blob)).base64EncodedString()
        return "SHA256:" + digest.replacingOccurrences(of: "=", with: "")
    }

    /// The fingerprint in `text`: `SHA256:…` alone, or beside its key type (`ed25519 SHA256:…`, as relays log
    /// them). Nil when it is none of those.
    public static func parse(_ text: String) -> String? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let candidates = words.filter { $0.hasPrefix("SHA256:") }
        guard words.count <= 2, candidates.count == 1, isWellFormed(candidates[0]) else { return nil }
        return candidates[0]
    }
}

extension ConfigNode {
    /// A list of fingerprints (`host.relay_fingerprints`, `transports.ssh.fingerprints`), each as `parse` takes it.
    public func fingerprints() throws -> [String] {
        try list().map { item in
            let text = try item.string()
            guard let fingerprint = HostKeyFingerprint.parse(text) else {
                throw item.error("'\(text)' is not a host-key fingerprint; copy one from `swiftmate relay fingerprints` on the relay (SHA256:…)")
            }
            return fingerprint
        }
    }
}
