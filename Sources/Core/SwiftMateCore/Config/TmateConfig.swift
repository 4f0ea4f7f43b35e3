// tmate's configuration (`~/.tmate.conf`, tmux's syntax) read for those moving over: the `set` options with a SwiftMate meaning.
import Foundation

/// The options of a tmate configuration file that SwiftMate understands, read with tmux's syntax (comments, quotes,
/// `\` continuations, `;` between commands). Everything else in the file (tmux's own options, key bindings) is
/// listed in `ignored` so the host can say what it left out.
///
/// | tmate option | SwiftMate |
/// |---|---|
/// | `tmate-server-host`, `tmate-server-port` (22) | `host.relay: ssh://HOST:PORT` |
/// | `tmate-server-{rsa,ed25519,ecdsa}-fingerprint` | `host.relay_fingerprints` |
/// | `tmate-api-key` | `host.api_key` |
/// | `tmate-authorized-keys` | `session.authorized_keys` |
/// | `tmate-foreground-restart` (1) | `host.foreground_restart` |
/// | `tmate-session-name`, `tmate-session-name-ro` | `session.name`, `session.read_only_name` |
public struct TmateConfig: Sendable {
    /// One option taken from the file, with the line it was on.
    public struct Setting: Sendable, Equatable {
        /// The tmate option's name (`tmate-server-host`).
        public var option: String
        /// Its value as tmux would read it (quotes removed).
        public var value: String
        /// Its line in the file (1-based).
        public var line: Int

        /// A setting.
        public init(option: String, value: String, line: Int) {
            self.option = option
            self.value = value
            self.line = line
        }
    }

    /// The file it came from (as given, for messages).
    public var file: String
    /// The options SwiftMate uses, in file order (a later `set` of the same option wins, as in tmux).
    public var settings: [Setting] = []
    /// What the file holds that SwiftMate does not use: `LINE: what, and why`.
    public var ignored: [String] = []

    /// The options SwiftMate takes from a tmate file.
    public static let understood = ["tmate-server-host", "tmate-server-port", "tmate-server-rsa-fingerprint",
                                    "tmate-server-ed25519-fingerprint", "tmate-server-ecdsa-fingerprint", "tmate-api-key",
                                    "tmate-authorized-keys", "tmate-foreground-restart", "tmate-session-name", "tmate-session-name-ro"]

    /// tmate options that need what this SwiftMate does not have yet, and what to use meanwhile.
    static let notYet = [
        "tmate-identity": "set transports.ssh.identity in the YAML file instead",
        "tmate-webhook-url": "webhooks are not supported yet",
        "tmate-webhook-userdata": "webhooks are not supported yet",
    ]

    /// `~/.tmate.conf` (what tmate reads).
    public static var defaultPath: String {
        (ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? "/") + "/.tmate.conf"
    }

    /// The value of `option` (the last `set` of it), or nil.
    public subscript(option: String) -> Setting? { settings.last { $0.option == option } }

    /// Reads `path` (nil: `~/.tmate.conf`, which may be absent: then nil).
    public static func load(path: String? = nil) throws -> TmateConfig? {
        let file = path ?? defaultPath
        guard FileManager.default.fileExists(atPath: file) else {
            if path == nil { return nil }
            throw SwiftMateError(.badConfig, "\(file): no such file; give the path of a tmate configuration (~/.tmate.conf)")
        }
        guard let data = FileManager.default.contents(atPath: file), data.count <= 1 << 20 else {
            throw SwiftMateError(.badConfig, "\(file): cannot read it, or it is larger than 1 MiB")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file)
    }

    /// Parses the text of a tmate (tmux) configuration file.
    public static func parse(_ text: String, file: String) throws -> TmateConfig {
        var config = TmateConfig(file: file)
        for command in try TmuxCommandLexer.commands(in: text, file: file) {
            try config.take(command)
        }
        // A value is checked once, where it is used, so that a wrong one names its line.
        if let port = config["tmate-server-port"], Int(port.value).map({ (1...65535).contains($0) }) != true {
            throw config.error(port, "'\(port.value)' is not a port number (1-65535)")
        }
        for option in ["tmate-server-rsa-fingerprint", "tmate-server-ed25519-fingerprint", "tmate-server-ecdsa-fingerprint"] {
            guard let s = config[option], !s.value.isEmpty else { continue }
            guard HostKeyFingerprint.parse(s.value) != nil else {
                throw config.error(s, "'\(s.value)' is not a SHA256 host-key fingerprint (tmate before 2.4 used MD5 ones); "
                                   + "copy the relay's from `swiftmate relay fingerprints` (SHA256:…)")
            }
        }
        if let r = config["tmate-foreground-restart"], !["0", "1"].contains(r.value) {
            throw config.error(r, "'\(r.value)' must be 0 or 1")
        }
        for option in ["tmate-session-name", "tmate-session-name-ro"] {
            guard let s = config[option], let problem = SessionNames.problem(with: s.value, what: "the name") else { continue }
            throw config.error(s, problem)
        }
        return config
    }

