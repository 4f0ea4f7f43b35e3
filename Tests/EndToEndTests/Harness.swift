// End-to-end harness: the real swiftmate binary, real PTYs through tmux, loopback ports picked free.
import Foundation
import Glibc
import Synchronization
import Testing

/// Every end-to-end suite nests in this one, so they run one at a time: each blocks a thread while it
/// waits on processes, and on a 2-core machine parallel suites would starve the rest of the test run.
@Suite(.serialized) struct EndToEnd {}

/// The swiftmate binary built beside this test bundle.
let swiftmateBinary: String = {
    if let path = ProcessInfo.processInfo.environment["SWIFTMATE_BIN"] { return path }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("swiftmate").path
}()

/// A scratch directory for one test.
func scratchDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "swiftmate-e2e-" + UUID().uuidString.prefix(8)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A free TCP port on 127.0.0.1, below Linux's ephemeral range (32768 and up): a port the kernel hands out for
/// outgoing connections (the tests' many ssh clients) could be taken between this check and the server's bind.
func freePort() -> Int {
    while true {
        let port = Int.random(in: 20000..<32768)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if bound == 0 { return port }
    }
}

/// A child process started with posix_spawn (stdin from /dev/null, stdout and stderr to a file).
/// (Foundation's Process left zombies under the test runner here, so this stays with plain POSIX.)
struct Child {
    let pid: pid_t

