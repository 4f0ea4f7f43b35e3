// tmate's ~/.tmate.conf: tmux's syntax read, the options with a SwiftMate meaning applied where YAML is silent, converted to YAML.
import Testing
import SwiftMateCore
import SwiftMateTestSupport

private func registry() -> PluginRegistry {
    var r = PluginRegistry()
    r.register(transport: "ssh") { _ in InMemoryTransport() }
    r.register(transport: "tcp") { _ in InMemoryTransport() }
    return r
}

private let ed25519 = "SHA256:jfttvoypkHiQYUqUCwKeqd9d1fJj/ZiQlFOHVl6E9sI"
private let rsa = "SHA256:Hthk2T/M/Ivqfk1YYUn5ijC2Att3+UPzD7Rn72P5VWs"

private let sample = """
    # tmate's README, more or less
    set -g tmate-server-host "relay.example.com"
    set -g tmate-server-port 2222 ; set -g mouse on
    set -g tmate-server-ed25519-fingerprint "\(ed25519)"
    set -g tmate-server-rsa-fingerprint   \(rsa)   # a comment after a value
    set-option -gq tmate-api-key 'tmk-it'\\''s'
    set -g tmate-session-name "my-\\
    session"
    set -g tmate-authorized-keys "~/.ssh/authorized_keys"
    set -g tmate-foreground-restart 0
    bind-key C-a send-prefix
    set -g tmate-webhook-url "https://hooks.example.com/x"
    """

@Test func tmuxSyntaxIsReadAsTmuxReadsIt() throws {
    let t = try TmateConfig.parse(sample, file: "tmate.conf")
    #expect(t["tmate-server-host"] == .init(option: "tmate-server-host", value: "relay.example.com", line: 2))
    #expect(t["tmate-server-port"]?.value == "2222")
    #expect(t["tmate-server-rsa-fingerprint"]?.value == rsa)
    #expect(t["tmate-api-key"]?.value == "tmk-it's")
    #expect(t["tmate-authorized-keys"]?.value == "~/.ssh/authorized_keys")
    #expect(t["tmate-foreground-restart"] == .init(option: "tmate-foreground-restart", value: "0", line: 10))
    #expect(t.relayURL == "ssh://relay.example.com:2222")
    #expect(t.fingerprints == [ed25519, rsa])
    // What SwiftMate leaves out, each with its line and why.
    #expect(t["tmate-session-name"] == .init(option: "tmate-session-name", value: "my-session", line: 7))
    #expect(t.ignored.count == 3)
    #expect(t.ignored[0] == "3: mouse (a tmux option)")
    #expect(t.ignored[1].hasPrefix("11: bind-key ("))
    #expect(t.ignored[2].hasPrefix("12: tmate-webhook-url ("))
}

@Test func aLaterSetWinsAndUnsetRemoves() throws {
    let t = try TmateConfig.parse("""
        set -g tmate-server-host a.example.com
        set -g tmate-server-host b.example.com
        set -g tmate-api-key k
        set -gu tmate-api-key
        """, file: "t")
    #expect(t.relayURL == "ssh://b.example.com:22")
    #expect(t["tmate-api-key"] == nil)
}

