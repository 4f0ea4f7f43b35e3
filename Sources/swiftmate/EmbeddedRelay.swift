// A relay running inside another command (the host's default, and `swiftmate relay`).
import Logging
import SwiftMateCore

/// A relay with its listeners, serving in background tasks until stopped.
struct EmbeddedRelay: Sendable {
    let relay: Relay
    let listeners: [any Listener]
    let tasks: [Task<Void, Never>]

    /// The bound endpoints (real ports).
    var endpoints: [Endpoint] { listeners.map(\.localEndpoint) }

    static func start(registry: PluginRegistry, options: RelayOptions, listen: [Endpoint], logger: Logger,
                      executor: (any TaskExecutor)? = nil) async throws -> EmbeddedRelay {
        let relay = Relay(registry: registry, options: options, logger: logger, executor: executor)
        var listeners: [any Listener] = []
        for endpoint in listen {
            let transport = try registry.transport(endpoint.scheme)
            listeners.append(try await transport.listen(on: endpoint, access: relay.access))
        }
        await relay.advertise(listeners.map(\.localEndpoint))
        let tasks = listeners.map { listener in
            Task {
                do {
                    try await listener.run { connection in await relay.handle(connection) }
                } catch {
                    logger.error("listener \(listener.localEndpoint) failed: \(error)")
                }
            }
        }
        return EmbeddedRelay(relay: relay, listeners: listeners, tasks: tasks)
    }

    func stop() async {
        for listener in listeners { await listener.close() }
        tasks.forEach { $0.cancel() }
    }

    /// Serves until the task is cancelled.
    func wait() async {
        for task in tasks { await task.value }
    }
}
