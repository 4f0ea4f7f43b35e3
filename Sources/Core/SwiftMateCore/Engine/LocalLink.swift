// A host linked to a relay in the same process (the embedded relay): a byte pair with no socket between.
import Synchronization

/// The link between a host and the relay embedded in its own process. There is no wire to protect, so
/// no encryption and nothing to pin; bytes go straight to the relay's connection handler. Writes wait
/// while more than `limitBytes` are unread, like a socket's buffer.
public struct LocalRelayTransport: Transport {
    private let relay: Relay
    private let limitBytes: Int

    /// Links to `relay`.
    public init(relay: Relay, limitBytes: Int = 1 << 20) {
        self.relay = relay
        self.limitBytes = limitBytes
    }

    /// `local`.
    public var name: String { "local" }

    /// A new pair: the far end is handed to the relay as an accepted connection from this process.
    public func connect(to endpoint: Endpoint) async throws -> Connection {
        try await connect(to: endpoint, context: ConnectContext())
    }

    /// Like `connect(to:)`; both ends carry `context.loop` (the host's session loop, which the embedded relay
    /// serves on too).
    public func connect(to endpoint: Endpoint, context: ConnectContext) async throws -> Connection {
        var (client, server) = LocalLink.pair(limitBytes: limitBytes, peerA: "local host", peerB: "local")
        client.loop = context.loop
        server.loop = context.loop
        let relay = self.relay
        Task { [server] in await relay.handle(server, fromThisProcess: true) }
        return client
    }

    /// Not for listening: the embedded relay listens on its real transports.
    public func listen(on endpoint: Endpoint) async throws -> any Listener {
        throw SwiftMateError(.badURL, "the local link only connects a host to its embedded relay; listen on ssh:// or tcp://")
    }
}

/// Two connected in-process ends (the embedded relay's link; the test support's in-memory transport).
public enum LocalLink {
    /// A connected pair: what one end writes the other reads, in order; a writer waits while `limitBytes`
    /// are unread; closing either end ends both directions. The first end's `peer` is `peerB`, the
    /// second's `peerA`. The link carries encoded frames, as a remote link does.
    public static func pair(limitBytes: Int = 1 << 20, peerA: String = "local", peerB: String = "local host") -> (Connection, Connection) {
        let toB = LocalPipe(limitBytes: limitBytes), toA = LocalPipe(limitBytes: limitBytes)
        let a = Connection(inbound: LocalInbound(pipe: toA), outbound: LocalWriter(pipe: toB, other: toA), peer: peerB)
        let b = Connection(inbound: LocalInbound(pipe: toB), outbound: LocalWriter(pipe: toA, other: toB), peer: peerA)
        return (a, b)
    }
}

/// One direction: an async stream of chunks whose writer waits while the reader is `limitBytes` behind.
final class LocalPipe: Sendable {
    let stream: AsyncThrowingStream<[UInt8], any Error>
    private let feed: AsyncThrowingStream<[UInt8], any Error>.Continuation
    private let budget: ByteBudget

    init(limitBytes: Int) {
        budget = ByteBudget(limit: limitBytes)
        (stream, feed) = AsyncThrowingStream.makeStream(of: [UInt8].self)
    }

    func write(_ bytes: [UInt8]) async throws {
        guard budget.charge(bytes.count) else { throw SwiftMateError(.connectionLost, "the local link is closed") }
        feed.yield(bytes)
        await budget.waitForRoom()
    }

    /// The reader took `count` bytes.
    func consumed(_ count: Int) { budget.release(count) }

    func close() {
        budget.close()
        feed.finish()
    }
}

/// Writes into one pipe; closing ends both directions, as closing a socket does.
struct LocalWriter: ByteWriter {
    let pipe: LocalPipe
    let other: LocalPipe
    func write(_ bytes: [UInt8]) async throws { try await pipe.write(bytes) }
    func close() async {
        pipe.close()
        other.close()
    }
}

/// A pipe's reading end: chunks in order, each counted off the writer's budget as it is taken.
struct LocalInbound: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let pipe: LocalPipe

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
        let pipe: LocalPipe

        mutating func next() async throws -> [UInt8]? {
            let chunk = try await base.next()
            if let chunk { pipe.consumed(chunk.count) }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: pipe.stream.makeAsyncIterator(), pipe: pipe) }
}
