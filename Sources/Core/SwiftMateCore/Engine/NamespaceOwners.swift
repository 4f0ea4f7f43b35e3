// Namespaces owned by hosts' SSH keys: the first key to name a session in a namespace owns it, across restarts.
import Foundation
import Synchronization

/// What happened when a key named a session in a namespace.
public enum NamespaceClaim: Equatable, Sendable {
    /// The key already owned the namespace.
    case owned
    /// The namespace was free and is now the key's (written to the state file).
    case claimed
    /// Another key owns it.
    case ownedByAnother
    /// The relay keeps no more namespaces (`NamespaceOwners.maxNamespaces`).
    case full
}

/// The relay's book of namespaces owned by SSH keys (`relay.access.owned_namespaces`): a host that proved its key
/// and names a session `NAMESPACE/NAME` owns `NAMESPACE` if no key did before; after that only that key names
/// sessions there. Kept in `namespaces` in the relay's state directory, one `NAMESPACE KEYTYPE BASE64` line each,
/// so ownership survives restarts. An operator frees a namespace by deleting its line while the relay is stopped.
///
/// Threading: any thread (a lock around the book; the file is appended to under it).
public final class NamespaceOwners: Sendable {
    /// The most namespaces a relay keeps (each claim costs a line in the state file; anyone can make a key).
    public static let maxNamespaces = 10_000

    private let file: String?
    private let owners: Mutex<[String: String]>

    /// A book with no file (tests): ownership lasts as long as the process.
    public init() {
        file = nil
        owners = Mutex([:])
    }

    /// The book in `directory` (its `namespaces` file, read now; made on the first claim, 0600). Throws when the
    /// file exists but has a line that is not `NAMESPACE KEYTYPE BASE64`, saying which.
    public init(stateDirectory directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = directory + "/namespaces"
        file = path
        var book: [String: String] = [:]
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            let parts = line.split(separator: " ")
            guard parts.count == 3, SessionNames.problem(with: String(parts[0])) == nil else {
                throw SwiftMateError(.badConfig, "\(path):\(number + 1): not a `NAMESPACE KEYTYPE BASE64` line; "
                                     + "correct it or delete it (that namespace is then free to claim)")
            }
            book[String(parts[0])] = parts[1] + " " + parts[2]
        }
        owners = Mutex(book)
    }

    /// Claims `namespace` for `key` (`KEYTYPE BASE64`, as `Connection.publicKey` gives it).
    public func claim(_ namespace: String, key: String) -> NamespaceClaim {
        let key = Self.keyPart(key)
        return owners.withLock { book in
            if let owner = book[namespace] { return HostAccess.sameInConstantTime(owner, key) ? .owned : .ownedByAnother }
            guard book.count < Self.maxNamespaces else { return .full }
            book[namespace] = key
            if let file, let handle = FileHandle(forWritingAtPath: file) ?? Self.create(file) {
                handle.seekToEndOfFile()
                handle.write(Data("\(namespace) \(key)\n".utf8))
                try? handle.close()
            }
            return .claimed
        }
    }

    /// The key that owns `namespace`, if any.
    public func owner(of namespace: String) -> String? { owners.withLock { $0[namespace] } }

    /// `KEYTYPE BASE64` of an OpenSSH public key line (its comment dropped).
    static func keyPart(_ key: String) -> String {
        key.split(separator: " ").prefix(2).joined(separator: " ")
    }

    private static func create(_ path: String) -> FileHandle? {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else { return nil }
        return FileHandle(forWritingAtPath: path)
    }
}
