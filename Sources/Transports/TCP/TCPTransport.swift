// The `tcp` transport: plain TCP on swift-nio, TCP_NODELAY and keepalive on. No encryption.
import NIOCore
import NIOPosix
import SwiftMateCore

/// Plain TCP (`tcp://HOST:PORT`), for trusted networks or behind a TLS proxy.
public struct TCPTransport: Transport {
    /// Whether TCP_NODELAY is set (on by default: keystrokes are small).
    public var noDelay: Bool
    /// Whether SO_KEEPALIVE is set.
    public var keepAlive: Bool
    private let group: any EventLoopGroup

    /// A TCP transport on swift-nio's shared event loop group.
    public init(noDelay: Bool = true, keepAlive: Bool = true, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.noDelay = noDelay
        self.keepAlive = keepAlive
        self.group = group
    }

    /// Reads `nodelay` and `keepalive` from the YAML section.
    public init(options: ConfigNode) throws {
        try options.checkKeys(["nodelay", "keepalive"])
        self.init(noDelay: try options["nodelay"]?.bool() ?? true, keepAlive: try options["keepalive"]?.bool() ?? true)
    }

    /// `tcp`.
    public var name: String { "tcp" }

    /// Connects to `endpoint`.
    public func connect(to endpoint: Endpoint) async throws -> Connection {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group)
                .channelOption(.tcpOption(.tcp_nodelay), value: noDelay ? 1 : 0)
                .channelOption(.socketOption(.so_keepalive), value: keepAlive ? 1 : 0)
                .connectTimeout(.seconds(10))
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SwiftMateError(.connectionLost, "cannot reach relay \(endpoint.host):\(endpoint.port): \(Self.reason(error))",
                                 detail: String(reflecting: error))
        }
        return try await NIOConnectionBridge.open(channel, peer: endpoint.description)
    }

    /// Why a connect failed, in words (`connection refused`), not swift-nio's description of its error values.
    static func reason(_ error: any Error) -> String {
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return reason(first.error) }
            if e.dnsAError != nil || e.dnsAAAAError != nil { return "the host name does not resolve" }
            return "the host name has no address"
        }
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        if let e = error as? ChannelError, case .connectTimeout = e { return "no answer within 10 s" }
        return "\(error)"
    }

    /// Binds `endpoint`; port 0 picks a free port (see `localEndpoint`).
    public func listen(on endpoint: Endpoint) async throws -> any Listener {
        let noDelay = noDelay, keepAlive = keepAlive
        do {
            let server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: noDelay ? 1 : 0)
                .childChannelOption(.socketOption(.so_keepalive), value: keepAlive ? 1 : 0)
                .bind(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            var bound = endpoint
            bound.port = server.channel.localAddress?.port ?? endpoint.port
            bound.path = ""
            return TCPListener(server: server, localEndpoint: bound)
        } catch {
            throw SwiftMateError(.system, "cannot listen on \(endpoint): \(error); is the port in use?")
        }
    }
}

/// A bound TCP server socket.
struct TCPListener: Listener {
    let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    let localEndpoint: Endpoint

    func run(handler: @escaping @Sendable (Connection) async -> Void) async throws {
        try await withTaskCancellationHandler {
            try await server.executeThenClose { inbound in
                await withDiscardingTaskGroup { group in
                    do {
                        for try await child in inbound {
                            group.addTask {
                                let peer = child.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                                try? await child.executeThenClose { childIn, childOut in
                                    let writer = NIOByteWriter(outbound: childOut, channel: child.channel)
                                    var connection = Connection(inbound: ByteBufferChunks(base: childIn), outbound: writer, peer: peer)
                                    connection.transport = "tcp"
                                    await handler(connection)
                                }
                            }
                        }
                    } catch {}
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    func close() async {
        try? await server.channel.close()
    }
}
