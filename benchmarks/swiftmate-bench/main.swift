// swiftmate-bench: host-side time of `cat` of a 55 MB file in a shared shell with one TCP joiner, against a
// bare PTY drain of the same file in the same run, and bytes host→relay per codec (`share`); the same with the
// recorder on and off, beside `asciinema rec` (`record`); keystroke echo latency through an ssh viewer beside one
// OpenSSH hop (`latency`); screen model throughput beside libvterm's screen layer (`screen`). Medians of --runs runs.
// Run: swift build -c release && .build/release/swiftmate-bench [share | record | recorder | latency | screen] [--runs N]
import Foundation
import Glibc
import SwiftMateCore
import SwiftMateRecorder
import SwiftMateSystem

/// Prints a line at once (stdout may be a file, and a killed run should still show what it measured).
func say(_ line: String) { _ = FileDescriptorIO.writeAll(1, Array((line + "\n").utf8)) }

var lines = 7_000_000
var codecs = ["lz4", "zlib", "none"]
var runs = 3
var suite = "share"
var viewerKind = "default"
var keystrokes = 300
/// `latency`: `embedded` (the host's own relay) or `separate` (a relay process, the host linked over ssh, pinned).
var relayKind = "embedded"
var floodConnections = 1000
/// `sessions`: how many sessions the relay holds.
var sessionCount = 2000
var floodDeclared = 262_143
var floodOnly: String?
var arguments = CommandLine.arguments.dropFirst()
while let a = arguments.popFirst() {
    switch a {
    case "--lines": lines = Int(arguments.popFirst() ?? "") ?? lines
    case "--codecs": codecs = (arguments.popFirst() ?? "").split(separator: ",").map(String.init)
    case "--runs": runs = max(1, Int(arguments.popFirst() ?? "") ?? runs)
    case "--viewer": viewerKind = arguments.popFirst() ?? viewerKind
    case "--keystrokes": keystrokes = max(10, Int(arguments.popFirst() ?? "") ?? keystrokes)
    case "--relay": relayKind = arguments.popFirst() == "separate" ? "separate" : "embedded"
    case "--sessions": sessionCount = max(1, Int(arguments.popFirst() ?? "") ?? sessionCount)
    case "--connections": floodConnections = max(1, Int(arguments.popFirst() ?? "") ?? floodConnections)
    case "--only": floodOnly = arguments.popFirst()
    case "--declared": floodDeclared = max(16, Int(arguments.popFirst() ?? "") ?? floodDeclared)
    case "share", "record", "recorder", "latency", "screen", "flood", "sessions", "capacity", "resume": suite = a
    default:
        say("usage: swiftmate-bench [share | record | recorder | latency | screen | flood | sessions | capacity | resume] [--sessions N] [--lines N] [--runs N] [--codecs lz4,zlib,none] [--viewer tcp|ssh] [--keystrokes N] [--relay embedded|separate] [--connections N] [--declared BYTES] [--only defaults|budget-only]")
        exit(2)
    }
}
let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("swiftmate").path
let dir = NSTemporaryDirectory() + "swiftmate-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: dir) }
let file = dir + "/seq.txt"
_ = system("seq 1 \(lines) > \(file)")
let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
let env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "TERM": "xterm-256color", "HOME": dir]

/// The last bytes a drained PTY showed (for error messages).
final class Tail: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []
    func add(_ chunk: UnsafeRawBufferPointer) {
        lock.lock()
        bytes += chunk.suffix(2048)
        if bytes.count > 2048 { bytes.removeFirst(bytes.count - 2048) }
        lock.unlock()
    }
    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Drains a PTY on a thread until it closes, keeping its last 2 KiB.
@discardableResult
func drain(_ pty: PTYProcess) -> Tail {
    let tail = Tail()
    let t = Thread {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        while true {
            let n = pty.read(into: buffer)
            if n <= 0 { break }
            tail.add(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        buffer.deallocate()
    }
    t.start()
    return tail
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
}

func waitForFile(_ path: String, seconds: Double = 300) -> String? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let s = try? String(contentsOfFile: path, encoding: .utf8), s.hasSuffix("\n") { return s }
        usleep(20_000)
    }
    return nil
}