@Test func badValuesNameTheirLineAndWhatToDo() {
    func message(_ text: String) -> String {
        do {
            _ = try TmateConfig.parse(text, file: "t.conf")
            return "no error"
        } catch {
            return (error as? SwiftMateError)?.message ?? "\(error)"
        }
    }
    #expect(message("\n\nset -g tmate-server-port 70000\n") == "t.conf:3: tmate-server-port: '70000' is not a port number (1-65535)")
    #expect(message("set -g tmate-server-port twenty\n").contains("'twenty' is not a port number"))
    #expect(message("set -g tmate-server-rsa-fingerprint \"aa:bb:cc\"\n").contains("t.conf:1: tmate-server-rsa-fingerprint: 'aa:bb:cc' is not a SHA256 host-key fingerprint"))
    #expect(message("set -g tmate-foreground-restart yes\n").contains("must be 0 or 1"))
    #expect(message("\nset -g tmate-server-host \"a.example.com\nset -g mouse on\n") == "t.conf:2: a double quote is not closed; close it on the same line")
    #expect(message("set -g\n") == "t.conf:1: 'set' without an option name")
    #expect(message("set -g tmate-session-name 'a--b'\n").contains("t.conf:1: tmate-session-name: the name 'a--b' may hold only letters, digits and single hyphens"))
    // A control character in a value is escaped, the message stays one line.
    #expect(!message("set -g tmate-server-port '1\u{1b}[2J'\n").contains("\u{1b}"))
}

@Test func tmateSettingsApplyOnlyWhereTheYAMLFileIsSilent() throws {
    let t = try TmateConfig.parse(sample, file: "tmate.conf")
    var none = SwiftMateConfig()
    let lines = t.apply(to: &none)
    #expect(none.hostRelay == Endpoint(scheme: "ssh", host: "relay.example.com", port: 2222))
    #expect(none.relayFingerprints == [ed25519, rsa])
    #expect(none.apiKey == "tmk-it's")
    #expect(none.authorizedKeysFile?.hasSuffix("/.ssh/authorized_keys") == true && none.authorizedKeysFile?.hasPrefix("~") == false)
    #expect(none.foregroundRestart == false)
    #expect(none.sessionName == "my-session")
    #expect(lines.count == 6, "\(lines)")

    var yaml = try SwiftMateConfig.parse(yaml: """
        host:
          relay: tcp://own.example.com:7022
          api_key: mine
        transports: {ssh: {fingerprints: ["\(rsa)"]}}
        """, file: "host.yaml", registry: registry())
    let notes = t.apply(to: &yaml)
    #expect(yaml.hostRelay == Endpoint(scheme: "tcp", host: "own.example.com", port: 7022))
    #expect(yaml.apiKey == "mine")
    #expect(yaml.relayFingerprints.isEmpty)
    #expect(yaml.foregroundRestart == false) // not in the YAML file: tmate's applies
    #expect(notes.contains("tmate-server-host, tmate-server-port: not used, host.relay is set in host.yaml"))
    #expect(notes.contains { $0.contains("not used, transports.ssh.fingerprints is set in host.yaml") })
    #expect(notes.contains("tmate-api-key: not used, host.api_key is set in host.yaml"))
}

@Test func convertedYAMLLoadsToTheSameSettings() throws {
    let t = try TmateConfig.parse(sample, file: "tmate.conf")
    let text = t.yaml()
    let c = try SwiftMateConfig.parse(yaml: text, file: "converted.yaml", registry: registry())
    #expect(c.hostRelay == Endpoint(scheme: "ssh", host: "relay.example.com", port: 2222))
    #expect(c.relayFingerprints == [ed25519, rsa])
    #expect(c.apiKey == "tmk-it's")
    #expect(c.authorizedKeysFile?.hasSuffix("/.ssh/authorized_keys") == true)
    #expect(c.foregroundRestart == false)
    #expect(c.sessionName == "my-session")
    #expect(text.contains("#   12: tmate-webhook-url ("))
    // Quotes and backslashes in values survive the trip.
    let odd = try TmateConfig.parse(#"set -g tmate-api-key "a\"b\\c""#, file: "t")
    #expect(try SwiftMateConfig.parse(yaml: odd.yaml(), file: "o.yaml", registry: registry()).apiKey == #"a"b\c"#)
    // Nothing to convert is said so, and still loads.
    let empty = try TmateConfig.parse("set -g mouse on\n", file: "t")
    #expect(empty.yaml().contains("no tmate option with a SwiftMate meaning"))
    _ = try SwiftMateConfig.parse(yaml: empty.yaml(), file: "e.yaml", registry: registry())
}
