// How connection strings look for each transport (what a person copies to join).

/// Builds and reads the strings people use to join.
public enum JoinStrings {
    /// The join command for a token on a relay endpoint: `ssh -p PORT TOKEN@HOST` for ssh (no `-p` for
    /// port 22), `swiftmate join SCHEME://HOST:PORT/TOKEN` otherwise.
    public static func command(scheme: String, host: String, port: Int, token: String) -> String {
        let h = host.contains(":") ? "[\(host)]" : host
        if scheme == "ssh" {
            return port == 22 ? "ssh \(token)@\(host)" : "ssh -p \(port) \(token)@\(host)"
        }
        return "swiftmate join \(scheme)://\(h):\(port)/\(token)"
    }

    /// Splits a `label=value` entry of `Welcome.connectionStrings`.
    public static func split(_ entry: String) -> (label: String, value: String) {
        guard let eq = entry.firstIndex(of: "=") else { return ("session", entry) }
        return (String(entry[..<eq]), String(entry[entry.index(after: eq)...]))
    }
}
