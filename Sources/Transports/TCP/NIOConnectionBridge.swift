// Bridges swift-nio's scoped async channels to SwiftMate's `Connection` (bytes in, writer out).
import NIOCore
import SwiftMateCore

/// Inbound `ByteBuffer`s as byte arrays.
struct ByteBufferChunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let base: NIOAsyncChannelInboundStream<ByteBuffer>

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        mutating func next() async throws -> [UInt8]? {
            guard let buffer = try await base.next() else { return nil }
            return Array(buffer.readableBytesView)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator()) }
}

/// Writes through a channel's outbound writer; `close` closes the channel.
struct NIOByteWriter: ByteWriter {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    var onClose: (@Sendable () -> Void)?

    init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel, onClose: (@Sendable () -> Void)? = nil) {
        self.outbound = outbound
        self.channel = channel
        self.onClose = onClose
    }

    func write(_ bytes: [UInt8]) async throws {
        do {
            try await outbound.write(ByteBuffer(bytes: bytes))
        } catch {
            throw SwiftMateError(.connectionLost, "connection lost while writing: \(error)")
        }
    }

    func close() async {
        try? await channel.close()
        onClose?()
    }
}

enum NIOConnectionBridge {
    /// Keeps `channel` open in its own task until the connection's writer is closed (or the peer goes),
    /// and returns the connection.
    static func open(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, peer: String) async throws -> Connection {
        let (closed, closer) = AsyncStream<Void>.makeStream()
        return try await withCheckedThrowingContinuation { continuation in
            Task {
                do {
                    try await channel.executeThenClose { inbound, outbound in
                        let writer = NIOByteWriter(outbound: outbound, channel: channel.channel, onClose: { closer.finish() })
                        continuation.resume(returning: Connection(inbound: ByteBufferChunks(base: inbound), outbound: writer, peer: peer))
                        for await _ in closed {}
                    }
                } catch {}
            }
        }
    }
}
