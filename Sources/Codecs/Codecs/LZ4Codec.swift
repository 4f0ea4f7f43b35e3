// The `lz4` codec: liblz4 streaming blocks with a 64 KiB dictionary window carried across frames.
import CLZ4
import Glibc
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

/// Each direction's history buffer: the window plus room for the frames that follow it. A frame that fits is
/// placed right after the data before it, so that data stays in place as its dictionary and only once the room is
/// used up are the last 64 KiB moved to the front: one copy of the window per 32 KiB of small frames (keystrokes
/// and their echo) instead of one per frame. A larger frame is handled from its own bytes.
private let historyCapacity = window + (32 << 10)

private final class LZ4Compressor: FrameCompressor {
    private let stream: UnsafeMutablePointer<LZ4_stream_t>
    /// What this direction has compressed lately, the stream's dictionary: `used` bytes from the start.
    private let history: UnsafeMutablePointer<CChar>
    private var used = 0
    private let acceleration: Int32

    init(acceleration: Int32) throws {
        guard let s = LZ4_createStream() else { throw SwiftMateError(.codecFailure, "lz4: cannot create a stream") }
        stream = s
        history = .allocate(capacity: historyCapacity)
        self.acceleration = acceleration
    }

    deinit {
        LZ4_freeStream(stream)
        history.deallocate()
    }

    func compress(_ frame: [UInt8]) throws -> [UInt8] {
        guard frame.count <= Int(LZ4_MAX_INPUT_SIZE) else { throw SwiftMateError(.codecFailure, "lz4: frame too large") }
        let bound = Int(LZ4_compressBound(Int32(frame.count)))
        var out = [UInt8](repeating: 0, count: bound + 4)
        let n = UInt32(frame.count)
        out[0] = UInt8(n >> 24); out[1] = UInt8(n >> 16 & 0xff); out[2] = UInt8(n >> 8 & 0xff); out[3] = UInt8(n & 0xff)
        let written = frame.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { o in
                let target = o.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self)
                guard frame.count <= historyCapacity - window else {
                    // Larger than the room: compressed from its own bytes (the dictionary is still in `history`),
                    // then its last 64 KiB become the dictionary.
                    let written = LZ4_compress_fast_continue(stream, input.baseAddress?.assumingMemoryBound(to: CChar.self),
                                                             target, Int32(frame.count), Int32(bound), acceleration)
                    used = Int(LZ4_saveDict(stream, history, Int32(window)))
                    return written
                }
                if used + frame.count > historyCapacity {
                    used = Int(LZ4_saveDict(stream, history, Int32(window)))
                }
                if let base = input.baseAddress { memcpy(history + used, base, frame.count) }
                let written = LZ4_compress_fast_continue(stream, history + used, target, Int32(frame.count), Int32(bound), acceleration)
                used += frame.count
                return written
            }
        }
        guard written > 0 || frame.isEmpty else { throw SwiftMateError(.codecFailure, "lz4: compression failed") }
        out.removeSubrange((4 + Int(written))...)
        return out
    }
}

private final class LZ4Decompressor: FrameDecompressor {
    private let limit: Int
    /// What this direction has decompressed lately: `used` bytes from the start, the last 64 KiB the dictionary.
    private let history: UnsafeMutablePointer<CChar>
    private var used = 0

    init(limit: Int) {
        self.limit = limit
        history = .allocate(capacity: historyCapacity)
    }

    deinit {
        history.deallocate()
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
        let corrupt = SwiftMateError(.codecFailure, "lz4: corrupt compressed data; closing the connection")
        let dictionarySize = min(used, window)
        let compressed = Int32(data.count - 4)
        if size > historyCapacity - window {
            // Larger than the room: decompressed into its own array, whose last 64 KiB become the dictionary.
            var out = [UInt8](repeating: 0, count: size)
            let got = data.withUnsafeBytes { input in
                out.withUnsafeMutableBytes { o in
                    LZ4_decompress_safe_usingDict(input.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                                                  o.baseAddress!.assumingMemoryBound(to: CChar.self), compressed, Int32(size),
                                                  history + (used - dictionarySize), Int32(dictionarySize))
                }
            }
            guard got == Int32(size) else { throw corrupt }
            // The new dictionary: the last 64 KiB of the old one followed by this frame.
            let kept = min(dictionarySize, window - min(size, window))
            memmove(history, history + (used - kept), kept)
            out.withUnsafeBytes { o in
                let taken = min(size, window)
                memcpy(history + kept, o.baseAddress! + (size - taken), taken)
                used = kept + taken
            }
            return out
        }
        if used + size > historyCapacity {
            // The dictionary to the front (the two regions may overlap).
            memmove(history, history + (used - dictionarySize), dictionarySize)
            used = dictionarySize
        }
        // Into `history`, right after its dictionary (LZ4 then reads back-references in place).
        let start = used, dictionary = min(used, window)
        let got = data.withUnsafeBytes { input in
            LZ4_decompress_safe_usingDict(input.baseAddress!.advanced(by: 4).assumingMemoryBound(to: CChar.self),
                                          history + start, compressed, Int32(size), history + (start - dictionary), Int32(dictionary))
        }
        guard got == Int32(size) else { throw corrupt }
        used += size
        return [UInt8](UnsafeRawBufferPointer(start: history + start, count: size))
    }
}
