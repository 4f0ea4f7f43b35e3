// The contract every transport passes: order, both directions, end of stream, concurrent connections, back-pressure.
import Synchronization
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
        try await checkBackPressure(transport, endpoint: endpoint)
        do {
            let late = try await transport.connect(to: listener.localEndpoint)
            await late.outbound.close()
        } catch {}
    }

    /// A peer that does not read makes the writer wait (what the transport holds for it is bounded), and once it
    /// reads it gets every byte, in order.
    static func checkBackPressure(_ transport: any Transport, endpoint: Endpoint) async throws {
        let name = transport.name
        let listener = try await transport.listen(on: endpoint)
        let total = 64 << 20, chunkSize = 32 << 10 // above what a kernel holds for a loopback socket (here up to 36 MiB)
        let (reading, startReading) = AsyncStream<Void>.makeStream()
        let received = Mutex<(count: Int, inOrder: Bool)>((0, true))
        let server = Task {
            try await listener.run { connection in
                for await _ in reading { break } // does not read until told to
                var iterator = connection.inbound.makeAsyncIterator()
                while let chunk = try? await iterator.next() {
                    let ok = received.withLock { r -> Bool in
                        // Every 32 KiB run of the writer has its own byte: a sample of each chunk shows order.
                        for i in Array(stride(from: 0, to: chunk.count, by: 509)) + [chunk.count - 1]
                        where chunk[i] != UInt8(truncatingIfNeeded: (r.count + i) / chunkSize) {
                            r.inOrder = false
                            break
                        }
                        r.count += chunk.count
                        return r.count < total
                    }
                    if !ok { break }
                }
                await connection.outbound.close()
            }
        }
        defer { server.cancel() }
        let connection = try await transport.connect(to: listener.localEndpoint)
        let written = Mutex(0)
        let writer = Task {
            for n in 0..<(total / chunkSize) {
                try await connection.outbound.write([UInt8](repeating: UInt8(truncatingIfNeeded: n), count: chunkSize))
                written.withLock { $0 += chunkSize }
            }
        }
        try await Task.sleep(for: .milliseconds(1500))
        let before = written.withLock { $0 }
        try await Task.sleep(for: .milliseconds(500))
        let after = written.withLock { $0 }
        try require(after < total && after == before, name, "a writer waits while its peer does not read (what is held for the peer is bounded)",
                    "\(before) then \(after) of \(total) bytes taken from the writer with nothing read")
        startReading.finish()
        try await writer.value
        let deadline = ContinuousClock.now + .seconds(60)
        while received.withLock({ $0.count }) < total && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        let (count, inOrder) = received.withLock { $0 }
        try require(count == total && inOrder, name, "once the peer reads, it gets every byte that waited, in order",
                    "\(count) of \(total) bytes, in order: \(inOrder)")
        await connection.outbound.close()
        await listener.close()
    }
}
