// The fuzz targets: each takes arbitrary bytes and must neither trap nor break the property it checks.
import Foundation

/// One fuzz target: a name (`benchmarks/fuzz.sh NAME`, `Tests/Fuzz/corpus/NAME`) and what it runs per input.
///
/// A target throws nothing and returns nothing: bad input must end in a clean error inside the code under
/// test. A property that does not hold is a `preconditionFailure`, which libFuzzer reports as a crash.
public struct FuzzTarget: Sendable {
    /// The registry name.
    public let name: String
    /// What it covers, for `--list`.
    public let summary: String
    /// Runs one input (blocking the calling thread until it is done: libFuzzer's way).
    public let run: @Sendable ([UInt8]) -> Void
    /// Runs one input from async code without blocking a thread, for targets that run tasks (the relay);
    /// nil: `run` does no waiting.
    public let play: (@Sendable ([UInt8]) async -> Void)?

    init(name: String, summary: String, run: @escaping @Sendable ([UInt8]) -> Void, play: (@Sendable ([UInt8]) async -> Void)? = nil) {
        self.name = name
        self.summary = summary
        self.run = run
        self.play = play
    }

    /// Every target.
    public static let all: [FuzzTarget] = [
        FuzzTarget(name: "frame", summary: "length-prefixed frame decoder, fed in pieces of every size", run: FrameFuzz.run),
        FuzzTarget(name: "message", summary: "msgpack message decoder (and the round trip of what it accepts)", run: MessageFuzz.run),
        FuzzTarget(name: "lz4", summary: "lz4 decompressor on arbitrary frames, and compress/decompress round trips", run: CodecFuzz.lz4),
        FuzzTarget(name: "zlib", summary: "zlib decompressor on arbitrary frames, and compress/decompress round trips", run: CodecFuzz.zlib),
        FuzzTarget(name: "screen", summary: "VT parser and screen writer, resizes, keyframes and clipped/padded drawing", run: ScreenFuzz.run),
        FuzzTarget(name: "asciicast", summary: "asciicast v2/v3 reader and playback timing", run: AsciicastFuzz.run),
        FuzzTarget(name: "yaml", summary: "YAML configuration loader and checks", run: ConfigFuzz.run),
        FuzzTarget(name: "relay", summary: "a relay fed scripted messages from a host, framed viewers and terminal viewers", run: RelayFuzz.run, play: RelayFuzz.play),
    ]

    /// The target called `name`.
    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Reads structured values off the front of a fuzz input (so one input drives a whole scenario).
struct FuzzInput {
    private let bytes: [UInt8]
    private var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isEmpty: Bool { at >= bytes.count }

    mutating func byte() -> UInt8 {
        guard at < bytes.count else { return 0 }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func u16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    mutating func u64() -> UInt64 {
        var v: UInt64 = 0
        for _ in 0..<8 { v = v << 8 | UInt64(byte()) }
        return v
    }

    /// Up to `max` bytes (length from the input).
    mutating func chunk(max: Int) -> [UInt8] {
        let n = min(Int(u16()) % (max + 1), bytes.count - min(at, bytes.count))
        defer { at += n }
        return Array(bytes[at..<(at + n)])
    }

    /// Everything left.
    mutating func rest() -> [UInt8] {
        defer { at = bytes.count }
        return at < bytes.count ? Array(bytes[at...]) : []
    }
}
