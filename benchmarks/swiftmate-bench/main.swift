// swiftmate-bench: host-side time of `cat` of a 55 MB file in a shared shell with one TCP joiner,
// against a bare PTY drain of the same file, in the same run; plus bytes sent host→relay per codec.
// Run: swift build -c release && swift run -c release swiftmate-bench [--lines N] [--codecs lz4,zlib,none]
import Foundation
import Glibc
import SwiftMateSystem

var lines = 7_000_000
var codecs = ["lz4", "zlib", "none"]
var arguments = CommandLine.arguments.dropFirst()
while let a = arguments.popFirst() {
    switch a {
    case "--lines": lines = Int(arguments.popFirst() ?? "") ?? lines
    case "--codecs": codecs = (arguments.popFirst() ?? "").split(separator: ",").map(String.init)
    default: print("usage: swiftmate-bench [--lines N] [--codecs lz4,zlib,none]"); exit(2)
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

/// Drains a PTY on a thread until it closes.
func drain(_ pty: PTYProcess) -> Thread {
    let t = Thread {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        while pty.read(into: buffer) > 0 {}
        buffer.deallocate()
    }
    t.start()
    return t
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


func shared(codec: String) throws -> (seconds: Double, bytes: Int) {
    // Port 0: the relay picks a free port and logs "listening on tcp://127.0.0.1:PORT".
    let relayLog = dir + "/relay-\(codec).log"
    let relay = try PTYProcess(command: ["sh", "-c", "exec \(binary) relay --listen tcp://127.0.0.1:0 > \(relayLog) 2>&1"],
                               environment: env, cols: 80, rows: 24)
    var url = ""
    while url.isEmpty {
        usleep(20_000)
        let log = (try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? ""
        if let r = log.range(of: "listening on ") { url = String(log[r.upperBound...].prefix { !$0.isWhitespace }) }
    }
    let socket = dir + "/host-\(codec).sock"
    let host = try PTYProcess(command: [binary, "-S", socket, "--relay", url, "--codecs", codec, "new-session"] + timedCat(codec),
                              environment: env, cols: 120, rows: 40)
    _ = drain(host)
    while !FileManager.default.fileExists(atPath: socket) { usleep(20_000) }
    _ = try ControlClient.send("wait-ready", to: socket)
    let status = try ControlClient.send("status-json", to: socket)
    let json = try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any]
    let strings = json?["connectionStrings"] as? [String: String] ?? [:]
    let joinURL = String((strings["tcp session"] ?? "").split(separator: " ").last ?? "")
    let joiner = try PTYProcess(command: [binary, "join", "--codecs", codec, joinURL], environment: env, cols: 120, rows: 40)
    _ = drain(joiner)
    while !(try ControlClient.send("status-json", to: socket)).contains("\"peer\"") { usleep(20_000) }
    _ = FileManager.default.createFile(atPath: dir + "/\(codec).go", contents: nil)
    guard let r = waitForFile(dir + "/\(codec).result"), let ns = Double(r.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw CocoaError(.fileReadUnknown) }
    _ = host.waitForExit()
    _ = joiner.waitForExit()
    relay.signal(SIGTERM)
    _ = relay.waitForExit()
    let log = (try? String(contentsOfFile: relayLog, encoding: .utf8)) ?? ""
    let bytes = log.split(separator: "\n").compactMap { line -> Int? in
        guard let r = line.range(of: "received ") else { return nil }
        return Int(line[r.upperBound...].split(separator: " ").first ?? "")
    }.last ?? -1
    return (ns / 1e9, bytes)
}

print("file: \(size) bytes (seq 1 \(lines)); binary: \(binary)")
for codec in codecs {
    let b = try bare()
    let s = try shared(codec: codec)
    let b2 = try bare()
    let base = min(b, b2)
    print(String(format: "codec %-4@  bare PTY drain %.3f s (%.3f, %.3f)  shared with 1 tcp joiner %.3f s  ratio %.2f  host→relay %d bytes (%.1f%% of output)",
                 codec as NSString, base, b, b2, s.seconds, s.seconds / base, s.bytes, Double(s.bytes) * 100 / Double(size)))
}
