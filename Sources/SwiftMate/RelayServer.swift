// A relay in-process: its listeners serving in background tasks until stopped.
import Logging
import SwiftMateANSI
import SwiftMateCore
import SwiftMateSystem

/// A running relay (what `swiftmate relay` runs, and a host's embedded relay).
///
/// ```swift
/// let setup = try SwiftMateSetup.load(configPath: "relay.yaml")
/// let relay = try await RelayServer.start(setup: setup)
/// print(relay.endpoints)
/// await relay.wait()
/// ```
public struct RelayServer: Sendable {
    /// The relay engine (sessions, fan-out).
    public let relay: Relay
    private let listeners: [any Listener]
    private let tasks: [Task<Void, Never>]

    /// The bound endpoints (real ports, after port 0 was resolved).
    public var endpoints: [Endpoint] { listeners.map(\.localEndpoint) }

    /// The relay's default listeners: ssh on 2222 and tcp on 7022, loopback only.
    public static let defaultListen = [Endpoint(scheme: "ssh", host: "127.0.0.1", port: 2222),
                                       Endpoint(scheme: "tcp", host: "127.0.0.1", port: 7022)]

    /// Starts a relay with `setup`'s `relay:` section, listening on `listen` (empty: `relay.listen`, else
    /// `defaultListen`). Unknown transport names fail before anything is bound.
    public static func start(setup: SwiftMateSetup, listen: [Endpoint] = [], options: RelayOptions? = nil,
                             logger: Logger = Logger(label: "swiftmate.relay")) async throws -> RelayServer {
        var endpoints = listen.isEmpty ? setup.config.relayListen : listen
        if endpoints.isEmpty { endpoints = defaultListen }
        return try await start(registry: setup.registry, options: options ?? setup.config.relay, listen: endpoints, logger: logger)
    }

    /// Starts a relay on `listen` with explicit options. With `executor`, its connections' tasks run there; with
    /// `loops`, listeners that run their own I/O serve on those loops (a host's embedded relay: the host's loop).
    public static func start(registry: PluginRegistry, options: RelayOptions, listen: [Endpoint],
                             logger: Logger = Logger(label: "swiftmate.relay"),
                             executor: (any TaskExecutor)? = nil, loops: IOLoopGroup? = nil) async throws -> RelayServer {
        for endpoint in listen { try registry.requireTransport(endpoint.scheme) }
        var options = options
        if options.returnFreedMemory == nil {
            options.returnFreedMemory = { ProcessMemory.returnFreed() }
        }
        if options.viewerScreen == nil {
            options.viewerScreen = { session, window in ViewerScreen(cols: session.cols, rows: session.rows, terminal: window) }
        }
        let relay = Relay(registry: registry, options: options, logger: logger, executor: executor)
        var listeners: [any Listener] = []
        var provingKeys: Set<String> = []
        do {
            for endpoint in listen {
                let transport = try registry.transport(endpoint.scheme)
                listeners.append(try await transport.listen(on: endpoint, context: ListenContext(access: relay.access, inboundBytes: options.inboundBytes,
                                                                                   loops: loops, loopForLogin: { [relay] in relay.loop(forToken: $0) })))
                if transport.provesPublicKeys { provingKeys.insert(endpoint.scheme) }
            }
        } catch {
            for listener in listeners { await listener.close() }
            throw error
        }
        await relay.advertise(listeners.map(\.localEndpoint), provingKeys: provingKeys)
        let tasks = listeners.map { listener in
            Task {
                do {
                    try await listener.run { connection in await relay.handle(connection) }
                } catch {
                    logger.error("listener \(listener.localEndpoint) failed: \(error)")
                }
            }
        }
        return RelayServer(relay: relay, listeners: listeners, tasks: tasks)
    }

    /// Stops listening; sessions already running end with their links.
    public func stop() async {
        for listener in listeners { await listener.close() }
        tasks.forEach { $0.cancel() }
    }

    /// Stops listening and waits (at most `limit`) for the connections still open to finish: a session that
    /// ended delivers its last output and its goodbye to every viewer before the process exits.
    public func finish(within limit: Duration) async {
        await stop()
        await relay.idle(within: limit)
    }

    /// Serves until stopped (or the task is cancelled).
    public func wait() async {
        for task in tasks { await task.value }
    }
}
