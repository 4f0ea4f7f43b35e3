// The relay's SSH host keys: created on first start (ed25519 and RSA, mode 0600), kept, fingerprinted.
import CLibSSH
import Foundation
import Glibc
import SwiftMateCore

/// An SSH public-key fingerprint as OpenSSH prints it: `SHA256:` and unpadded base64.
public enum SSHFingerprint {
    /// The SHA256 fingerprint of `key` (public or private), or nil when libssh cannot hash it.
    static func of(_ key: ssh_key) -> String? {
        var hash: UnsafeMutablePointer<UInt8>?
        var length = 0
        guard ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &length) == 0, let hash else { return nil }
        defer {
            var h: UnsafeMutablePointer<UInt8>? = hash
            ssh_clean_pubkey_hash(&h)
        }
        let digest = Data(UnsafeBufferPointer(start: hash, count: length))
        return "SHA256:" + digest.base64EncodedString().replacingOccurrences(of: "=", with: "")
    }
}

/// The relay's host keys in a state directory: `ssh_host_ed25519_key` and `ssh_host_rsa_key`.
public struct SSHHostKeys: Sendable {
    /// One key file and its fingerprint.
    public struct Key: Sendable, Equatable {
        /// `ed25519` or `rsa`.
        public var type: String
        /// The private key file.
        public var path: String
        /// `SHA256:…`.
        public var fingerprint: String
    }

    /// The keys, ed25519 first.
    public let keys: [Key]

    /// Loads the keys from `directory`, creating the directory (0700) and any missing key (0600).
    public static func loadOrCreate(in directory: String) throws -> SSHHostKeys {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw SwiftMateError(.system, "cannot create the relay's state directory \(directory): \(error.localizedDescription); "
                                 + "give a writable one with --state-dir or relay.state_dir")
        }
        var keys: [Key] = []
        for (type, keyType, bits) in [("ed25519", SSH_KEYTYPE_ED25519, 0), ("rsa", SSH_KEYTYPE_RSA, 3072)] {
            let path = directory + "/ssh_host_\(type)_key"
            var key: ssh_key?
            if FileManager.default.fileExists(atPath: path) {
                guard ssh_pki_import_privkey_file(path, nil, nil, nil, &key) == SSH_OK, key != nil else {
                    throw SwiftMateError(.system, "cannot read the host key \(path); it is not an OpenSSH private key. "
                                         + "Move it away and the relay makes a new one (viewers will see a new fingerprint)")
                }
            } else {
                guard ssh_pki_generate(keyType, Int32(bits), &key) == SSH_OK, let generated = key else {
                    throw SwiftMateError(.system, "cannot generate an \(type) host key")
                }
                let temporary = path + ".new"
                unlink(temporary)
                guard ssh_pki_export_privkey_file(generated, nil, nil, nil, temporary) == SSH_OK,
                      chmod(temporary, 0o600) == 0, rename(temporary, path) == 0 else {
                    ssh_key_free(generated)
                    throw SwiftMateError(.system, "cannot write the host key \(path): \(String(cString: strerror(errno)))")
                }
            }
            guard let loaded = key else { continue }
            defer { ssh_key_free(loaded) }
            _ = chmod(path, 0o600)
            guard let fingerprint = SSHFingerprint.of(loaded) else {
                throw SwiftMateError(.system, "cannot fingerprint the host key \(path)")
            }
            keys.append(Key(type: type, path: path, fingerprint: fingerprint))
        }
        return SSHHostKeys(keys: keys)
    }

    /// Lines for the log and `swiftmate relay fingerprints`: `ed25519 SHA256:…`.
    public var lines: [String] { keys.map { "\($0.type) \($0.fingerprint)" } }
}
