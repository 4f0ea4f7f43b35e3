// The `recorder` frontend: writes a session to an asciicast file, one flushed line per event.
import Foundation
import Glibc
import SwiftMateCore
import Synchronization

/// Records a session as asciicast v2 (default) or v3.
///
/// Every event is one `write(2)` of one complete line, so a host or relay that is killed loses at
/// most the event in flight and the file still plays. The file is created with mode 0600 (it may
/// hold what was typed) and never overwritten unless `overwrite` is set: when a per-session name (`{session}`,
/// `{date}`) exists, as for a session resumed after a relay restart, the file is `NAME-part2.cast` and on.
public final class AsciicastRecorder: Frontend {
    /// The recorder's YAML options.
    public struct Options: Sendable {
        /// Path template: `{session}`, `{date}` (UTC, `20261126-153000`), `{pid}`, `{hostname}`; `~` is home.
        public var path: String
        /// asciicast version.
        public var format: AsciicastFormat = .v2
        /// Record keystrokes (`i` events; at the relay, a marker says which viewer typed).
        public var recordInput = false
        /// Title in the header.
        public var title: String?
        /// Replace an existing file instead of refusing to start.
        public var overwrite = false
        /// `idle_time_limit` suggested to players.
        public var idleTimeLimit: Double?

        /// Options writing to `path`.
        public init(path: String) { self.path = path }

        /// Reads `{path | directory, format, record_input, title, overwrite, idle_time_limit}`; with
        /// `directory` the file is `DIR/{date}-{session}.cast`.
        public init(_ node: ConfigNode) throws {
            try node.checkKeys(["path", "directory", "format", "record_input", "title", "overwrite", "idle_time_limit"])
            if let p = node["path"] {
                path = try p.string()
            } else if let d = node["directory"] {
                path = try d.string() + "/{date}-{session}.cast"
            } else {
                throw node.error("the recorder needs `path: FILE` (templates {session}, {date}) or `directory: DIR`")
            }
            if let f = node["format"] {
                format = AsciicastFormat(rawValue: try f.choice(AsciicastFormat.allCases.map(\.rawValue))) ?? .v2
            }
            if let r = node["record_input"] { recordInput = try r.bool() }
            if let t = node["title"] { title = try t.string() }
            if let o = node["overwrite"] { overwrite = try o.bool() }
            if let i = node["idle_time_limit"] { idleTimeLimit = Double(try i.int(in: 1...86_400)) }
        }
    }

    private struct State {
        var writer: AsciicastWriter
        var started: ContinuousClock.Instant?
        var lastTypist: UInt32?
        var buffer: [UInt8] = [] // reused for every batch
        var viewers: [UInt32: String] = [:]
        var closed = false
    }

    private let options: Options
    private let context: FrontendContext
    private let fd: Int32
    private let state: Mutex<State>
    /// The file being written.
    public let path: String

