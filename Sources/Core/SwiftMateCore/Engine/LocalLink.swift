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
        let a = Connection(inbound: toA.inbound, outbound: LocalWriter(pipe: toB, other: toA), peer: peerB)
        let b = Connection(inbound: toB.inbound, outbound: LocalWriter(pipe: toA, other: toB), peer: peerA)
        return (a, b)
    }
}

/// One direction: the reader's `BoundedInbound` (as a socket transport's), whose writer waits while the reader is
/// `limitBytes` behind.
final class LocalPipe: Sendable {
    let inbound: BoundedInbound
    private let writers = Writers()

    /// The writers waiting for room.
    private final class Writers: Sendable {
        private let waiting = Mutex<[CheckedContinuation<Void, Never>]>([])

        /// Waits unless `hasRoom` (checked under the lock, so room made after the check resumes this writer).
        func wait(unless hasRoom: () -> Bool) async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = waiting.withLock { w -> Bool in
                    if hasRoom() { return true }
                    w.append(c)
                    return false
                }
                if now { c.resume() }
            }
        }

        func resumeAll() {
            let ready = waiting.withLock { w in
                defer { w = [] }
                return w
            }
            ready.forEach { $0.resume() }
        }
    }

    init(limitBytes: Int) {
        let writers = self.writers
        inbound = BoundedInbound(limitBytes: limitBytes) { writers.resumeAll() }
    }

    func write(_ bytes: [UInt8]) async throws {
        guard inbound.deliver(bytes) else { throw SwiftMateError(.connectionLost, "the local link is closed") }
        let inbound = self.inbound
        if inbound.room > 0 { return } // the usual case: under the limit, no waiting
        await writers.wait(unless: { inbound.room > 0 })
    }

    func close() {
        inbound.finish()
        writers.resumeAll()
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
