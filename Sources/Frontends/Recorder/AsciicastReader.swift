// Reads asciicast v2 and v3 files line by line, with a bound on line length and errors that name the line.
import Foundation
import Glibc
import SwiftMateCore

/// One event of a recording, with its time since the start (v3 intervals already summed).
public struct AsciicastEvent: Sendable, Equatable {
    /// Seconds since the start of the recording.
    public var time: Double
    /// `o` output, `i` input, `r` resize, `m` marker, `x` exit (v3); others are passed through.
    public var code: String
    /// The event's data.
    public var data: String

    /// An event.
    public init(time: Double, code: String, data: String) {
        self.time = time
        self.code = code
        self.data = data
    }
}

/// Streams a recording's header and events. Lines longer than `maxLineBytes` are an error, never
/// read whole into memory.
public final class AsciicastReader {
    /// Version found in the header (2 or 3).
    public private(set) var version = 0
    /// The header.
    public private(set) var header = AsciicastHeader(cols: 80, rows: 24)
    /// The file, for messages.
    public let path: String

    private let fd: Int32
    private let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false
    private var lineNumber = 0
    private var clockMicros: Int64 = 0
    private var lastTime = 0.0

    /// Opens `path` and reads its header.
    public init(path: String, maxLineBytes: Int = 4 << 20) throws {
        self.path = path
        self.maxLineBytes = maxLineBytes
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw SwiftMateError(.system, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        try readHeader()
    }

    deinit { close(fd) }

    private func fail(_ what: String) -> SwiftMateError {
        SwiftMateError(.badRecording, "\(path):\(lineNumber): \(what)")
    }

    /// The next line without its newline, and whether it ended with one; nil at the end of the file.
    private func nextLine() throws -> (line: ArraySlice<UInt8>, complete: Bool)? {
        while true {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                let line = buffer[start..<nl]
                start = nl + 1
                lineNumber += 1
                return (line, true)
            }
            if buffer.count - start > maxLineBytes {
                lineNumber += 1
                throw fail("a line longer than \(maxLineBytes) bytes; this is not an asciicast file or it is corrupt")
            }
            if atEOF {
                guard start < buffer.count else { return nil }
                let line = buffer[start...]
                start = buffer.count
                lineNumber += 1
                return (line, false)
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 256 << 10)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { atEOF = true } else { buffer += chunk[0..<n] }
        }
    }

    private func json(_ line: ArraySlice<UInt8>, complete: Bool) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])
        } catch {
            if !complete { throw fail("the recording ends in the middle of a line (cut short while it was written)") }
            throw fail("not valid JSON: \(String(decoding: line.prefix(80), as: UTF8.self))")
        }
    }

    private func readHeader() throws {
        var first: (line: ArraySlice<UInt8>, complete: Bool)?
        repeat { first = try nextLine() } while first.map { Self.isBlank($0.line) } ?? false
        guard let first else { throw fail("the file is empty; an asciicast file starts with a JSON header line") }
        guard let object = try json(first.line, complete: first.complete) as? [String: Any] else {
            throw fail("the first line is not a JSON object; an asciicast file starts with its header")
        }
        guard let v = object["version"] as? Int else { throw fail("the header has no version; is this an asciicast file?") }
        if v == 1 { throw fail("asciicast v1 is not supported; only v2 and v3 (what asciinema 2 and 3 write)") }
        var h = AsciicastHeader(cols: 80, rows: 24)
        switch v {
        case 2:
            guard let w = object["width"] as? Int, let r = object["height"] as? Int else { throw fail("the v2 header needs width and height") }
            (h.cols, h.rows) = (w, r)
            var env = object["env"] as? [String: String] ?? [:]
            h.term = env.removeValue(forKey: "TERM")
            h.environment = env
        case 3:
            guard let term = object["term"] as? [String: Any], let c = term["cols"] as? Int, let r = term["rows"] as? Int else {
                throw fail("the v3 header needs term.cols and term.rows")
            }
            (h.cols, h.rows) = (c, r)
            h.term = term["type"] as? String
            h.environment = object["env"] as? [String: String] ?? [:]
        default:
            throw fail("asciicast version \(v) is not supported; only 2 and 3")
        }
        guard (1...10_000).contains(h.cols), (1...10_000).contains(h.rows) else { throw fail("the size \(h.cols)x\(h.rows) is not a terminal size") }
        h.timestamp = object["timestamp"] as? Int
        h.command = object["command"] as? String
        h.title = object["title"] as? String
        h.idleTimeLimit = (object["idle_time_limit"] as? NSNumber)?.doubleValue
        version = v
        header = h
    }

    /// The next event, or nil at the end. Throws, naming the line, on a corrupt or cut-short event.
    public func next() throws -> AsciicastEvent? {
        while let (line, complete) = try nextLine() {
            if Self.isBlank(line) || (version == 3 && line.first == 0x23) { continue } // v3 allows `#` comments
            guard let array = try json(line, complete: complete) as? [Any], array.count >= 3 else {
                throw fail("an event is a JSON array [time, code, data]")
            }
            guard let number = array[0] as? NSNumber, let code = array[1] as? String, let data = array[2] as? String else {
                throw fail("an event is [time (number), code (text), data (text)]")
            }
            let value = number.doubleValue
            guard value.isFinite, value >= 0 else { throw fail("the event time \(value) is not a time") }
            let time: Double
            if version == 3 {
                clockMicros += Int64((value * 1_000_000).rounded())
                time = Double(clockMicros) / 1_000_000
            } else {
                time = max(value, lastTime) // asciinema's own files are in order; a step back is held, not replayed
            }
            lastTime = time
            return AsciicastEvent(time: time, code: code, data: data)
        }
        return nil
    }

    /// Every remaining event (for tests and small files).
    public func readAll() throws -> [AsciicastEvent] {
        var events: [AsciicastEvent] = []
        while let e = try next() { events.append(e) }
        return events
    }

    private static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }
}
