// Keystroke echo latency: type a byte into a viewer's terminal, time until the echo comes back.
import Foundation
import Glibc
import SwiftMateSystem

/// The `p` quantile (0…1) of `values`, in the values' unit.
func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

/// A typing client under test: the bench writes keystrokes to `input` and reads what comes back from
/// `output`. Over a PTY (what a terminal emulator would see) or over pipes (`ssh -tt` still asks the far
/// end for a terminal, but the bench's own side skips a PTY and its line discipline).
struct EchoClient {
    let input: Int32
    let output: Int32
    let stop: () -> Void

    /// Runs `command` with the bench on a PTY (`viaPTY`) or on pipes.
    static func start(_ command: [String], viaPTY: Bool) throws -> EchoClient {
        if viaPTY {
            let pty = try PTYProcess(command: command, environment: env, cols: 120, rows: 40)
            return EchoClient(input: pty.master, output: pty.master) {
                pty.signal(SIGTERM)
                _ = pty.waitForExit()
            }
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.environment = env
        let toChild = Pipe(), fromChild = Pipe()
        process.standardInput = toChild
        process.standardOutput = fromChild
        process.standardError = FileHandle.nullDevice
        try process.run()
        return EchoClient(input: toChild.fileHandleForWriting.fileDescriptor, output: fromChild.fileHandleForReading.fileDescriptor) {
            process.terminate()
            process.waitUntilExit()
        }
    }

    func write(_ byte: UInt8) {
        _ = FileDescriptorIO.writeAll(input, [byte])
    }

    /// Reads until `byte` shows up or `timeout` seconds pass; returns whether it did.
    func awaitByte(_ byte: UInt8, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var fds = [pollfd(fd: output, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 1, 100) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(output, $0.baseAddress, $0.count) }
            if n < 0 && errno == EAGAIN { continue }
            if n <= 0 { return false }
            if buffer[0..<n].contains(byte) { return true }
        }
        return false
    }
}

/// Types `count` letters with random 5–25 ms gaps, each after the previous one's echo; returns the echo
/// times in milliseconds.
/// `typing` is called once warmed up, just before the first timed keystroke.
func measureEcho(_ client: EchoClient, count: Int, typing: () -> Void = {}) throws -> [Double] {
    // Warm up until the far end echoes at all.
    var ready = false
    for _ in 0..<100 where !ready {
        client.write(UInt8(ascii: "z"))
        ready = client.awaitByte(UInt8(ascii: "z"), timeout: 0.3)
    }
    guard ready else { throw BenchError(description: "no echo from the session") }
    usleep(300_000)
    var drainBuffer = [UInt8](repeating: 0, count: 65536)
    var fds = [pollfd(fd: client.output, events: Int16(POLLIN), revents: 0)]
    while poll(&fds, 1, 50) > 0 { _ = drainBuffer.withUnsafeMutableBytes { Glibc.read(client.output, $0.baseAddress, $0.count) } }
    var samples: [Double] = []
    typing()
    let letters = Array("abcdefghijklmnopqrstuvwxy".utf8)
    for i in 0..<count {
        usleep(useconds_t(Int.random(in: 5_000...25_000)))
        let letter = letters[i % letters.count]
        let started = DispatchTime.now().uptimeNanoseconds
        client.write(letter)
        guard client.awaitByte(letter, timeout: 5) else { throw BenchError(description: "keystroke \(i) was not echoed") }
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6)
    }
    return samples
}

