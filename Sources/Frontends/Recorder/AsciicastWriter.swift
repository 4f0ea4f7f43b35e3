// asciicast v2 / v3 lines from session facts: the header and one line per event (no I/O here).
import Foundation

/// Which asciicast version to write.
public enum AsciicastFormat: String, Sendable, CaseIterable {
    /// asciicast v2: absolute event times; what asciinema 2.x plays.
    case v2 = "asciicast-v2"
    /// asciicast v3: intervals between events, `term` object, exit event.
    case v3 = "asciicast-v3"
}

/// The facts an asciicast header holds.
public struct AsciicastHeader: Sendable, Equatable {
    /// Terminal width.
    public var cols: Int
    /// Terminal height.
    public var rows: Int
    /// Unix time of the start, in seconds.
    public var timestamp: Int?
    /// The recorded command line.
    public var command: String?
    /// A title.
    public var title: String?
    /// `TERM` (v3 keeps it in `term.type`, v2 in `env`).
    public var term: String?
    /// Other environment facts (`SHELL`).
    public var environment: [String: String]
    /// Playback idle limit suggested by the recording.
    public var idleTimeLimit: Double?

    /// A header.
    public init(cols: Int, rows: Int, timestamp: Int? = nil, command: String? = nil, title: String? = nil,
                term: String? = nil, environment: [String: String] = [:], idleTimeLimit: Double? = nil) {
        self.cols = cols
        self.rows = rows
        self.timestamp = timestamp
        self.command = command
        self.title = title
        self.term = term
        self.environment = environment
        self.idleTimeLimit = idleTimeLimit
    }
}

/// Builds the lines of one recording. Times are seconds since the start; each call returns one
/// complete line (ending in `\n`) or nothing, so a file cut between writes still parses.
public struct AsciicastWriter: Sendable {
    /// The version being written.
    public let format: AsciicastFormat
    private var outputText = JSONTextEncoder()
    private var inputText = JSONTextEncoder()
    private var lastMicros: Int64 = 0

    /// A writer for `format`.
    public init(format: AsciicastFormat) { self.format = format }

    /// The header line.
    public func headerLine(_ header: AsciicastHeader) -> [UInt8] {
        var fields: [(String, String)] = []
        var env = header.environment
        switch format {
        case .v2:
            fields.append(("version", "2"))
            fields.append(("width", String(header.cols)))
            fields.append(("height", String(header.rows)))
            if let term = header.term { env["TERM"] = term }
        case .v3:
            fields.append(("version", "3"))
            var term = "{\"cols\": \(header.cols), \"rows\": \(header.rows)"
            if let type = header.term { term += ", \"type\": " + String(decoding: JSONTextEncoder.literal(type), as: UTF8.self) }
            fields.append(("term", term + "}"))
        }
        if let t = header.timestamp { fields.append(("timestamp", String(t))) }
        if let limit = header.idleTimeLimit { fields.append(("idle_time_limit", Self.number(limit))) }
        if let c = header.command { fields.append(("command", Self.string(c))) }
        if let t = header.title { fields.append(("title", Self.string(t))) }
        if !env.isEmpty {
            let pairs = env.sorted { $0.key < $1.key }.map { Self.string($0.key) + ": " + Self.string($0.value) }
            fields.append(("env", "{" + pairs.joined(separator: ", ") + "}"))
        }
        return Array(("{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}\n").utf8)
    }

    /// An output event (`o`); empty when the chunk only started a character that the next completes.
    public mutating func output(_ bytes: [UInt8], at time: Double) -> [UInt8] {
        var line: [UInt8] = []
        output(bytes, at: time, into: &line)
        return line
    }

    /// Appends an output event (`o`) to `out`, if there is one yet.
    public mutating func output(_ bytes: [UInt8], at time: Double, into out: inout [UInt8]) {
        let (micros, stamp) = clock(time)
        let start = out.count
        out.append(0x5B)
        out.append(contentsOf: stamp.utf8)
        out.append(contentsOf: [0x2C, 0x20, 0x22, 0x6F, 0x22, 0x2C, 0x20]) // , "o",
        guard outputText.appendLiteral(bytes, to: &out) else {
            out.removeLast(out.count - start)
            return
        }
        out.append(0x5D)
        out.append(0x0A)
        lastMicros = micros
    }

    /// An input event (`i`).
    public mutating func input(_ bytes: [UInt8], at time: Double) -> [UInt8] {
        var literal: [UInt8] = []
        guard inputText.appendLiteral(bytes, to: &literal) else { return [] }
        return event(time, "i", literal)
    }

    /// A resize event (`r`, data `COLSxROWS`).
    public mutating func resize(cols: Int, rows: Int, at time: Double) -> [UInt8] {
        event(time, "r", JSONTextEncoder.literal("\(cols)x\(rows)"))
    }

    /// A marker event (`m`).
    public mutating func marker(_ label: String, at time: Double) -> [UInt8] {
        event(time, "m", JSONTextEncoder.literal(label))
    }

    /// The end: an unfinished character left over becomes U+FFFD; v3 adds the exit event (`x`).
    public mutating func end(exitStatus: Int32?, at time: Double) -> [UInt8] {
        var lines: [UInt8] = []
        var literal: [UInt8] = []
        if outputText.flushLiteral(to: &literal) { lines += event(time, "o", literal) }
        if format == .v3, let status = exitStatus { lines += event(time, "x", JSONTextEncoder.literal(String(status))) }
        return lines
    }

    /// The event's time in microseconds and its stamp as written (v2 absolute, v3 since the last event).
    private func clock(_ time: Double) -> (micros: Int64, stamp: String) {
        let micros = max(Int64((time * 1_000_000).rounded()), lastMicros)
        return (micros, Self.seconds(micros: format == .v2 ? micros : micros - lastMicros))
    }

    private mutating func event(_ time: Double, _ code: String, _ literal: [UInt8]) -> [UInt8] {
        let (micros, stamp) = clock(time)
        lastMicros = micros
        var line = Array("[\(stamp), \"\(code)\", ".utf8)
        line += literal
        line += [0x5D, 0x0A]
        return line
    }

    /// `micros` as seconds with six decimals (`12.000345`).
    static func seconds(micros: Int64) -> String {
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(value)
    }

    private static func string(_ text: String) -> String {
        String(decoding: JSONTextEncoder.literal(text), as: UTF8.self)
    }
}
