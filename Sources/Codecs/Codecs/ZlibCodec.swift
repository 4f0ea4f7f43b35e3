// The `zlib` codec: one deflate stream per direction, a sync flush per frame, bounded inflation.
import CZlib
import SwiftMateCore

/// zlib deflate, streaming across frames (the window carries over), `Z_SYNC_FLUSH` after each frame.
public struct ZlibCodec: Codec {
    /// Compression level 1–9 (6 is zlib's default; 1 is fastest).
    public let level: Int32

    /// A zlib codec at `level`.
    public init(level: Int32 = 6) {
        self.level = level
    }

    /// Reads `level` from the YAML section.
    public init(options: ConfigNode) throws {
        try options.checkKeys(["level"])
        self.init(level: Int32(try options["level"]?.int(in: 1...9) ?? 6))
    }

    /// `zlib`.
    public var name: String { "zlib" }

    /// A new deflate stream.
    public func makeCompressor() throws -> any FrameCompressor { try Deflater(level: level) }

    /// A new inflate stream refusing frames that would inflate past `limit`.
    public func makeDecompressor(limit: Int) throws -> any FrameDecompressor { try Inflater(limit: limit) }
}

private func zlibFailure(_ what: String, _ code: Int32) -> SwiftMateError {
    SwiftMateError(.codecFailure, "zlib: \(what) failed (code \(code))")
}

private final class Deflater: FrameCompressor {
    private let stream: UnsafeMutablePointer<z_stream>

    init(level: Int32) throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = swiftmate_deflate_init(stream, level)
        guard rc == Z_OK else {
            stream.deallocate()
            throw zlibFailure("deflateInit", rc)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    func compress(_ frame: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(frame.count))) + 16)
        var produced = 0
        try frame.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            repeat {
                if produced == out.count { out.append(contentsOf: repeatElement(0, count: max(1024, out.count / 2))) }
                let rc = out.withUnsafeMutableBufferPointer { o -> Int32 in
                    stream.pointee.next_out = o.baseAddress! + produced
                    stream.pointee.avail_out = uInt(o.count - produced)
                    let rc = deflate(stream, Z_SYNC_FLUSH)
                    produced = o.count - Int(stream.pointee.avail_out)
                    return rc
                }
                guard rc == Z_OK || rc == Z_BUF_ERROR else { throw zlibFailure("deflate", rc) }
            } while stream.pointee.avail_out == 0 || stream.pointee.avail_in > 0
        }
        stream.pointee.next_in = nil
        out.removeSubrange(produced...)
        return out
    }
}

private final class Inflater: FrameDecompressor {
    private let stream: UnsafeMutablePointer<z_stream>
    private let limit: Int

    init(limit: Int) throws {
        self.limit = limit
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let rc = swiftmate_inflate_init(stream)
        guard rc == Z_OK else {
            stream.deallocate()
            throw zlibFailure("inflateInit", rc)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func decompress(_ data: [UInt8]) throws -> [UInt8] {
        guard !data.isEmpty else { return [] }
        var out = [UInt8](repeating: 0, count: min(limit, max(4096, data.count * 4)))
        var produced = 0
        try data.withUnsafeBufferPointer { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.pointee.avail_in = uInt(input.count)
            while true {
                if produced == out.count {
                    guard out.count < limit else {
                        throw SwiftMateError(.codecFailure, "zlib: a frame inflates past the limit of \(limit) bytes; closing the connection")
                    }
                    out.append(contentsOf: repeatElement(0, count: min(limit - out.count, out.count)))
                }
                let rc = out.withUnsafeMutableBufferPointer { o -> Int32 in
                    stream.pointee.next_out = o.baseAddress! + produced
                    stream.pointee.avail_out = uInt(o.count - produced)
                    let rc = inflate(stream, Z_SYNC_FLUSH)
                    produced = o.count - Int(stream.pointee.avail_out)
                    return rc
                }
                switch rc {
                case Z_OK:
                    if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return }
                case Z_BUF_ERROR:
                    if stream.pointee.avail_in == 0 { return }
                case Z_STREAM_END:
                    throw SwiftMateError(.codecFailure, "zlib: the peer ended its stream; frames must use sync flushes")
                default:
                    throw SwiftMateError(.codecFailure, "zlib: corrupt compressed data (code \(rc)); closing the connection")
                }
            }
        }
        stream.pointee.next_in = nil
        out.removeSubrange(produced...)
        return out
    }
}
