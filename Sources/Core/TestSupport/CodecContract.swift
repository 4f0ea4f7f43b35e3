// The contract every codec passes: streaming round trips, empty frames, bounded and corrupt input.
import SwiftMateCore

/// Checks a codec against the `Codec` contract. Framework-free: throws `ContractViolation`.
public enum CodecContract {
    /// Runs every check. `sample` is realistic data (e.g. terminal output) fed in frames of varied sizes.
    public static func check(_ codec: any Codec, sample: [UInt8]) throws {
        let name = codec.name
        // 1. Round trip, frames in order, including empty and one-byte frames.
        let compressor = try codec.makeCompressor()
        let decompressor = try codec.makeDecompressor(limit: 1 << 20)
        var offset = 0
        let sizes = [0, 1, 7, 100, 4096, 65536, 3, 1 << 19, 12345]
        var index = 0
        while offset < sample.count {
            let size = min(sizes[index % sizes.count], sample.count - offset)
            index += 1
            let frame = Array(sample[offset..<(offset + size)])
            offset += size
            let packed = try compressor.compress(frame)
            let unpacked = try decompressor.decompress(packed)
            try require(unpacked == frame, name, "a frame decompresses to exactly what was compressed", "frame \(index) of \(size) bytes")
        }
        // 1b. Many small frames (keystrokes and their echo) with now and then a larger one, past any buffer a codec
        // keeps its history in: each still decompresses to what was compressed.
        let smallCompressor = try codec.makeCompressor()
        let smallDecompressor = try codec.makeDecompressor(limit: 1 << 20)
        var position = 0
        for i in 0..<6000 {
            let size = i % 997 == 0 ? [40_000, 70_000, 33_000, 20_000][(i / 997) % 4] : 1 + (i * 7) % 200
            let start = position % max(1, sample.count - size)
            let frame = Array(sample[start..<min(sample.count, start + size)])
            position += size
            let unpacked = try smallDecompressor.decompress(try smallCompressor.compress(frame))
            try require(unpacked == frame, name, "small frames between larger ones decompress to what was compressed", "frame \(i) of \(frame.count) bytes")
        }
        // 2. Output over the limit is refused, not allocated.
        let small = try codec.makeDecompressor(limit: 1000)
        let big = try codec.makeCompressor().compress([UInt8](repeating: 0x41, count: 100_000))
        do {
            _ = try small.decompress(big)
            throw ContractViolation(plugin: name, rule: "a frame that decompresses past the limit is an error", detail: "it was accepted")
        } catch let error as SwiftMateError {
            try require(error.code == .codecFailure, name, "limit errors are codecFailure", "\(error.code)")
        }
        // 3. Garbage is an error or (for `none`) a copy, never a crash.
        var rng = SystemRandomNumberGenerator()
        for length in [1, 2, 5, 17, 300, 5000] {
            let garbage = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let fresh = try codec.makeDecompressor(limit: 1 << 16)
            do {
                let out = try fresh.decompress(garbage)
                try require(out.count <= 1 << 16, name, "output stays within the limit", "\(out.count) bytes")
            } catch is SwiftMateError {
                // expected for real codecs
            }
        }
        // 4. Directions are independent: a second compressor's stream decodes with a second decompressor.
        let c2 = try codec.makeCompressor(), d2 = try codec.makeDecompressor(limit: 1 << 20)
        let hello = Array("hello hello hello".utf8)
        try require(try d2.decompress(try c2.compress(hello)) == hello, name, "new streams start fresh")
    }
}
