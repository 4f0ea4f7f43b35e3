// The contract every transport passes: order, both directions, end of stream, concurrent connections.
import SwiftMateCore

/// Checks a transport against the `Transport` contract on `endpoint` (port 0 is fine).
public enum TransportContract {
    /// Runs every check; throws `ContractViolation`.
    public static func check(_ transport: any Transport, endpoint: Endpoint) async throws {
        let name = transport.name
        let listener = try await transport.listen(on: endpoint)
        try require(listener.localEndpoint.port != 0 || endpoint.port != 0, name, "port 0 binds a real port")
        let server = Task {
            try await listener.run { connection in
                // Echo server: every byte back, in order, until the peer closes.
                var iterator = connection.inbound.makeAsyncIterator()
                while let chunk = try? await iterator.next() {
                    try? await connection.outbound.write(chunk)
                }
                await connection.outbound.close()
            }
        }
        defer { server.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<4 {
                group.addTask {
                    let connection = try await transport.connect(to: listener.localEndpoint)
                    var expected: [UInt8] = []
                    for i in 0..<50 {
                        let chunk = [UInt8](repeating: UInt8((client * 50 + i) % 251), count: 1 + (i * 997) % 20000)
                        expected += chunk
                        try await connection.outbound.write(chunk)
                    }
                    var received: [UInt8] = []
                    var iterator = connection.inbound.makeAsyncIterator()
                    while received.count < expected.count, let chunk = try await iterator.next() {
                        received += chunk
                    }
                    try require(received == expected, name, "bytes arrive complete and in order", "client \(client): \(received.count) of \(expected.count)")
                    await connection.outbound.close()
                    // After close, inbound ends (nil or an error), it does not hang.
                    while let _ = try? await iterator.next() {}
                }
            }
            try await group.waitForAll()
        }
        await listener.close()
        do {
            let late = try await transport.connect(to: listener.localEndpoint)
            await late.outbound.close()
        } catch {}
    }
}
