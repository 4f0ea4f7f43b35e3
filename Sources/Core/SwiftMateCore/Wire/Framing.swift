// Length-prefixed frames: a 4-byte big-endian length, then the body. Decoding is incremental.

/// Wraps a body in a frame.
public enum Framing {
    /// The default largest frame body accepted from a peer (1 MiB).
    public static let defaultMaxFrameSize = 1 << 20

    /// The 4-byte big-endian length prefix followed by `body`.
    public static func frame(_ body: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(body.count + 4)
        appendFrame(body, to: &out)
        return out
    }

    /// Appends a frame holding `body` to `out`.
    public static func appendFrame(_ body: [UInt8], to out: inout [UInt8]) {
        let n = UInt32(body.count)
        out.append(UInt8(n >> 24)); out.append(UInt8(n >> 16 & 0xff)); out.append(UInt8(n >> 8 & 0xff)); out.append(UInt8(n & 0xff))
        out.append(contentsOf: body)
    }
}

/// An incremental frame decoder: feed it bytes as they come, take whole frame bodies out.
///
/// Like swift-nio's decoders: `next()` returns `nil` when more bytes are needed, and the result does
/// not depend on how the bytes were split.
public struct FrameDecoder: Sendable {
    /// The largest body accepted; a larger declared length is an error before any byte of it is buffered.
    /// A relay raises it once a connection's handshake is done (hellos have a smaller limit).
    public var maxFrameSize: Int
    private var buffer: [UInt8] = []
    private var start = 0

    /// Makes a decoder with a frame size limit.
    public init(maxFrameSize: Int = Framing.defaultMaxFrameSize) {
        self.maxFrameSize = maxFrameSize
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole frame body, or `nil` if more bytes are needed.
    /// Throws `frameTooLarge` as soon as a length prefix exceeds the limit.
    public mutating func next() throws -> [UInt8]? {
        guard buffer.count - start >= 4 else { return nil }
        let n = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard n <= maxFrameSize else {
            throw SwiftMateError(.frameTooLarge, "peer sent a frame of \(n) bytes; the limit is \(maxFrameSize)")
        }
        guard buffer.count - start - 4 >= n else {
            // Room for exactly this frame, so a large one does not leave a buffer twice its size behind.
            if start == 0 && buffer.capacity < 4 + n { buffer.reserveCapacity(4 + n) }
            return nil
        }
        let body = Array(buffer[(start + 4)..<(start + 4 + n)])
        start += 4 + n
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return body
    }
}