    private func error(_ s: Setting, _ what: String) -> SwiftMateError {
        SwiftMateError(.badConfig, ConfigNode.oneLine("\(file):\(s.line): \(s.option): \(what)"))
    }

    private mutating func take(_ command: TmuxCommandLexer.Command) throws {
        guard let name = command.words.first else { return }
        guard ["set", "set-option"].contains(name) else {
            ignored.append("\(command.line): \(name) (a tmux command; SwiftMate shares no tmux)")
            return
        }
        var rest = command.words.dropFirst()
        var unset = false
        while let flag = rest.first, flag.hasPrefix("-"), flag.count > 1 {
            if flag.contains("u") { unset = true }
            if flag.contains("t") { rest = rest.dropFirst() } // -t TARGET
            rest = rest.dropFirst()
        }
        guard let option = rest.first else {
            throw SwiftMateError(.badConfig, "\(file):\(command.line): '\(name)' without an option name")
        }
        let value = rest.dropFirst().joined(separator: " ")
        if Self.understood.contains(option) {
            if unset {
                settings.removeAll { $0.option == option }
            } else {
                settings.append(Setting(option: option, value: value, line: command.line))
            }
        } else if let why = Self.notYet[option] {
            ignored.append("\(command.line): \(option) (\(why))")
        } else {
            ignored.append("\(command.line): \(option) (\(option.hasPrefix("tmate-") ? "no SwiftMate meaning" : "a tmux option"))")
        }
    }
}

