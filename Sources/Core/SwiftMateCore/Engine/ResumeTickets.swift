// Resume tickets: what lets a host get its session back, same tokens, after a lost link or a relay restart.
import Crypto
import Foundation
import Synchronization

/// What a ticket says: the session it brings back and whose it is.
public struct ResumeTicket: Sendable, Equatable {
    /// The session's id.
    public var sessionID: String
    /// Its read-write token.
    public var readWriteToken: String
    /// Its read-only token.
    public var readOnlyToken: String
    /// SHA-256 (hex) of the session's authorized keys (the hello's `authorized_keys`, empty for none): a resumed
    /// session admits the same keys.
    public var keysDigest: String
    /// SHA-256 (hex) of the host's resume secret (its hello's `resume_secret`): only the host that holds the secret
    /// can use the ticket, whoever else sees it.
    public var hostDigest: String
    /// Counts the links the session has had; each welcome gives the next.
    public var generation: UInt64
    /// When it was issued (seconds since 1970); it is good for `ResumeTickets.lifetime`.
    public var issued: UInt64

    /// A ticket's fields.
    public init(sessionID: String, readWriteToken: String, readOnlyToken: String, keysDigest: String, hostDigest: String,
                generation: UInt64, issued: UInt64) {
        self.sessionID = sessionID
        self.readWriteToken = readWriteToken
        self.readOnlyToken = readOnlyToken
        self.keysDigest = keysDigest
        self.hostDigest = hostDigest
        self.generation = generation
        self.issued = issued
    }
}

/// The relay's ticket book: signs tickets with a secret kept in its state directory (HMAC-SHA256), checks them,
/// and remembers which sessions ended (so a ticket cannot bring those back), across restarts.
///
/// Threading: any thread (a lock around the ended list; the file is appended to under it).
public final class ResumeTickets: Sendable {
    /// How long a ticket is good for: a host gets a new one with every welcome.
    public static let lifetime: UInt64 = 30 * 24 * 3600
    /// The hello options a host resumes with.
    public static let ticketOption = "resume_ticket", secretOption = "resume_secret"

    /// The secret (SymmetricKey is not Sendable in this swift-crypto: the bytes are kept, the key made per use).
    private let secret: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: secret) }
    private let endedFile: String?
    private let ended: Mutex<[String: UInt64]>

    /// A book with `secret` and no file (tests, an embedded relay: its sessions end with the process anyway).
    public init(secret: [UInt8] = Array(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })) {
        self.secret = secret
        endedFile = nil
        ended = Mutex([:])
    }

    /// The relay's book in `directory`: `resume.key` (32 random bytes, made on first use, 0600) and
    /// `ended-sessions` (one `ID SECONDS` line per session that ended while its tickets were good).
    public init(stateDirectory directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyPath = directory + "/resume.key"
        if let data = FileManager.default.contents(atPath: keyPath) {
            guard data.count == 32 else {
                throw SwiftMateError(.badConfig, "\(keyPath) is not a resume key (32 bytes); move it away and the relay makes a new one "
                                     + "(hosts then start new sessions instead of resuming)")
            }
            secret = Array(data)
        } else {
            let fresh = SymmetricKey(size: .bits256)
            let bytes = fresh.withUnsafeBytes { Data($0) }
            guard FileManager.default.createFile(atPath: keyPath + ".new", contents: bytes, attributes: [.posixPermissions: 0o600]),
                  rename(keyPath + ".new", keyPath) == 0 else {
                throw SwiftMateError(.system, "cannot write \(keyPath); give the relay a writable state directory (--state-dir)")
            }
            secret = Array(bytes)
        }
        endedFile = directory + "/ended-sessions"
        // Entries whose tickets have all expired are dropped when the list is read.
        let now = UInt64(Date().timeIntervalSince1970)
        var list: [String: UInt64] = [:]
        let text = (try? String(contentsOfFile: directory + "/ended-sessions", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let when = UInt64(parts[1]), when + Self.lifetime > now else { continue }
            list[String(parts[0])] = when
        }
        ended = Mutex(list)
        let kept = list.map { "\($0.key) \($0.value)\n" }.joined()
        try? kept.write(toFile: directory + "/ended-sessions", atomically: true, encoding: .utf8)
    }

    /// The ticket for `ticket`'s fields, signed: `v1.FIELDS.MAC` (base64url), opaque to the host.
    public func issue(_ ticket: ResumeTicket) -> String {
        let payload = [ticket.sessionID, ticket.readWriteToken, ticket.readOnlyToken, ticket.keysDigest, ticket.hostDigest,
                       String(ticket.generation), String(ticket.issued)].joined(separator: " ")
        let body = Self.base64url(Array(payload.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(("v1." + body).utf8), using: key)
        return "v1." + body + "." + Self.base64url(Array(mac))
    }

    /// Why `text` cannot resume a session for the host whose secret is `secret` (nil: it can), and what it says.
    public func check(_ text: String, secret: String?, keys: String?, now: UInt64 = UInt64(Date().timeIntervalSince1970))
        -> Result<ResumeTicket, SwiftMateError> {
        func no(_ why: String) -> Result<ResumeTicket, SwiftMateError> { .failure(SwiftMateError(.cannotResume, why)) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard text.utf8.count <= 2048, parts.count == 3, parts[0] == "v1", let mac = Self.unbase64url(parts[2]),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(("v1." + parts[1]).utf8), using: key),
              let payload = Self.unbase64url(parts[1]) else {
            return no("the resume ticket is not one this relay gave (another relay's, or altered)")
        }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 7, let generation = UInt64(fields[5]), let issued = UInt64(fields[6]) else {
            return no("the resume ticket is not one this relay gave (another relay's, or altered)")
        }
        let ticket = ResumeTicket(sessionID: fields[0], readWriteToken: fields[1], readOnlyToken: fields[2], keysDigest: fields[3],
                                  hostDigest: fields[4], generation: generation, issued: issued)
        guard issued + Self.lifetime > now else { return no("the resume ticket has expired") }
        guard let secret, Self.digest(secret) == ticket.hostDigest else {
            return no("the resume ticket was given to another host")
        }
        guard Self.digest(keys ?? "") == ticket.keysDigest else {
            return no("the session's authorized keys have changed since the ticket was given")
        }
        guard !hasEnded(ticket.sessionID) else { return no("the session has ended") }
        return .success(ticket)
    }

    /// Remembers that `sessionID` ended: its tickets no longer bring it back.
    public func ended(_ sessionID: String, now: UInt64 = UInt64(Date().timeIntervalSince1970)) {
        ended.withLock { list in
            list[sessionID] = now
            guard let endedFile, let handle = FileHandle(forWritingAtPath: endedFile) ?? Self.create(endedFile) else { return }
            handle.seekToEndOfFile()
            handle.write(Data("\(sessionID) \(now)\n".utf8))
            try? handle.close()
        }
    }

    /// Whether `sessionID` ended.
    public func hasEnded(_ sessionID: String) -> Bool { ended.withLock { $0[sessionID] != nil } }

    /// SHA-256 of `text`, hex.
    public static func digest(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private static func create(_ path: String) -> FileHandle? {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else { return nil }
        return FileHandle(forWritingAtPath: path)
    }

    private static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func unbase64url(_ text: Substring) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}