/// The timed command: waits for GO, then times `cat FILE` in nanoseconds into RESULT.
func timedCat(_ tag: String) -> [String] {
    ["sh", "-c", "while [ ! -e \(dir)/\(tag).go ]; do sleep 0.05; done; s=$(date +%s%N); cat \(file); e=$(date +%s%N); echo $((e-s)) > \(dir)/\(tag).result"]
}

func bare() throws -> Double {
    let pty = try PTYProcess(command: timedCat("bare"), environment: env, cols: 120, rows: 40)
    _ = drain(pty)
    _ = FileManager.default.createFile(atPath: dir + "/bare.go", contents: nil)
    guard let r = waitForFile(dir + "/bare.result"), let ns = Double(r.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw CocoaError(.fileReadUnknown) }
    _ = pty.waitForExit()
    try? FileManager.default.removeItem(atPath: dir + "/bare.go")
    try? FileManager.default.removeItem(atPath: dir + "/bare.result")
    return ns / 1e9
}


/// CPU seconds (user + system) a live or unreaped process has used.
func cpuSeconds(_ pid: pid_t) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return -1 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return -1 }
    return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

struct SharedRun {
    var seconds: Double
    var bytes: Int
    var cpu: (host: Double, relay: Double, joiner: Double)
}

/// One shared run: a relay, a host sharing the timed `cat` (with `hostArguments`), one tcp joiner.
/// A relay on loopback (tcp, and ssh with host keys in the bench directory), started on a PTY.
func startRelay(tag: String, config: String? = nil) throws -> (relay: PTYProcess, tcp: String, ssh: String, fingerprints: [String]) {
    // Port 0: the relay picks free ports and logs "listening on SCHEME://127.0.0.1:PORT".
    let relayLog = dir + "/relay-\(tag).log"
    let file = config.map { "-f \($0) " } ?? ""
    let relay = try PTYProcess(command: ["sh", "-c", "exec \(binary) relay \(file)--listen tcp://127.0.0.1:0 --listen ssh://127.0.0.1:0 --state-dir \(dir)/state > \(relayLog) 2>&1"],
                               environment: env, cols: 80, rows: 24)
    var urls: [String] = []
    while urls.count < 2 {
        usleep(20_000)
        let log = (try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? ""
        urls = log.components(separatedBy: "listening on ").dropFirst().map { String($0.prefix { !$0.isWhitespace }) }
    }
    let log = (try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? ""
    let fingerprints = log.components(separatedBy: "ssh host key ").dropFirst().compactMap { $0.split(whereSeparator: { $0 == " " || $0 == "\n" }).dropFirst().first.map(String.init) }
    return (relay, urls.first { $0.hasPrefix("tcp") } ?? "", urls.first { $0.hasPrefix("ssh") } ?? "", fingerprints)
}

/// The ssh command line of a stock OpenSSH viewer for `token` on `port`.
func sshViewer(port: String, token: String) -> [String] {
    ["ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
     "-o", "BatchMode=yes", "-tt", "-p", port, "\(token)@127.0.0.1"]
}

/// One shared run: a relay, a host sharing the timed `cat` (with `hostArguments`), one joiner: `swiftmate join`
/// over tcp, or (`viewer: "ssh"`) a stock OpenSSH client with the host linked over ssh too.
func shared(codec: String, tag: String, hostArguments: [String] = [], viewer: String = "tcp") throws -> SharedRun {
    let (relay, tcpURL, sshURL, fingerprints) = try startRelay(tag: tag)
    var linkArguments = ["--relay", tcpURL]
    if viewer == "ssh" {
        let config = dir + "/pins-\(tag).yaml"
        try "transports:\n  ssh: {fingerprints: [\(fingerprints.map { "\"\($0)\"" }.joined(separator: ", "))]}\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        linkArguments = ["-f", config, "--relay", sshURL]
    }
    let socket = dir + "/host-\(tag).sock"
    let host = try PTYProcess(command: [binary, "-S", socket] + linkArguments + ["--codecs", codec] + hostArguments + ["new-session"] + timedCat(tag),
                              environment: env, cols: 120, rows: 40)
    let hostTail = drain(host)
    let hostDeadline = Date().addingTimeInterval(30)
    while !FileManager.default.fileExists(atPath: socket) {
        if Date() > hostDeadline { throw BenchError(description: "the host did not start: \(hostTail.text.debugDescription)") }
        usleep(20_000)
    }
    _ = try ControlClient.send("wait-ready", to: socket)
    let status = try ControlClient.send("status-json", to: socket)
    let json = try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any]
    let strings = json?["connectionStrings"] as? [String: String] ?? [:]
    let joinCommand: [String]
    if viewer == "ssh" {
        let words = (strings["ssh session"] ?? "").split(separator: " ")
        let token = String(words.last?.split(separator: "@").first ?? "")
        joinCommand = sshViewer(port: String(sshURL.split(separator: ":").last ?? ""), token: token)
    } else {
        joinCommand = [binary, "join", "--codecs", codec, String((strings["tcp session"] ?? "").split(separator: " ").last ?? "")]
    }
    let joiner = try PTYProcess(command: joinCommand, environment: env, cols: 120, rows: 40)
    let joinerTail = drain(joiner)
    let joinDeadline = Date().addingTimeInterval(20)
    while !(try ControlClient.send("status-json", to: socket)).contains("\"peer\"") {
        if Date() > joinDeadline {
            throw BenchError(description: "the joiner did not join (\(joinCommand.joined(separator: " "))): \(joinerTail.text.debugDescription)")
        }
        usleep(20_000)
    }
    let before = (cpuSeconds(host.pid), cpuSeconds(relay.pid), cpuSeconds(joiner.pid))
    _ = FileManager.default.createFile(atPath: dir + "/\(tag).go", contents: nil)
    guard let r = waitForFile(dir + "/\(tag).result"), let ns = Double(r.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw CocoaError(.fileReadUnknown) }
    let after = (cpuSeconds(host.pid), cpuSeconds(relay.pid), cpuSeconds(joiner.pid))
    _ = host.waitForExit()
    if viewer == "ssh" { joiner.signal(SIGTERM) }
    _ = joiner.waitForExit()
    relay.signal(SIGTERM)
    _ = relay.waitForExit()
    for name in ["\(tag).go", "\(tag).result"] { try? FileManager.default.removeItem(atPath: dir + "/" + name) }
    let log = (try? String(contentsOfFile: dir + "/relay-\(tag).log", encoding: .utf8)) ?? ""
    let bytes = log.split(separator: "\n").compactMap { line -> Int? in
        guard let r = line.range(of: "received ") else { return nil }
        return Int(line[r.upperBound...].split(separator: " ").first ?? "")
    }.last ?? -1
    return SharedRun(seconds: ns / 1e9, bytes: bytes, cpu: (after.0 - before.0, after.1 - before.1, after.2 - before.2))
}

