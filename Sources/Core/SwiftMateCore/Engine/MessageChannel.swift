// Messages over a connection: frames in, frames out, the first frame plain and the rest through the codec.
import Synchronization

/// Pulls byte chunks from any async sequence of chunks (opens the existential once).
final class ChunkSource {
    private let nextChunk: () async throws -> [UInt8]?

    init<S: AsyncSequence>(_ sequence: S) where S.Element == [UInt8] {
        var iterator = sequence.makeAsyncIterator()
        nextChunk = { try await iterator.next() }
    }

    func next() async throws -> [UInt8]? { try await nextChunk() }
}

/// Reads messages from a connection. Owned by the one task that reads it.
public final class MessageReceiver {
    private let source: ChunkSource
    private var decoder: FrameDecoder
    private var decompressor: (any FrameDecompressor)?
    /// Bytes received, for statistics.
    public private(set) var bytesReceived = 0
    /// While set (a relay's connection before its hello is in), what the receiver holds is counted there, and
    /// reading throws `overloaded` when the relay's total would pass its limit.
    public var handshake: HandshakeBudget.Ticket?

    /// The largest frame accepted from now on.
    public var maxFrameSize: Int {
        get { decoder.maxFrameSize }
        set { decoder.maxFrameSize = newValue }
    }

    /// Reads from `connection`'s inbound side; frames over `maxFrameSize` are an error.
    public init(_ connection: Connection, maxFrameSize: Int = Framing.defaultMaxFrameSize) {
        source = ChunkSource(connection.inbound)
        decoder = FrameDecoder(maxFrameSize: maxFrameSize)
    }

    /// From now on frames are decompressed with `decompressor`.
    public func startDecompressing(_ decompressor: any FrameDecompressor) {
        self.decompressor = decompressor
    }

    /// The next message, or nil at a clean end of stream. Unknown message types are skipped.
    /// Throws on a broken frame, a codec failure or a stream that ends mid-frame.
    public func next() async throws -> Message? {
        while true {
            if var body = try decoder.next() {
                if let decompressor { body = try decompressor.decompress(body) }
                if let message = try Message.decode(body) { return message }
                continue
            }
            guard let chunk = try await source.next() else {
                if decoder.bufferedByteCount > 0 {
                    throw SwiftMateError(.connectionLost, "connection closed in the middle of a frame")
                }
                return nil
            }
            bytesReceived += chunk.count
            try handshake?.hold(decoder.bufferedByteCount + chunk.count)
            decoder.append(chunk)
        }
    }
}

/// Writes messages to a connection, compressing after the handshake. Calls are serialised.
public actor MessageSender {
    private let writer: any ByteWriter
    private var compressor: (any FrameCompressor)?
    /// Bytes written (after compression and framing), for statistics.
    public private(set) var bytesSent = 0

    /// Writes to `writer`.
    public init(_ writer: any ByteWriter) {
        self.writer = writer
    }

    /// From now on frames are compressed with a new compressor of `codec`.
    public func startCompressing(_ codec: any Codec) throws {
        compressor = try codec.makeCompressor()
    }

    /// Encodes, compresses and writes one message.
    public func send(_ message: Message) async throws {
        try await send([message])
    }

    /// Encodes, compresses and writes several messages in one write.
    public func send(_ messages: [Message]) async throws {
        var out = [UInt8]()
        for message in messages {
            var body = message.encoded()
            if let compressor { body = try compressor.compress(body) }
            Framing.appendFrame(body, to: &out)
        }
        bytesSent += out.count
        try await writer.write(out)
    }

    /// Closes the sending side.
    public func close() async {
        await writer.close()
    }
}

/// Picks the codec: the first of the peer's offers that the relay has enabled.
public func negotiateCodec(offered: [String], enabled: [String]) -> String? {
    offered.first { enabled.contains($0) }
}
