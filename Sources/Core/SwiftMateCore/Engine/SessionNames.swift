// Named sessions (tmate's -n/-r/-k): the rule for names, and the API keys that give a host its namespace.

/// The rules of named sessions. A named session's tokens are `NAMESPACE/NAME` (read-write) and `NAMESPACE/RONAME`
/// (read-only, or a random token when no read-only name is given): stable across restarts of host and relay, so
/// the connection strings handed around keep working. The namespace comes from the API key the host sends, as
/// the relay's `relay.access.api_keys` maps it; a host with a key of that namespace owns every name in it, and a
/// new session under a name that is live replaces the old one (its host is the same owner, reconnecting).
public enum SessionNames {
    /// The hello option naming the session (the read-write name).
    public static let nameOption = "session_name"
    /// The hello option naming the read-only token.
    public static let readOnlyNameOption = "session_name_ro"
    /// The longest name or namespace (tmate's limit).
    public static let maxLength = 50

    /// Why `name` cannot name a session or a namespace, or nil when it can: letters and digits, single hyphens
    /// between them, at most 50 characters (as tmate).
    public static func problem(with name: String, what: String = "a session name") -> String? {
        let bytes = Array(name.utf8)
        let isAlphanumeric = { (b: UInt8) in (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) }
        guard !bytes.isEmpty else { return "\(what) is empty" }
        guard bytes.count <= maxLength else { return "\(what) is longer than \(maxLength) characters" }
        for (i, b) in bytes.enumerated() {
            if isAlphanumeric(b) { continue }
            guard b == 0x2d, i > 0, i < bytes.count - 1, bytes[i - 1] != 0x2d else {
                return "\(what) '\(ConfigNode.oneLine(String(name.prefix(maxLength))))' may hold only letters, digits and single hyphens between them"
            }
        }
        return nil
    }

    /// `NAMESPACE/NAME` or `NAME` split into its namespace (if given) and name, each checked; throws `refused` saying
    /// what is wrong.
    public static func split(_ text: String, what: String = "a session name") throws(SwiftMateError) -> (namespace: String?, name: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2 else { throw SwiftMateError(.refused, "\(what) has more than one '/' (NAMESPACE/NAME, or NAME)") }
        if let problem = problem(with: parts[parts.count - 1], what: what) { throw SwiftMateError(.refused, problem) }
        guard parts.count == 2 else { return (nil, parts[0]) }
        if let problem = problem(with: parts[0], what: "the namespace") { throw SwiftMateError(.refused, problem) }
        return (parts[0], parts[1])
    }

    /// Why `text` (`NAME` or `NAMESPACE/NAME`) cannot name a session, or nil when it can.
    public static func problem(withQualified text: String, what: String = "a session name") -> String? {
        do { _ = try split(text, what: what); return nil } catch { return error.message }
    }

    /// The namespace `apiKey` gives in `keys` (API key → namespace), compared in constant time; nil if none.
    public static func namespace(forAPIKey apiKey: String?, in keys: [String: String]) -> String? {
        guard let apiKey else { return nil }
        var found: String?
        for (listed, namespace) in keys where HostAccess.sameInConstantTime(listed, apiKey) { found = namespace }
        return found
    }
}

/// What a host asked for in its hello: a named session's tokens, or an answer that refuses it.
struct SessionNaming: Equatable {
    /// The read-write token, `NAMESPACE/NAME`.
    var readWrite: String
    /// The read-only token, `NAMESPACE/RONAME`, or nil for a random one.
    var readOnly: String?
    /// The SSH key that must own the namespace (`relay.access.owned_namespaces`); nil when an API key gave it.
    var ownerKey: String?

    /// The namespace (what comes before the `/`).
    var namespace: String { String(readWrite.prefix { $0 != "/" }) }

    /// The naming `hello` asks for (nil: an ordinary session with random tokens), the namespace coming from its API
    /// key in `keys`, or (`NAMESPACE/NAME`, when `keysOwnNamespaces`) from the SSH key the host proved
    /// (`publicKey`); throws `refused` with what is wrong and what to do.
    static func requested(by hello: Hello, keys: [String: String], keysOwnNamespaces: Bool = false,
                          publicKey: String? = nil) throws -> SessionNaming? {
        let given = hello.options[SessionNames.nameOption], readOnlyGiven = hello.options[SessionNames.readOnlyNameOption]
        guard given != nil || readOnlyGiven != nil else { return nil }
        func refuse(_ text: String) -> SwiftMateError { SwiftMateError(.refused, text) }
        guard let given else { throw refuse("a read-only name (-r) needs a session name (-n NAME) too") }
        let (asked, name) = try SessionNames.split(given)
        var readOnlyName = readOnlyGiven
        if let r = readOnlyGiven, r.contains("/") {
            let (space, bare) = try SessionNames.split(r, what: "the read-only name")
            guard space == asked else { throw refuse("the read-only name must be in the session's namespace (-r RONAME, -n NAMESPACE/NAME)") }
            readOnlyName = bare
        }
        if let readOnlyName, let problem = SessionNames.problem(with: readOnlyName, what: "the read-only name") { throw refuse(problem) }
        guard readOnlyName != name else { throw refuse("the read-only name must differ from the session name (-r RONAME, -n NAME)") }
        guard !keys.isEmpty || keysOwnNamespaces else {
            throw refuse("this relay has no named sessions (its relay.access lists no API keys and gives no namespaces to SSH keys); "
                         + "share without -n, or ask its operator for a key")
        }
        let fromAPIKey = SessionNames.namespace(forAPIKey: hello.options["api_key"], in: keys)
        let namespace: String
        var ownerKey: String?
        if let fromAPIKey, asked == nil || asked == fromAPIKey {
            namespace = fromAPIKey
        } else if let asked, keysOwnNamespaces, !keys.values.contains(asked) {
            guard let publicKey else {
                throw refuse("the namespace '\(asked)' belongs to an SSH key, and this host proved none; make one "
                             + "(ssh-keygen -t ed25519) or set transports.ssh.identity, and share over ssh")
            }
            namespace = asked
            ownerKey = publicKey
        } else if let asked {
            throw refuse("the namespace '\(asked)' needs its API key (swiftmate -k KEY, or host.api_key); "
                         + (hello.options["api_key"] == nil ? "none was given" : "the one given is for another namespace"))
        } else if keys.isEmpty {
            throw refuse("on this relay a named session gives its namespace, which the host's SSH key owns: -n NAMESPACE/\(name)")
        } else {
            throw refuse("named sessions need an API key this relay knows (swiftmate -k KEY, or host.api_key); "
                         + (hello.options["api_key"] == nil ? "none was given" : "the one given is not listed in its relay.access.api_keys")
                         + (keysOwnNamespaces ? ", or a namespace of the host's SSH key: -n NAMESPACE/\(name)" : ""))
        }
        return SessionNaming(readWrite: namespace + "/" + name, readOnly: readOnlyName.map { namespace + "/" + $0 }, ownerKey: ownerKey)
    }
}