/// A host sharing `cat` on its embedded relay (or, `separateRelay`, on a relay process it links to over ssh, pinned),
/// one viewer typing: stock OpenSSH (`viewer` "ssh") or `swiftmate join` over tcp ("tcp").
/// Also returns, for the host and the relay process, the CPU time and each thread's context switches per keystroke.
func swiftmateEchoLatency(count: Int, viewer kind: String = "ssh", viaPTY: Bool, separateRelay: Bool = false) throws -> (echo: [Double], switches: String) {
    let socket = dir + "/latency.sock"
    var link: [String] = []
    var relay: PTYProcess?
    if separateRelay {
        let (started, _, sshURL, fingerprints) = try startRelay(tag: "latency-\(viaPTY)")
        relay = started
        link = ["--relay", sshURL] + fingerprints.flatMap { ["--relay-fingerprint", $0] }
    }
    let host = try PTYProcess(command: [binary, "-S", socket] + link + ["new-session", "cat"], environment: env, cols: 120, rows: 40)
    _ = drain(host)
    defer {
        host.signal(SIGTERM)
        _ = host.waitForExit()
        relay?.signal(SIGTERM)
        _ = relay?.waitForExit()
    }
    while !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
    _ = try ControlClient.send("wait-ready", to: socket)
    let json = try JSONSerialization.jsonObject(with: Data(try ControlClient.send("status-json", to: socket).utf8)) as? [String: Any]
    let strings = json?["connectionStrings"] as? [String: String] ?? [:]
    let viewerCommand: [String]
    if kind == "tcp" {
        viewerCommand = [binary, "join", String((strings["tcp session"] ?? "").split(separator: " ").last ?? "")]
    } else {
        let command = (strings["ssh session"] ?? "").split(separator: " ")
        guard command.count == 4 else { throw BenchError(description: "no ssh connection string: \(strings)") }
        viewerCommand = sshViewer(port: String(command[2]), token: String(command[3].split(separator: "@").first ?? ""))
    }
    let viewer = try EchoClient.start(viewerCommand, viaPTY: viaPTY || kind == "tcp")
    defer { viewer.stop() }
    // Typing starts once the viewer has joined: before that, a client on a PTY has its terminal's own echo (its
    // line discipline is not in raw mode yet), which the warm-up would take for the session's.
    let joinDeadline = Date().addingTimeInterval(20)
    while !(try ControlClient.send("status-json", to: socket)).contains("\"peer\"") {
        if Date() > joinDeadline { throw BenchError(description: "the viewer did not join (\(viewerCommand.joined(separator: " ")))") }
        usleep(20_000)
    }
    let processes = [("host", host.pid)] + (relay.map { [("relay", $0.pid)] } ?? [])
    var before: [ThreadSwitches] = []
    let echo = try measureEcho(viewer, count: count) { before = processes.map { ThreadSwitches(pid: $0.1) } }
    let report = zip(processes, before).map { process, before in
        "\(process.0): " + ThreadSwitches(pid: process.1).perEvent(since: before, events: count)
    }
    return (echo, report.joined(separator: "; "))
}

/// The context switches (voluntary and not) of each thread of a process, by thread id, with the thread's name, and
/// the CPU time all its threads have had (schedstat, in nanoseconds).
struct ThreadSwitches {
    var threads: [String: (name: String, switches: Int, cpuNanoseconds: Int)] = [:]
    /// All its threads' CPU time.
    var cpuNanoseconds: Int { threads.values.reduce(0) { $0 + $1.cpuNanoseconds } }

    init(pid: pid_t) {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for tid in tasks {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8) else { continue }
            var name = "?", switches = 0
            for line in status.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2 else { continue }
                if parts[0] == "Name" { name = parts[1] }
                if parts[0].hasSuffix("ctxt_switches") { switches += Int(parts[1]) ?? 0 }
            }
            let schedstat = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/schedstat", encoding: .utf8)) ?? ""
            threads[tid] = (name, switches, Int(schedstat.split(separator: " ").first ?? "") ?? 0)
        }
    }

    /// Per thread name (threads of one name summed), switches since `before` divided by `events`; the busiest first,
    /// those under 0.05 per event left out.
    func perEvent(since before: ThreadSwitches, events: Int) -> String {
        var byName: [String: Int] = [:]
        var cpuNanoseconds = 0 // of the threads alive at both ends (one that ended took its count with it)
        for (tid, thread) in threads {
            byName[thread.name, default: 0] += thread.switches - (before.threads[tid]?.switches ?? 0)
            cpuNanoseconds += thread.cpuNanoseconds - (before.threads[tid]?.cpuNanoseconds ?? 0)
        }
        let rows = byName.map { ($0.key, Double($0.value) / Double(max(1, events))) }.filter { $0.1 >= 0.05 }.sorted { $0.1 > $1.1 }
        let total = rows.reduce(0) { $0 + $1.1 }
        let cpu = Double(cpuNanoseconds) / 1000 / Double(max(1, events))
        return String(format: "CPU %.0f µs and %.1f switches per keystroke", cpu, total) + " (" + rows.map { String(format: "%@ %.1f", $0.0, $0.1) }.joined(separator: ", ") + ")"
    }
}

