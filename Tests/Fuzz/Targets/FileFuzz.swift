// Fuzz targets for files a person hands SwiftMate: recordings to play and configuration.
import Foundation
import SwiftMateCore
import SwiftMateCodecs
import SwiftMateRecorder
import SwiftMateANSI

/// One scratch file per process for targets whose reader takes a path.
private let scratchPath: String = {
    let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    return "\(dir)/swiftmate-fuzz-\(getpid()).cast"
}()

enum AsciicastFuzz {
    /// The reader returns events up to the first bad line and then a line-numbered error; playback timing
    /// of what it returns is finite and never negative.
    static func run(_ data: [UInt8]) {
        guard FileManager.default.createFile(atPath: scratchPath, contents: Data(data)) else { preconditionFailure("cannot write \(scratchPath)") }
        defer { unlink(scratchPath) }
        guard let reader = try? AsciicastReader(path: scratchPath, maxLineBytes: 1 << 16) else { return }
        var timing = PlaybackTiming(speed: Double(data.first ?? 1) / 16 + 0.01, idleTimeLimit: data.count % 2 == 0 ? 0.5 : nil)
        var events = 0
        while events < 10_000, let event = try? reader.next() {
            let wait = timing.wait(before: event.time)
            precondition(wait.isFinite && wait >= 0, "playback would wait \(wait) s")
            events += 1
        }
    }
}

enum ConfigFuzz {
    private static let registry: PluginRegistry = {
        var r = PluginRegistry()
        r.registerBuiltinCodecs()
        r.registerRecorder()
        r.registerANSI()
        // The network transports live in their own modules (swift-nio, libssh); their names are enough here.
        r.register(transport: "tcp") { _ in NullTransport() }
        r.register(transport: "ssh") { _ in NullTransport() }
        return r
    }()

    /// Any text is a configuration or one error naming the file; never a crash, never a runaway allocation.
    static func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        do {
            _ = try SwiftMateConfig.parse(yaml: text, file: "fuzz.yaml", registry: registry)
        } catch let error as SwiftMateError {
            precondition(error.code == .badConfig || error.code == .unknownPlugin || error.code == .badURL, "unexpected error kind \(error.code)")
            precondition(!error.message.contains("\n"), "a config error of more than one line: \(error.message)")
        } catch {
            preconditionFailure("a config error that is not a SwiftMateError: \(error)")
        }
    }
}

/// A transport that does nothing (for a registry that only checks names).
private struct NullTransport: Transport {
    var name: String { "null" }
    func connect(to endpoint: Endpoint) async throws -> Connection { throw SwiftMateError(.connectionLost, "fuzzing") }
    func listen(on endpoint: Endpoint) async throws -> any Listener { throw SwiftMateError(.connectionLost, "fuzzing") }
}
