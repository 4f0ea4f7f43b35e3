// Fuzz targets for the codecs: arbitrary compressed frames, and round trips of arbitrary frames.
import SwiftMateCore
import SwiftMateCodecs

enum CodecFuzz {
    static func lz4(_ data: [UInt8]) { run(LZ4Codec(), data) }
    static func zlib(_ data: [UInt8]) { run(ZlibCodec(level: 1), data) }

    /// The decompressor takes a sequence of frames from the input (errors are fine, past the limit is not);
    /// the same frames compressed and decompressed come back as they were.
    private static func run(_ codec: any Codec, _ data: [UInt8]) {
        let limit = 1 << 16
        var input = FuzzInput(data)
        var frames: [[UInt8]] = []
        while !input.isEmpty && frames.count < 64 { frames.append(input.chunk(max: 4096)) }
        guard let decompressor = try? codec.makeDecompressor(limit: limit) else { preconditionFailure("no decompressor") }
        for frame in frames {
            guard let out = try? decompressor.decompress(frame) else { break }
            precondition(out.count <= limit, "\(codec.name) decompressed past its limit: \(out.count) bytes")
        }
        guard let compressor = try? codec.makeCompressor(), let back = try? codec.makeDecompressor(limit: limit) else {
            preconditionFailure("no compressor")
        }
        for frame in frames {
            guard let packed = try? compressor.compress(frame), let unpacked = try? back.decompress(packed) else {
                preconditionFailure("\(codec.name) failed on its own output")
            }
            precondition(unpacked == frame, "\(codec.name) round trip changed a frame")
        }
    }
}