/// `asciinema rec` of the timed `cat` (asciinema needs a terminal: it runs on a PTY drained like the others).
func asciinemaRec(tag: String) throws -> Double? {
    guard system("command -v asciinema > /dev/null") == 0 else { return nil }
    let cast = dir + "/\(tag).cast"
    let command = timedCat(tag).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    var recEnv = env
    recEnv["ASCIINEMA_CONFIG_HOME"] = dir + "/asciinema"
    let pty = try PTYProcess(command: ["asciinema", "rec", "-q", "-c", command, cast], environment: recEnv, cols: 120, rows: 40)
    _ = drain(pty)
    usleep(500_000)
    _ = FileManager.default.createFile(atPath: dir + "/\(tag).go", contents: nil)
    guard let r = waitForFile(dir + "/\(tag).result"), let ns = Double(r.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw CocoaError(.fileReadUnknown) }
    _ = pty.waitForExit()
    for name in ["\(tag).go", "\(tag).result", "\(tag).cast"] { try? FileManager.default.removeItem(atPath: dir + "/" + name) }
    return ns / 1e9
}

/// Text as a PTY shows it: each LF as CR LF (onlcr).
func asPTYShowsIt(_ text: some Collection<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(text.count + text.count / 4)
    for b in text {
        if b == 0x0A { out.append(0x0D) }
        out.append(b)
    }
    return out
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
}

