// The `swiftmate` command: tmate's habits (sharing by default, -F, -S, -f) plus relay, join and config.
import ArgumentParser
import SwiftMateCore

@main
struct SwiftMateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftmate",
        abstract: "Instant terminal sharing: share a shell through a relay; others join with ssh or swiftmate join.",
        version: SwiftMateVersion.string,
        subcommands: [HostCommand.self, NewSessionCommand.self, RelayCommand.self, JoinCommand.self, PlayCommand.self, ConfigCommand.self,
                      ShowMessagesCommand.self, WaitReadyCommand.self, StatusCommand.self, MarkerCommand.self,
                      ApproveCommand.self, DenyCommand.self, KickCommand.self],
        defaultSubcommand: HostCommand.self)

    /// tmate puts its flags before the command (`tmate -S SOCK show-messages`, `tmate -F new-session CMD`):
    /// move them after it, where swift-argument-parser reads them; `-V` is `--version`.
    static func tmateOrder(_ arguments: [String]) -> [String] {
        let names = Set(configuration.subcommands.map { $0._commandName })
        let takesValue: Set<String> = ["-f", "-S", "-a", "-k", "-n", "-r", "--api-key", "--relay", "--codecs", "--record", "--size-policy", "--relay-fingerprint", "--log-level"]
        var leading: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "-V" { return ["--version"] }
            if names.contains(argument) {
                return [argument] + leading + arguments[(index + 1)...]
            }
            guard argument.hasPrefix("-") else { break }
            leading.append(argument)
            if takesValue.contains(argument), index + 1 < arguments.count {
                leading.append(arguments[index + 1])
                index += 1
            }
            index += 1
        }
        return arguments
    }

    static func main() async {
        await main(tmateOrder(Array(CommandLine.arguments.dropFirst())))
    }
}

/// Options every host-side command shares (tmate's flags).
struct HostFlags: ParsableArguments {
    @Option(name: .customShort("f"), help: ArgumentHelp("Configuration file (default ~/.config/swiftmate/config.yaml).", valueName: "config"))
    var config: String?

    @Option(name: .customShort("S"), help: ArgumentHelp("Control socket path: show-messages, wait-ready and status talk to the host through it.", valueName: "socket"))
    var socket: String?

    @Flag(name: .customShort("F"), help: "Foreground, headless: no local terminal, log lines on stdout, the command respawned when it exits.")
    var foreground = false

    @Option(name: .long, help: "Relay URL (ssh://HOST:PORT, tcp://HOST:PORT); without one an embedded relay starts on 127.0.0.1. Given more than once, each is tried in turn when the one before cannot be reached.")
    var relay: [String] = []

    @Option(name: .long, help: "Codecs to offer, preferred first, comma-separated (lz4, zlib, none).")
    var codecs: String?

    @Option(name: .customShort("a"), help: ArgumentHelp("Only the public keys in this OpenSSH authorized_keys file may join (read-write and read-only).", valueName: "authorized-keys"))
    var authorizedKeys: String?

    @Option(name: [.customShort("k"), .customLong("api-key")], help: ArgumentHelp("API key for a relay that lets only listed hosts open sessions (its relay.hosts.api_keys); host.api_key in YAML.", valueName: "api-key"))
    var apiKey: String?

    @Option(name: .customShort("n"), help: ArgumentHelp("A named session (tmate -n): tokens NAMESPACE/NAME that stay the same across restarts; the relay gives the namespace for your API key (-k), or NAMESPACE/NAME where it lets SSH keys own namespaces. session.name in YAML.", valueName: "name"))
    var sessionName: String?

    @Option(name: .customShort("r"), help: ArgumentHelp("The named session's read-only name (tmate -r); without it the read-only token is random. session.read_only_name in YAML.", valueName: "ro-name"))
    var readOnlyName: String?
    @Flag(name: .customLong("approve"), help: "Every viewer waits until you let it in: Ctrl-] y (or n) in the shared terminal, or swiftmate approve ID (deny ID). session.approve_joiners in YAML.")
    var approve = false

    @Option(name: .long, help: ArgumentHelp("How the session's size follows its windows: smallest (of the host and read-write viewers, the default), host, largest, or fixed COLSxROWS; read-only viewers never count.", valueName: "policy"))
    var sizePolicy: String?

    @Option(name: .long, help: "Record the session to this asciicast v2 file ({session} and {date} are filled in); play it with swiftmate play or asciinema.")
    var record: String?

    @Option(name: .long, help: ArgumentHelp("Log level of the host's log (stdout with -F, else stderr once the terminal is back; show-messages has it all): trace, debug, info, notice, warning, error, critical. Default: info with -F or without a terminal, else critical.", valueName: "level"))
    var logLevel: String?

    @Flag(name: .long, help: "Let --record replace an existing file (host.frontends' recorder: overwrite: true).")
    var overwrite = false

    @Option(name: .long, help: ArgumentHelp("Pin the ssh relay's host key (repeatable; from `swiftmate relay fingerprints` on the relay); host.relay_fingerprints in YAML.", valueName: "SHA256:…"))
    var relayFingerprint: [String] = []
}