extension TmateConfig {
    /// The relay it names: `ssh://HOST:PORT` (tmate's servers are SSH servers; port 22 unless set), or nil.
    public var relayURL: String? {
        guard let host = self["tmate-server-host"]?.value, !host.isEmpty else { return nil }
        let port = self["tmate-server-port"]?.value ?? "22"
        return "ssh://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// The pinned fingerprints it gives.
    public var fingerprints: [String] {
        ["tmate-server-ed25519-fingerprint", "tmate-server-rsa-fingerprint", "tmate-server-ecdsa-fingerprint"]
            .compactMap { self[$0]?.value }.filter { !$0.isEmpty }
            .compactMap { HostKeyFingerprint.parse($0) }
    }

    /// Applies the options that `config`'s YAML file did not set, and returns one line per tmate option:
    /// what it set, or why it was not used.
    public func apply(to config: inout SwiftMateConfig) -> [String] {
        var lines: [String] = []
        let source = config.source, file = config.file
        func use(_ options: [String], yamlKeys: [String], _ set: () -> String?) {
            let present = options.filter { self[$0] != nil }
            guard !present.isEmpty else { return }
            let names = present.joined(separator: ", ")
            let setInYAML = yamlKeys.first { path in
                var node: ConfigNode? = source
                for key in path.split(separator: ".") { node = node?[String(key)] }
                return node != nil
            }
            if let key = setInYAML {
                lines.append("\(names): not used, \(key) is set in \(file)")
            } else if let what = set() {
                lines.append("\(names) → \(what)")
            }
        }
        use(["tmate-server-host", "tmate-server-port"], yamlKeys: ["host.relay"]) {
            guard let url = relayURL else { return "not used: tmate-server-port without tmate-server-host" }
            guard let endpoint = try? Endpoint(parsing: url) else { return "not used: '\(url)' is not a relay address" }
            config.hostRelay = endpoint
            return "host.relay \(url)"
        }
        use(["tmate-server-ed25519-fingerprint", "tmate-server-rsa-fingerprint", "tmate-server-ecdsa-fingerprint"],
            yamlKeys: ["host.relay_fingerprints", "transports.ssh.fingerprints"]) {
            config.relayFingerprints = fingerprints
            return "host.relay_fingerprints"
        }
        use(["tmate-api-key"], yamlKeys: ["host.api_key"]) {
            config.apiKey = self["tmate-api-key"]?.value
            return "host.api_key"
        }
        use(["tmate-authorized-keys"], yamlKeys: ["session.authorized_keys"]) {
            guard let path = self["tmate-authorized-keys"]?.value, !path.isEmpty else { return nil }
            config.authorizedKeysFile = NSString(string: path).expandingTildeInPath
            return "session.authorized_keys \(path)"
        }
        use(["tmate-session-name"], yamlKeys: ["session.name"]) {
            config.sessionName = self["tmate-session-name"]?.value
            return "session.name"
        }
        use(["tmate-session-name-ro"], yamlKeys: ["session.read_only_name"]) {
            config.readOnlyName = self["tmate-session-name-ro"]?.value
            return "session.read_only_name"
        }
        use(["tmate-foreground-restart"], yamlKeys: ["host.foreground_restart"]) {
            config.foregroundRestart = self["tmate-foreground-restart"]?.value != "0"
            return "host.foreground_restart \(config.foregroundRestart)"
        }
        return lines
    }

    /// The same settings as a SwiftMate YAML file (`swiftmate config convert`), with what was left out as comments.
    public func yaml() -> String {
        func quoted(_ s: String) -> String {
            var out = "\""
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += String(format: "\\x%02x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        var host: [String] = [], session: [String] = []
        if let url = relayURL { host.append("  relay: \(quoted(url))") }
        if !fingerprints.isEmpty { host.append("  relay_fingerprints: [\(fingerprints.map(quoted).joined(separator: ", "))]") }
        if let key = self["tmate-api-key"]?.value, !key.isEmpty { host.append("  api_key: \(quoted(key))") }
        if let restart = self["tmate-foreground-restart"] { host.append("  foreground_restart: \(restart.value != "0")") }
        if let keys = self["tmate-authorized-keys"]?.value, !keys.isEmpty { session.append("  authorized_keys: \(quoted(keys))") }
        if let name = self["tmate-session-name"]?.value { session.append("  name: \(quoted(name))") }
        if let name = self["tmate-session-name-ro"]?.value { session.append("  read_only_name: \(quoted(name))") }
        var out = ["# SwiftMate configuration converted from \(file) (swiftmate config convert)."]
        if !host.isEmpty { out += ["host:"] + host }
        if !session.isEmpty { out += ["session:"] + session }
        if host.isEmpty && session.isEmpty { out.append("# (no tmate option with a SwiftMate meaning was set)") }
        if self["tmate-server-port"] != nil && relayURL == nil { out.append("# tmate-server-port is set without tmate-server-host: not converted") }
        if !ignored.isEmpty {
            out.append("# Not converted (line: option):")
            out += ignored.map { "#   " + ConfigNode.oneLine($0) }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

/// Splits tmux configuration text into commands and words as tmux does: `#` comments, single and double quotes
/// (with `\` escapes in double quotes and outside quotes), a `\` at the end of a line continuing it, and `;` or a
/// line's end ending a command.
enum TmuxCommandLexer {
    struct Command {
        var words: [String]
        var line: Int
    }

    static func commands(in text: String, file: String) throws -> [Command] {
        var commands: [Command] = []
        var words: [String] = []
        var word = ""
        var inWord = false
        var startLine = 1
        var line = 1
        var chars = Array(text.unicodeScalars)[...]
        func endWord() {
            if inWord { words.append(word) }
            word = ""
            inWord = false
        }
        func endCommand() {
            endWord()
            if !words.isEmpty { commands.append(Command(words: words, line: startLine)) }
            words = []
        }
        while let c = chars.popFirst() {
            if words.isEmpty && !inWord && c != "\n" { startLine = line }
            switch c {
            case "\n":
                line += 1
                endCommand()
            case " ", "\t", "\r":
                endWord()
            case "#" where !inWord:
                while let next = chars.first, next != "\n" { chars.removeFirst() }
            case ";" where !inWord:
                endCommand()
            case "\\":
                guard let next = chars.popFirst() else { break }
                if next == "\n" {
                    line += 1 // a continued line
                } else if next == "\r", chars.first == "\n" {
                    chars.removeFirst()
                    line += 1
                } else {
                    word.unicodeScalars.append(next)
                    inWord = true
                }
            case "'", "\"":
                inWord = true
                let opened = line
                var closed = false
                while let q = chars.popFirst() {
                    if q == c { closed = true; break }
                    if q == "\n" { line += 1 }
                    if c == "\"", q == "\\", let escaped = chars.popFirst() {
                        switch escaped {
                        case "n": word += "\n"
                        case "t": word += "\t"
                        case "\n": line += 1
                        default: word.unicodeScalars.append(escaped)
                        }
                        continue
                    }
                    word.unicodeScalars.append(q)
                }
                guard closed else {
                    throw SwiftMateError(.badConfig, "\(file):\(opened): a \(c == "'" ? "single" : "double") quote is not closed; close it on the same line")
                }
            default:
                word.unicodeScalars.append(c)
                inWord = true
            }
        }
        endCommand()
        return commands
    }
}