    init(_ arguments: [String], output: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Test threads block most signals and a child inherits that mask: without this, tmux servers and
        // their `sleep 600` would ignore SIGHUP and outlive `kill-server`.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard rc == 0 else { throw HarnessError("cannot run \(arguments[0]): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// The exit status, waiting up to `timeout` seconds (then SIGKILL).
    func wait(timeout: Double) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 { return -1 }
            if Date() > deadline { kill(pid, SIGKILL) }
            usleep(10_000)
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// Runs a program to completion and returns its status and output (stdout and stderr together in both).
@discardableResult
func run(_ arguments: [String], timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
    let output = NSTemporaryDirectory() + "swiftmate-run-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: output) }
    let child = try Child(arguments, output: output)
    let status = child.wait(timeout: timeout)
    let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    return (status, text, text)
}

/// A background process (a relay, a headless host) stopped when the test ends.
final class Background {
    let child: Child
    let logPath: String

    init(_ arguments: [String], log: String) throws {
        logPath = log
        child = try Child(arguments, output: log)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        kill(child.pid, SIGTERM)
        _ = child.wait(timeout: 5)
    }
}

/// Every tmux server the tests started, killed when the test process exits (a pane whose owner is
/// never released must not outlive the run).
private let liveTmuxServers = Mutex<Set<String>>([])
private let killTmuxServersAtExit: Void = {
    atexit {
        for name in liveTmuxServers.withLock({ $0 }) {
            _ = try? run(["tmux", "-L", name, "kill-server"], timeout: 5)
        }
    }
}()

/// One tmux server (its own socket) running one program in a real PTY of a given size.
final class TmuxPane {
    let socketName: String

    init(_ command: String, cols: Int = 120, rows: Int = 40, environment: [String: String] = [:]) throws {
        socketName = "swiftmate-e2e-" + UUID().uuidString.prefix(8)
        let env = environment.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        let result = try run(["tmux", "-L", socketName, "-f", "/dev/null", "new-session", "-d", "-x", "\(cols)", "-y", "\(rows)",
                              "env \(env) \(command); sleep 600"])
        if result.status != 0 { throw HarnessError("tmux failed: \(result.stderr)") }
        _ = killTmuxServersAtExit
        liveTmuxServers.withLock { _ = $0.insert(socketName) }
    }

    /// Types keys (tmux send-keys syntax: words like Enter are keys).
    func send(_ keys: String...) throws {
        try run(["tmux", "-L", socketName, "send-keys"] + keys)
    }

    /// Types text literally.
    func type(_ text: String) throws {
        try run(["tmux", "-L", socketName, "send-keys", "-l", text])
    }

    /// What the pane shows now.
    func screen() -> String {
        (try? run(["tmux", "-L", socketName, "capture-pane", "-p", "-J", "-S", "-200"]).stdout) ?? ""
    }

    /// Waits until the screen contains `text`.
    func waitFor(_ text: String, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if screen().contains(text) { return true }
            usleep(100_000)
        }
        return false
    }

    func kill() {
        _ = try? run(["tmux", "-L", socketName, "kill-server"], timeout: 10)
        liveTmuxServers.withLock { _ = $0.remove(socketName) }
    }

    deinit { kill() }
}

/// Waits until `condition` holds (polling every 50 ms) or `seconds` pass; returns whether it held.
func waitUntil(seconds: Double = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}

/// What `asciinema cat FILE` prints (it needs a terminal, so it runs in a tmux pane).
func asciinemaCat(_ file: String, dir: String) throws -> (status: String, output: Data) {
    let out = dir + "/asciinema-cat-\(UUID().uuidString.prefix(6))"
    let pane = try TmuxPane("asciinema cat \(file) > \(out).bytes 2> \(out).err; echo $? > \(out).status",
                            environment: ["ASCIINEMA_CONFIG_HOME": dir + "/asciinema-config"])
    defer { pane.kill() }
    guard waitUntil(seconds: 60, { FileManager.default.fileExists(atPath: out + ".status") }) else {
        throw HarnessError("asciinema cat did not finish: \(pane.screen())")
    }
    usleep(100_000)
    let status = (try? String(contentsOfFile: out + ".status", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: out + ".err", encoding: .utf8)) ?? ""
    return (status.trimmingCharacters(in: .whitespacesAndNewlines) + (err.isEmpty ? "" : " " + err),
            FileManager.default.contents(atPath: out + ".bytes") ?? Data())
}

/// The typing scenario every kind of viewer passes: a line typed by the read-write viewer runs on the host
/// and shows on the host and both viewers; the read-only viewer's typing never reaches the host.
func checkOnlyReadWriteViewersType(host: TmuxPane, rw: TmuxPane, ro: TmuxPane, marker: String,
                                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    try rw.type("echo \(marker)-$((6*7))")
    try rw.send("Enter")
    #expect(host.waitFor("\n\(marker)-42"), "host: \(host.screen())", sourceLocation: sourceLocation)
    #expect(rw.waitFor("\n\(marker)-42"), "rw viewer: \(rw.screen())", sourceLocation: sourceLocation)
    #expect(ro.waitFor("\n\(marker)-42"), "ro viewer: \(ro.screen())", sourceLocation: sourceLocation)

    try ro.type("echo ro-typed-$((1+1))")
    try ro.send("Enter")
    try rw.type("echo after-ro-$((2+2))")
    try rw.send("Enter")
    #expect(host.waitFor("after-ro-4"), sourceLocation: sourceLocation)
    #expect(!host.screen().contains("ro-typed"), "read-only input reached the host: \(host.screen())", sourceLocation: sourceLocation)
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}

/// The connection strings a host reports through its control socket.
func connectionStrings(socket: String) throws -> [String: String] {
    let deadline = Date().addingTimeInterval(30)
    while !FileManager.default.fileExists(atPath: socket) && Date() < deadline { usleep(50_000) }
    let ready = try run([swiftmateBinary, "-S", socket, "wait-ready"], timeout: 30)
    guard ready.status == 0 else { throw HarnessError("wait-ready failed: \(ready.stderr)") }
    let status = try run([swiftmateBinary, "-S", socket, "status", "--json"])
    guard let data = status.stdout.data(using: .utf8),
          let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
          let strings = json["connectionStrings"] as? [String: String] else {
        throw HarnessError("bad status: \(status.stdout)")
    }
    return strings
}

/// The URL at the end of a `swiftmate join URL` string.
func joinURL(_ command: String?) -> String {
    String(command?.split(separator: " ").last ?? "")
}

/// Starts a relay on a free loopback port and returns it with its URL.
func startRelay(dir: String, arguments: [String] = []) throws -> (Background, String) {
    let port = freePort()
    let url = "tcp://127.0.0.1:\(port)"
    let relay = try Background([swiftmateBinary, "relay", "--listen", url] + arguments, log: dir + "/relay.log")
    let deadline = Date().addingTimeInterval(20)
    while !relay.log.contains("listening on") && Date() < deadline { usleep(50_000) }
    return (relay, url)
}

let quietShell = "bash --norc --noprofile"
let shellEnvironment = ["PS1": "host$ ", "HISTFILE": "/dev/null"]

/// A relay on tcp `port` keeping its state in `dir/state` (a restart on the same directory resumes its sessions),
/// logging to `log`, returned once it listens.
func startTCPRelay(port: Int, dir: String, log: String) throws -> Background {
    let relay = try Background([swiftmateBinary, "relay", "--listen", "tcp://127.0.0.1:\(port)", "--state-dir", dir + "/state"], log: log)
    #expect(waitUntil { relay.log.contains("listening on tcp://127.0.0.1:\(port)") }, "\(relay.log)")
    return relay
}

/// A `swiftmate join` viewer of `url` whose raw output goes to the file `output` (its input stays open, so it never
/// detaches; its messages go to `log`).
func joinToFile(_ url: String, output: String, log: String) throws -> Background {
    try Background(["sh", "-c", "sleep 600 | \(swiftmateBinary) join \(url) > \(output)"], log: log)
}
