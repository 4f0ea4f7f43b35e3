// The `lz4` codec: liblz4 streaming blocks with a 64 KiB dictionary window carried across frames.
import CLZ4
import SwiftMateCore

/// liblz4 streaming compression: each frame is one block that may refer back to the previous
/// 64 KiB of the same direction's data. Frame layout: 4-byte big-endian decompressed size, then the block.
public struct LZ4Codec: Codec {
    /// LZ4 acceleration (1 = best ratio; higher is faster).
    public let acceleration: Int32

    /// An lz4 codec.
    public init(acceleration: Int32 = 1) {
        self.acceleration = acceleration
    }

    /// Reads `acceleration` from the YAML section.
    public init(options: ConfigNode) throws {
        try options.checkKeys(["acceleration"])
        self.init(acceleration: Int32(try options["acceleration"]?.int(in: 1...65537) ?? 1))
    }

    /// `lz4`.
    public var name: String { "lz4" }

    /// A new compression stream.
    public func makeCompressor() throws -> any FrameCompressor { try LZ4Compressor(acceleration: acceleration) }

    /// A new decompression stream refusing frames larger than `limit` decompressed.
    public func makeDecompressor(limit: Int) throws -> any FrameDecompressor { LZ4Decompressor(limit: limit) }
}

/// The dictionary window (LZ4's maximum back-reference distance).
private let window = 64 << 10

private final class LZ4Compressor: FrameCompressor {
    private let stream: UnsafeMutablePointer<LZ4_stream_t>
    private let dictionary: UnsafeMutablePointer<CChar>
    private let acceleration: Int32

    init(acceleration: Int32) throws {
        guard let s = LZ4_createStream() else { throw SwiftMateError(.codecFailure, "lz4: cannot create a stream") }
        stream = s
        dictionary = .allocate(capacity: window)
        self.acceleration = acceleration
    }

    deinit {
        LZ4_freeStream(stream)
        dictionary.deallocate()
    }

    func compress(_ frame: [UInt8]) throws -> [UInt8] {
        guard frame.count <= Int(LZ4_MAX_INPUT_SIZE) else { throw SwiftMateError(.codecFailure, "lz4: frame too large") }
        let bound = Int(LZ4_compressBound(Int32(frame.count)))
        var out = [UInt8](repeating: 0, count: bound + 4)
        let n = UInt32(frame.count)
        out[0] = UInt8(n >> 24); out[1] = UInt8(n >> 16 & 0xff); out[2] = UInt8(n >> 8 & 0xff); out[3] = UInt8(n & 0xff)
        let written = frame.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { o in
                LZ4_compress_fast_continue(stream,
                                           input.baseAddress?.assumingMemoryBound(to: CChar.self),
                                           o.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                                           Int32(frame.count), Int32(bound), acceleration)
            }
        }
        guard written > 0 || frame.isEmpty else { throw SwiftMateError(.codecFailure, "lz4: compression failed") }
        // The input buffer goes away after this call: keep the window in our own buffer.
        _ = LZ4_saveDict(stream, dictionary, Int32(window))
        out.removeSubrange((4 + Int(written))...)
        return out
    }
}

private final class LZ4Decompressor: FrameDecompressor {
    private let limit: Int
    private var history: [UInt8] = []

    init(limit: Int) {
        self.limit = limit
    }

    func decompress(_ data: [UInt8]) throws -> [UInt8] {
        guard data.count >= 4 else { throw SwiftMateError(.codecFailure, "lz4: frame shorter than its size header") }
        let size = Int(data[0]) << 24 | Int(data[1]) << 16 | Int(data[2]) << 8 | Int(data[3])
        guard size <= limit else {
            throw SwiftMateError(.codecFailure, "lz4: a frame claims \(size) bytes, past the limit of \(limit); closing the connection")
        }
        if size == 0 {
            guard data.count <= 5 else { throw SwiftMateError(.codecFailure, "lz4: corrupt empty frame") }
            return []
        }
        var out = [UInt8](repeating: 0, count: size)
        let got = data.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { o in
                history.withUnsafeBytes { dict in
                    LZ4_decompress_safe_usingDict(input.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                                                  o.baseAddress!.assumingMemoryBound(to: CChar.self),
                                                  Int32(data.count - 4), Int32(size),
                                                  dict.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(dict.count))
                }
            }
        }
        guard got == Int32(size) else {
            throw SwiftMateError(.codecFailure, "lz4: corrupt compressed data; closing the connection")
        }
        if out.count >= window {
            history = Array(out.suffix(window))
        } else {
            let keep = window - out.count
            if history.count > keep { history.removeFirst(history.count - keep) }
            history.append(contentsOf: out)
        }
        return out
    }
}
