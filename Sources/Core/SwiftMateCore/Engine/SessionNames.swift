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

    /// The naming `hello` asks for under `keys` (nil: an ordinary session with random tokens); throws `refused`
    /// with what is wrong and what to do.
    static func requested(by hello: Hello, keys: [String: String]) throws -> SessionNaming? {
        let name = hello.options[SessionNames.nameOption], readOnlyName = hello.options[SessionNames.readOnlyNameOption]
        guard name != nil || readOnlyName != nil else { return nil }
        func refuse(_ text: String) -> SwiftMateError { SwiftMateError(.refused, text) }
        guard let name else { throw refuse("a read-only name (-r) needs a session name (-n NAME) too") }
        if let problem = SessionNames.problem(with: name) { throw refuse(problem) }
        if let readOnlyName, let problem = SessionNames.problem(with: readOnlyName, what: "the read-only name") { throw refuse(problem) }
        guard readOnlyName != name else { throw refuse("the read-only name must differ from the session name (-r RONAME, -n NAME)") }
        guard !keys.isEmpty else {
            throw refuse("this relay has no named sessions (its relay.access.api_keys lists no API keys); share without -n, or ask its operator for a key")
        }
        guard let namespace = SessionNames.namespace(forAPIKey: hello.options["api_key"], in: keys) else {
            throw refuse("named sessions need an API key this relay knows (swiftmate -k KEY, or host.api_key); "
                         + (hello.options["api_key"] == nil ? "none was given" : "the one given is not listed in its relay.access.api_keys"))
        }
        return SessionNaming(readWrite: namespace + "/" + name, readOnly: readOnlyName.map { namespace + "/" + $0 })
    }
}