    /// Creates the file now, so a bad path fails at start-up rather than mid-session.
    public init(options: Options, context: FrontendContext) throws {
        self.options = options
        self.context = context
        var path = Self.expand(options.path, session: context.sessionID)
        let dir = FilePaths.parent(of: path)
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (options.overwrite ? O_TRUNC : O_EXCL)
        var fd = open(path, flags, 0o600)
        // A name made for the session that exists already is an earlier part of the same session (resumed after a
        // relay restart): this part goes beside it, `NAME-part2.cast` and on, and the earlier part stays whole.
        let perSession = options.path.contains("{session}") || options.path.contains("{date}")
        let first = path
        var part = 2
        while fd < 0, errno == EEXIST, perSession, part < 1000 {
            path = Self.part(part, of: first)
            fd = open(path, flags, 0o600)
            part += 1
        }
        self.path = path
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            let hint = errno == EEXIST ? "; remove it, pick another name (e.g. with {date}) or set overwrite: true" : ""
            throw SwiftMateError(.system, "cannot create recording \(path): \(why)\(hint)")
        }
        self.fd = fd
        state = Mutex(State(writer: AsciicastWriter(format: options.format)))
    }

    deinit { closeFile() }

    /// `recorder`.
    public var name: String { "recorder" }

    /// Nothing to attach: the recorder only listens.
    public func attach(injector: any InputInjector) async throws {}

    /// Writes the event's line(s).
    public func handle(_ event: SessionEvent) async throws {
        try await handle(batch: [event])
    }

    /// Writes the lines of events that queued up together with one `write(2)`; adjacent output events
    /// become one `o` event (they arrived while the previous write was in progress).
    public func handle(batch: [SessionEvent]) async throws {
        var merged: [SessionEvent] = []
        var output: (seq: UInt64, bytes: [UInt8])?
        for event in batch {
            if case .output(let seq, let bytes) = event {
                if output == nil { output = (seq, bytes) } else { output!.bytes += bytes }
                continue
            }
            if let o = output { merged.append(.output(seq: o.seq, bytes: o.bytes)) }
            output = nil
            merged.append(event)
        }
        if let o = output { merged.append(.output(seq: o.seq, bytes: o.bytes)) }
        var ended = false
        try state.withLock { s in
            var out = s.buffer
            s.buffer = []
            out.removeAll(keepingCapacity: true)
            for event in merged {
                self.append(event, to: &out, state: &s)
                if case .end = event { ended = true }
            }
            defer { s.buffer = out.capacity > 4 << 20 ? [] : out } // keep up to 4 MiB for the next batch
            try write(out)
        }
        if ended { closeFile() }
    }

    private func append(_ event: SessionEvent, to out: inout [UInt8], state s: inout State) {
        if case .output(_, let bytes) = event, s.started != nil, !s.closed {
            s.writer.output(bytes, at: elapsed(since: s.started!), into: &out)
            return
        }
        out += lines(for: event, state: &s)
    }

    private func elapsed(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    private func lines(for event: SessionEvent, state s: inout State) -> [UInt8] {
        if s.closed { return [] }
        var lead: [UInt8] = []
        if s.started == nil {
            let info: SessionInfo
            if case .start(let given) = event { info = given } else {
                info = SessionInfo(sessionID: context.sessionID, cols: 80, rows: 24, command: [])
            }
            s.started = .now
            lead = s.writer.headerLine(header(info))
            if case .start = event { return lead }
        }
        let t = elapsed(since: s.started!)
        switch event {
        case .start:
            return lead
        case .output(_, let bytes):
            let line = s.writer.output(bytes, at: t)
            return lead.isEmpty ? line : lead + line
        case .input(let viewer, let bytes):
            guard options.recordInput else { return lead }
            if context.side == "relay" && s.lastTypist != viewer {
                s.lastTypist = viewer
                lead += s.writer.marker("input from viewer \(viewer) (\(s.viewers[viewer] ?? "unknown peer"))", at: t)
            }
            return lead + s.writer.input(bytes, at: t)
        case .resize(let cols, let rows):
            return lead + s.writer.resize(cols: Int(cols), rows: Int(rows), at: t)
        case .viewerJoined(let viewer, let readOnly, let peer):
            s.viewers[viewer] = peer
            return lead + s.writer.marker("viewer \(viewer) joined from \(peer)\(readOnly ? " (read-only)" : "")", at: t)
        case .viewerLeft(let viewer, let reason):
            return lead + s.writer.marker("viewer \(viewer) left: \(reason)", at: t)
        case .marker(let label):
            return lead + s.writer.marker(label, at: t)
        case .end(let status):
            s.closed = true
            return lead + s.writer.end(exitStatus: status, at: t)
        }
    }

    private func header(_ info: SessionInfo) -> AsciicastHeader {
        var env = info.environment
        let term = env.removeValue(forKey: "TERM")
        return AsciicastHeader(cols: Int(info.cols), rows: Int(info.rows), timestamp: Int(Date().timeIntervalSince1970),
                               command: info.command.isEmpty ? nil : Self.shellJoin(info.command),
                               title: options.title, term: term, environment: env, idleTimeLimit: options.idleTimeLimit)
    }

    private func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SwiftMateError(.system, "cannot write recording \(path): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    private let closedFlag = Mutex(false)

    private func closeFile() {
        let already = closedFlag.withLock { c -> Bool in
            defer { c = true }
            return c
        }
        if !already { Glibc.close(fd) }
    }

    /// `path` with `-partN` before its extension (`s.cast` → `s-part2.cast`).
    public static func part(_ n: Int, of path: String) -> String {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return path + "-part\(n)" }
        let stem = path.dropLast(name.distance(from: dot, to: name.endIndex))
        return stem + "-part\(n)" + name[dot...]
    }

    /// `template` with `{session}`, `{date}`, `{pid}`, `{hostname}` and a leading `~` filled in.
    public static func expand(_ template: String, session: String, now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        var path = template
            .replacingOccurrences(of: "{session}", with: session.isEmpty ? "session" : session)
            .replacingOccurrences(of: "{date}", with: formatter.string(from: now))
            .replacingOccurrences(of: "{pid}", with: String(getpid()))
            .replacingOccurrences(of: "{hostname}", with: ProcessInfo.processInfo.hostName)
        if path == "~" || path.hasPrefix("~/") {
            path = FileManager.default.homeDirectoryForCurrentUser.path + path.dropFirst()
        }
        return path
    }

    /// A command line as a shell would read it back (`vim 'my file'`).
    static func shellJoin(_ words: [String]) -> String {
        words.map { word in
            let safe = !word.isEmpty && word.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "-_./=:,+@%".unicodeScalars.contains($0)
            }
            return safe ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}

extension AsciicastRecorder.Options {
    /// Checks, before a session starts, that the file can be made: its directory can be created and written, and a
    /// path that names no `{session}` or `{date}` is not an existing file (unless `overwrite`). Throws at `node`.
    public func checkPath(at node: ConfigNode) throws {
        let sample = AsciicastRecorder.expand(path, session: "session")
        var info = stat()
        if stat(sample, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { throw node.error("the recording path \(sample) is a directory; give a file name") }
            if !overwrite && !path.contains("{session}") && !path.contains("{date}") {
                throw node.error("the recording \(sample) exists; remove it, pick another name (e.g. with {date}) or allow replacing it (--overwrite, overwrite: true)")
            }
        }
        // The nearest directory that exists must let us make what is missing below it.
        var dir = FilePaths.parent(of: sample)
        while true {
            if dir.isEmpty { dir = "." }
            if stat(dir, &info) == 0 { break }
            if dir == "/" || dir == "." { throw node.error("cannot record to \(sample): none of its directories can be read") }
            dir = FilePaths.parent(of: dir)
        }
        if (info.st_mode & S_IFMT) != S_IFDIR {
            throw node.error("cannot record to \(sample): \(dir) is not a directory")
        }
        if access(dir, W_OK | X_OK) != 0 {
            throw node.error("cannot record to \(sample): \(dir) is not writable (\(String(cString: strerror(errno)).lowercased())); give another path")
        }
    }
}

extension PluginRegistry {
    /// Registers the `recorder` frontend.
    public mutating func registerRecorder() {
        register(frontend: "recorder", check: { node in try AsciicastRecorder.Options(node).checkPath(at: node) }) { node, context in
            try AsciicastRecorder(options: AsciicastRecorder.Options(node), context: context)
        }
    }
}
