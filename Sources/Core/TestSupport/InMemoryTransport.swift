// An in-memory transport: connected pairs of byte streams, and a listener, with no sockets.
import SwiftMateCore
import Synchronization

/// Two connected ends of an in-memory link: what one writes, the other reads, in order.
public enum InMemoryLink {
    /// Makes a connected pair (Core's `LocalLink`): a writer waits while `limitBytes` are unread, as with a socket's
    /// buffer; closing either end ends both directions.
    public static func pair(peerA: String = "memory-a", peerB: String = "memory-b", limitBytes: Int = 1 << 20) -> (Connection, Connection) {
        LocalLink.pair(limitBytes: limitBytes, peerA: peerA, peerB: peerB)
    }
}

/// A transport whose listeners live in this process (`memory://NAME:PORT`). For tests.
public final class InMemoryTransport: Transport {
    private let listeners = Mutex<[Endpoint: InMemoryListener]>([:])

    /// A transport with no listeners yet.
    public init() {}

    /// `memory`.
    public var name: String { "memory" }

    /// Connects to a listener of this transport.
    public func connect(to endpoint: Endpoint) async throws -> Connection {
        try await connect(to: endpoint, provingKey: nil)
    }

    /// Connects as a peer that proved the public key `key` (`KEYTYPE BASE64`): the listener's side of the
    /// connection carries it as `Connection.publicKey`, as the ssh transport's does.
    public func connect(to endpoint: Endpoint, provingKey key: String?) async throws -> Connection {
        var address = endpoint
        address.path = ""
        guard let listener = listeners.withLock({ $0[address] }) else {
            throw SwiftMateError(.connectionLost, "nothing listens on \(address)")
        }
        var (client, server) = InMemoryLink.pair(peerA: "memory-client", peerB: address.description)
        server.publicKey = key
        try listener.accept(server)
        return client
    }

    /// Starts a listener; port 0 picks a fresh number.
    public func listen(on endpoint: Endpoint) async throws -> any Listener {
        var bound = endpoint
        bound.path = ""
        return try listeners.withLock { all in
            if bound.port == 0 { bound.port = 40000 + all.count }
            guard all[bound] == nil else { throw SwiftMateError(.system, "\(bound) is in use") }
            let listener = InMemoryListener(localEndpoint: bound)
            all[bound] = listener
            return listener
        }
    }
}

/// The listener of `InMemoryTransport`.
final class InMemoryListener: Listener {
    let localEndpoint: Endpoint
    private let incoming: AsyncStream<Connection>
    private let sink: AsyncStream<Connection>.Continuation

    init(localEndpoint: Endpoint) {
        self.localEndpoint = localEndpoint
        (incoming, sink) = AsyncStream<Connection>.makeStream()
    }

    func accept(_ connection: Connection) throws {
        if case .terminated = sink.yield(connection) { throw SwiftMateError(.connectionLost, "listener closed") }
    }

    func run(handler: @escaping @Sendable (Connection) async -> Void) async throws {
        await withDiscardingTaskGroup { group in
            for await connection in incoming {
                group.addTask { await handler(connection) }
            }
        }
    }

    func close() async {
        sink.finish()
    }
}