say("file: \(size) bytes (seq 1 \(lines)); binary: \(binary); \(runs) runs each, medians")
switch suite {
case "share":
    for codec in codecs {
        var bares: [Double] = [], shareds: [Double] = []
        var last = SharedRun(seconds: 0, bytes: 0, cpu: (0, 0, 0))
        for i in 0..<runs {
            bares.append(try bare())
            last = try shared(codec: codec, tag: "\(codec)-\(i)", viewer: viewerKind == "ssh" ? "ssh" : "tcp")
            shareds.append(last.seconds)
        }
        bares.append(try bare())
        let (b, s) = (median(bares), median(shareds))
        say(String(format: "codec %-4@  bare PTY drain %.3f s  shared with 1 \(viewerKind == "ssh" ? "ssh" : "tcp") viewer %.3f s  ratio %.2f  host→relay %d bytes (%.1f%% of output)  cpu s (last run): host %.2f relay %.2f joiner %.2f",
                     codec as NSString, b, s, s / b, last.bytes, Double(last.bytes) * 100 / Double(size), last.cpu.host, last.cpu.relay, last.cpu.joiner))
    }
case "record":
    var off: [Double] = [], on: [Double] = [], rec: [Double] = [], bares: [Double] = []
    var cpuOff = 0.0, cpuOn = 0.0
    for i in 0..<runs {
        bares.append(try bare())
        say("run \(i + 1)/\(runs)")
        let a = try shared(codec: "lz4", tag: "off-\(i)")
        off.append(a.seconds)
        cpuOff = a.cpu.host
        let b = try shared(codec: "lz4", tag: "on-\(i)", hostArguments: ["--record", dir + "/rec-\(i).cast"])
        on.append(b.seconds)
        cpuOn = b.cpu.host
        try? FileManager.default.removeItem(atPath: dir + "/rec-\(i).cast")
        if let t = try asciinemaRec(tag: "asciinema-\(i)") { rec.append(t) }
    }
    say(String(format: "recorder off %.3f s  on %.3f s  (+%.1f%%)  host cpu off %.2f s on %.2f s  |  bare PTY drain %.3f s  asciinema rec %.3f s (%.2fx bare)",
                 median(off), median(on), (median(on) / median(off) - 1) * 100, cpuOff, cpuOn, median(bares), median(rec), median(rec) / median(bares)))
case "screen":
    runScreenBench(seqFile: file, runs: runs)
case "sessions":
    // The same echo with one session and with many, beside one OpenSSH hop, in this run.
    let floor = try openSSHEchoLatency(count: keystrokes, viaPTY: false).echo
    say(String(format: "one OpenSSH hop to sshd: echo median %.3f ms p99 %.3f ms", percentile(floor, 0.5), percentile(floor, 0.99)))
    for count in [1, sessionCount] {
        let r = try sessionsRun(count: count, keystrokes: keystrokes)
        say(String(format: "relay with %d sessions (hosts over tcp, each printing a line a second; set up in %.1f s): relay RSS %.1f MB, %d threads; OpenSSH viewer of one session: echo median %.3f ms p99 %.3f ms (%.2f × the hop)",
                   count, r.setUp, r.rss, r.threads, percentile(r.echo, 0.5), percentile(r.echo, 0.99), percentile(r.echo, 0.5) / percentile(floor, 0.5)))
    }
case "capacity":
    try capacitySuite(count: sessionCount, keystrokes: keystrokes)
case "resume":
    try resumeSuite(restarts: max(runs, 10))
case "flood":
    // The default limits (the per-address cap stops the flood first), then the total budget alone.
    // (--only defaults runs the first alone: a relay built before these limits existed refuses the second's YAML.)
    if floodOnly != "budget-only" { try flood(tag: "defaults", limits: "{}", connections: floodConnections, declared: floodDeclared) }
    if floodOnly != "defaults" {
        try flood(tag: "budget-only", limits: "{handshakes_per_address: 1000000}", connections: floodConnections, declared: floodDeclared)
    }
case "latency":
    // Both ways of typing, each beside its floor: the viewer on pipes (the client's own terminal left out)
    // and on a PTY (as a terminal emulator would type).
    for viaPTY in [false, true] {
        let (ours, switches) = try swiftmateEchoLatency(count: keystrokes, viewer: viewerKind == "tcp" ? "tcp" : "ssh", viaPTY: viaPTY,
                                            separateRelay: relayKind == "separate")
        let (floor, sshdCPU) = try openSSHEchoLatency(count: keystrokes, viaPTY: viaPTY)
        let path = relayKind == "separate" ? "relay process → host over ssh" : "embedded relay → host"
        say(String(format: "keystroke echo, %d keystrokes, client on \(viaPTY ? "a pty" : "pipes"): swiftmate (\(viewerKind == "tcp" ? "swiftmate join over tcp" : "OpenSSH viewer") → \(path)) median %.3f ms p99 %.3f ms | one OpenSSH hop to sshd median %.3f ms p99 %.3f ms | ratio of medians %.2f",
                   keystrokes, percentile(ours, 0.5), percentile(ours, 0.99), percentile(floor, 0.5), percentile(floor, 0.99),
                   percentile(ours, 0.5) / percentile(floor, 0.5)))
        say("  while typing: " + switches + String(format: "; the hop's sshd: CPU %.0f µs per keystroke", sshdCPU))
        if relayKind == "separate" {
            let (jump, jumpCPU) = try openSSHEchoLatency(count: keystrokes, viaPTY: viaPTY, jump: true)
            say(String(format: "  for reference, OpenSSH through a jump host (ssh -J): median %.3f ms p99 %.3f ms (%.2f × the hop); both sshds: CPU %.0f µs per keystroke",
                       percentile(jump, 0.5), percentile(jump, 0.99), percentile(jump, 0.5) / percentile(floor, 0.5), jumpCPU))
        }
    }
case "recorder":
    // The recorder alone: the file's bytes as 4 KiB PTY-sized chunks, handed over in batches of 1 and 16.
    let data = [UInt8](FileManager.default.contents(atPath: file) ?? Data())
    var chunks: [[UInt8]] = []
    var offset = 0
    while offset < data.count {
        let end = min(offset + 4095, data.count)
        chunks.append(asPTYShowsIt(data[offset..<end]))
        offset = end
    }
    for batchSize in [1, 16] {
        var times: [Double] = []
        for i in 0..<runs {
            let path = dir + "/recorder-\(batchSize)-\(i).cast"
            // Off the main actor, as the host's frontend task is (no executor hop per event).
            let elapsed = try await Task.detached { [chunks] () async throws -> Duration in
                let recorder = try AsciicastRecorder(options: .init(path: path), context: FrontendContext(side: "host", sessionID: "bench"))
                let started = ContinuousClock.now
                try await recorder.handle(.start(SessionInfo(sessionID: "bench", cols: 80, rows: 24, command: ["cat"])))
                var seq: UInt64 = 0
                var index = 0
                while index < chunks.count {
                    let batch = chunks[index..<min(index + batchSize, chunks.count)].map { bytes -> SessionEvent in
                        defer { seq += UInt64(bytes.count) }
                        return .output(seq: seq, bytes: bytes)
                    }
                    try await recorder.handle(batch: batch)
                    index += batchSize
                }
                try await recorder.handle(.end(exitStatus: 0))
                return ContinuousClock.now - started
            }.value
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            try? FileManager.default.removeItem(atPath: path)
        }
        let total = Double(chunks.reduce(0) { $0 + $1.count })
        say(String(format: "recorder, batches of %2d chunks: %.3f s for %.1f MB = %.0f MB/s", batchSize, median(times), total / 1e6, total / 1e6 / median(times)))
    }
default:
    say("unknown suite \(suite); known: share, record")
    exit(2)
}