/// The floor: one OpenSSH hop to an sshd the bench starts on 127.0.0.1, running `cat` on a PTY. With `jump`, OpenSSH's
/// own way through a relay, for reference: `ssh -J` through that sshd to itself (the client's `ssh -W` and the jump
/// host's sshd forward the bytes, encrypted end to end).
/// Also returns the CPU time per keystroke of sshd's processes (the jump host's too).
func openSSHEchoLatency(count: Int, viaPTY: Bool, jump: Bool = false) throws -> (echo: [Double], sshdCPU: Double) {
    guard FileManager.default.fileExists(atPath: "/usr/sbin/sshd") else {
        throw BenchError(description: "the floor needs sshd: apt-get install openssh-server (benchmarks/README.md)")
    }
    let sshd = dir + "/sshd"
    try? FileManager.default.removeItem(atPath: sshd)
    try FileManager.default.createDirectory(atPath: sshd, withIntermediateDirectories: true)
    try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
    _ = system("ssh-keygen -q -t ed25519 -N '' -f \(sshd)/host_key && ssh-keygen -q -t ed25519 -N '' -f \(sshd)/client_key && cp \(sshd)/client_key.pub \(sshd)/authorized_keys")
    let port = 20000 + Int(getpid() % 20000)
    let user = String(cString: getpwuid(getuid()).pointee.pw_name)
    try """
        Port \(port)
        ListenAddress 127.0.0.1
        HostKey \(sshd)/host_key
        PidFile \(sshd)/sshd.pid
        AuthorizedKeysFile \(sshd)/authorized_keys
        UsePAM no
        PasswordAuthentication no
        KbdInteractiveAuthentication no
        StrictModes no
        PermitRootLogin yes

        """.write(toFile: sshd + "/sshd_config", atomically: true, encoding: .utf8)
    let server = try PTYProcess(command: ["/usr/sbin/sshd", "-D", "-e", "-f", sshd + "/sshd_config"], environment: env, cols: 80, rows: 24)
    let serverTail = drain(server)
    defer {
        server.signal(SIGTERM)
        _ = server.waitForExit()
    }
    usleep(500_000)
    let options = ["-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                   "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-i", sshd + "/client_key"]
    // The jump's own ssh gets the same options through ProxyCommand (-J would give it none of them).
    let through = jump ? ["-o", "ProxyCommand=ssh " + options.joined(separator: " ") + " -W %h:%p -p \(port) \(user)@127.0.0.1"] : []
    let client = try EchoClient.start(["ssh"] + options + through + ["-tt", "-p", String(port), "\(user)@127.0.0.1", "cat"], viaPTY: viaPTY)
    defer { client.stop() }
    do {
        var before = 0
        let echo = try measureEcho(client, count: count) { before = cpuNanoseconds(ofTree: server.pid) }
        return (echo, Double(cpuNanoseconds(ofTree: server.pid) - before) / 1000 / Double(count))
    } catch {
        throw BenchError(description: "\(error); sshd said: \(serverTail.text)")
    }
}

/// The CPU time (nanoseconds) of `pid` and every process below it.
func cpuNanoseconds(ofTree pid: pid_t) -> Int {
    var parents: [pid_t: pid_t] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let child = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        if fields.count > 1, let parent = pid_t(fields[1]) { parents[child] = parent }
    }
    func inTree(_ p: pid_t) -> Bool {
        var p = p
        while p > 1 {
            if p == pid { return true }
            p = parents[p] ?? 0
        }
        return false
    }
    return parents.keys.filter(inTree).reduce(0) { $0 + ThreadSwitches(pid: $1).cpuNanoseconds }
}
