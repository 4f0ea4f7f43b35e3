// A custom frontend: live statistics of one session (output rate, viewers, idle time, size, pattern alerts) kept in a JSON file.
import Foundation
import SwiftMateCore
import Synchronization

/// What the `stats` frontend serves: a snapshot written to its `path` (atomically) every `interval_ms`.
public struct SessionStats: Codable, Sendable, Equatable {
    /// The session's id at the relay.
    public var sessionID = ""
    /// The shared command line.
    public var command = ""
    /// The session's window size.
    public var cols: UInt16 = 0
    /// The session's window size.
    public var rows: UInt16 = 0
    /// Output bytes so far.
    public var outputBytes: UInt64 = 0
    /// Output bytes per second over the last interval.
    public var bytesPerSecond: Double = 0
    /// Viewers connected now.
    public var viewers = 0
    /// Viewers that joined so far.
    public var joins = 0
    /// Viewers that left so far.
    public var leaves = 0
    /// Size changes so far.
    public var resizes = 0
    /// Seconds since the last output.
    public var idleSeconds: Double = 0
    /// How many times the alert pattern appeared in the output.
    public var alerts = 0
    /// Whether the session has ended.
    public var ended = false
    /// The command's exit status, once it ended.
    public var exitStatus: Int32?
}

/// The `stats` frontend. YAML: `{stats: {path: /tmp/stats.json, alert: "ERROR", interval_ms: 500}}`.
public final class StatsFrontend: Frontend {
    /// Its options, from YAML.
    public struct Options: Sendable {
        /// Where the JSON snapshot is written.
        public var path: String
        /// Bytes whose appearances in the output are counted as alerts (nil: none).
        public var alert: [UInt8]?
        /// How often the snapshot is rewritten while the session runs.
        public var interval: Duration

        /// Reads `{path, alert, interval_ms}`; errors name the key path.
        public init(_ node: ConfigNode) throws {
            try node.checkKeys(["path", "alert", "interval_ms"])
            guard let path = node["path"] else { throw node.error("stats needs 'path': where to write the JSON snapshot") }
            self.path = try path.string()
            if let alert = try node["alert"]?.string() {
                guard !alert.isEmpty, alert.utf8.count <= 256 else { throw node["alert"]!.error("alert must be 1-256 bytes") }
                self.alert = Array(alert.utf8)
            }
            interval = .milliseconds(try node["interval_ms"]?.int(in: 50...60_000) ?? 500)
        }
    }

    private struct State {
        var stats = SessionStats()
        var lastOutput = ContinuousClock.now
        var bytesAtLastTick: UInt64 = 0
        var carry: [UInt8] = []
    }

    private let options: Options
    private let state = Mutex(State())
    private let ticker = Mutex<Task<Void, Never>?>(nil)

    /// A frontend with `options`.
    public init(options: Options) {
        self.options = options
    }

    /// `stats`.
    public var name: String { "stats" }

    /// The latest snapshot.
    public var snapshot: SessionStats {
        state.withLock { s in
            var stats = s.stats
            stats.idleSeconds = (ContinuousClock.now - s.lastOutput) / .seconds(1)
            return stats
        }
    }

    /// Starts rewriting the snapshot every interval (it stops at the session's end).
    public func attach(injector: any InputInjector) async throws {
        let interval = options.interval
        let seconds = interval / .seconds(1)
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                self.state.withLock { s in
                    s.stats.bytesPerSecond = Double(s.stats.outputBytes - s.bytesAtLastTick) / seconds
                    s.bytesAtLastTick = s.stats.outputBytes
                }
                try? self.write()
            }
        }
        ticker.withLock { $0 = task }
    }

    /// Counts the event; joins, leaves, resizes and the end are written at once.
    public func handle(_ event: SessionEvent) async throws {
        var writeNow = true
        state.withLock { s in
            switch event {
            case .start(let info):
                s.stats.sessionID = info.sessionID
                s.stats.command = info.command.joined(separator: " ")
                (s.stats.cols, s.stats.rows) = (info.cols, info.rows)
            case .output(_, let bytes):
                s.stats.outputBytes += UInt64(bytes.count)
                s.lastOutput = .now
                if let alert = options.alert { s.stats.alerts += Self.count(alert, in: bytes, carry: &s.carry) }
                writeNow = false
            case .resize(let cols, let rows):
                (s.stats.cols, s.stats.rows) = (cols, rows)
                s.stats.resizes += 1
            case .viewerJoined:
                s.stats.viewers += 1
                s.stats.joins += 1
            case .viewerLeft:
                s.stats.viewers = max(0, s.stats.viewers - 1)
                s.stats.leaves += 1
            case .end(let status):
                s.stats.ended = true
                s.stats.exitStatus = status
            case .input, .marker:
                writeNow = false
            }
        }
        if case .end = event { ticker.withLock { $0?.cancel() } }
        if writeNow { try write() }
    }

    /// Appearances of `pattern` in `bytes`, including ones that straddle the previous chunk (kept in `carry`).
    public static func count(_ pattern: [UInt8], in bytes: [UInt8], carry: inout [UInt8]) -> Int {
        let text = carry + bytes
        var found = 0, i = 0
        while i + pattern.count <= text.count {
            if text[i] == pattern[0] && text[i..<(i + pattern.count)].elementsEqual(pattern) {
                found += 1
                i += pattern.count
            } else {
                i += 1
            }
        }
        // Positions from `i` on were not tried as a match start: the next chunk may complete one there.
        carry = Array(text[min(i, text.count)...])
        return found
    }

    private func write() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: options.path), options: .atomic)
    }
}

extension PluginRegistry {
    /// Registers the `stats` frontend, so YAML can choose it: `host.frontends: [{stats: {path: …}}]`.
    public mutating func registerStats() {
        register(frontend: "stats", check: { _ = try StatsFrontend.Options($0) }) { options, _ in
            StatsFrontend(options: try StatsFrontend.Options(options))
        }
    }
}
