// The codec plugin protocol: a per-connection, per-direction streaming compressor of frame bodies.

/// Compresses one direction of one connection. State carries over between frames (a streaming
/// dictionary), so frames must be decompressed in the order they were compressed.
///
/// Threading: owned by one task; not shared.
public protocol FrameCompressor: AnyObject {
    /// Compresses one frame body; the result decompresses to exactly `frame` on its own (no flush needed).
    func compress(_ frame: [UInt8]) throws -> [UInt8]
}

/// Decompresses one direction of one connection, in order.
///
/// Threading: owned by one task; not shared.
public protocol FrameDecompressor: AnyObject {
    /// Decompresses one frame. Throws `SwiftMateError.codecFailure` for corrupt data or when the
    /// output would exceed the limit given at creation (checked before it is allocated).
    func decompress(_ data: [UInt8]) throws -> [UInt8]
}

/// A codec plugin (`none`, `zlib`, `lz4`). Negotiated in the handshake, then applied to every frame.
///
/// Threading: the codec value is `Sendable` and may be shared; compressors and decompressors it makes
/// belong to one connection's one direction.
public protocol Codec: Sendable {
    /// The registry name, sent in `Hello` and `Welcome`.
    var name: String { get }
    /// A compressor for one direction of a new connection.
    func makeCompressor() throws -> any FrameCompressor
    /// A decompressor for one direction of a new connection; output of one frame is at most `limit` bytes.
    func makeDecompressor(limit: Int) throws -> any FrameDecompressor
}

/// The codec that leaves frames unchanged (`none`).
public struct NoCodec: Codec {
    /// Makes the `none` codec.
    public init() {}
    /// `none`.
    public var name: String { "none" }
    /// A compressor that copies.
    public func makeCompressor() -> any FrameCompressor { Passthrough(limit: .max) }
    /// A decompressor that copies, refusing frames over `limit`.
    public func makeDecompressor(limit: Int) -> any FrameDecompressor { Passthrough(limit: limit) }

    private final class Passthrough: FrameCompressor, FrameDecompressor {
        let limit: Int
        init(limit: Int) { self.limit = limit }
        func compress(_ frame: [UInt8]) -> [UInt8] { frame }
        func decompress(_ data: [UInt8]) throws -> [UInt8] {
            guard data.count <= limit else {
                throw SwiftMateError(.codecFailure, "frame of \(data.count) bytes exceeds the limit of \(limit)")
            }
            return data
        }
    }
}
