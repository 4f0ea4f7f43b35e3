// What a transport with its own I/O hands its reader: BoundedInbound's order and bounds; keystrokes through an embedded relay.
import Foundation
import Testing
import Synchronization
import SwiftMateCore
import SwiftMateTestSupport

/// A viewer's terminal link as the relay writes to it.
private final class CollectingWriter: ByteWriter {
    let bytes = Mutex<[UInt8]>([])
    func write(_ chunk: [UInt8]) async throws { bytes.withLock { $0 += chunk } }
    func close() async {}
}

/// Runs `body` on a plain thread (as a transport's I/O thread would) and waits for it.
private func onPlainThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        Thread {
            body()
            done.resume()
        }.start()
    }
}

@Test func aBoundedInboundIsReadInOrderUntilItEnds() async throws {
    let inbound = BoundedInbound(limitBytes: 1 << 20)
    let reader = Task {
        var got: [UInt8] = []
        for try await chunk in inbound { got += chunk }
        return got
    }
    await onPlainThread {
        for i in 0..<1000 { inbound.deliver([UInt8(i % 256)]) }
        inbound.finish()
    }
    #expect(try await reader.value == (0..<1000).map { UInt8($0 % 256) })
}

@Test func aBoundedInboundBoundsWhatWaitsInBytesAndAsksForMoreOnceRead() async throws {
    let wakes = Mutex(0)
    let inbound = BoundedInbound(limitBytes: 10) { wakes.withLock { $0 += 1 } }
    #expect(inbound.room == 10)
    #expect(inbound.deliver([1, 2, 3, 4]) && inbound.deliver([5, 6, 7, 8]))
    #expect(inbound.room == 2, "room is the limit less what waits unread")
    #expect(inbound.deliver([9, 10]))
    #expect(inbound.room == 0, "full: the transport leaves the rest unread")
    var iterator = inbound.makeAsyncIterator()
    #expect(try await iterator.next() == [1, 2, 3, 4])
    #expect(wakes.withLock { $0 } == 0, "6 bytes still wait: more than half the limit")
    #expect(try await iterator.next() == [5, 6, 7, 8])
    #expect(wakes.withLock { $0 } == 1, "at half the limit the transport is asked to read on, once")
    #expect(inbound.room == 8)
    #expect(try await iterator.next() == [9, 10])
    #expect(wakes.withLock { $0 } == 1, "no wake-up without a transport waiting for room")

    inbound.finish(throwing: SwiftMateError(.connectionLost, "gone"))
    #expect(!inbound.deliver([11]), "nothing is taken after the end")
    await #expect(throws: SwiftMateError.self) { _ = try await iterator.next() }

    let waiting = BoundedInbound(limitBytes: 1 << 20)
    let cancelled = Task { () -> [UInt8]? in
        var it = waiting.makeAsyncIterator()
        return try await it.next()
    }
    try await Task.sleep(for: .milliseconds(50))
    cancelled.cancel()
    #expect(try await cancelled.value == nil, "a cancelled reader stops waiting")
}

@Test func anEmbeddedRelayHandsReadWriteViewersKeystrokesToItsHostAndDropsReadOnlyOnes() async throws {
    let e = await EmbeddedRelay()
    let relay = e.relay, terminal = e.terminal
    #expect(await e.status.waitReady(timeout: .seconds(5)))

    // A read-write terminal viewer whose transport delivers on its own thread.
    let typing = BoundedInbound(limitBytes: 64 << 10)
    let viewer = Task {
        await relay.handle(Connection(inbound: typing, outbound: CollectingWriter(), peer: "rw",
                                      kind: .terminal(token: await e.token(), cols: 80, rows: 24)))
    }
    await onPlainThread { typing.deliver(Array("ls".utf8)) }
    #expect(await eventually { terminal.typed.withLock { $0 } == Array("ls".utf8) })
    await onPlainThread { typing.deliver(Array("\r".utf8)) }
    #expect(await eventually { terminal.typed.withLock { $0 } == Array("ls\r".utf8) })

    // A read-only viewer's typing is dropped.
    let ignored = BoundedInbound(limitBytes: 64 << 10)
    let reader = Task {
        await relay.handle(Connection(inbound: ignored, outbound: CollectingWriter(), peer: "ro",
                                      kind: .terminal(token: await e.token(readOnly: true), cols: 80, rows: 24)))
    }
    #expect(await eventually { terminal.messages.withLock { $0.count } >= 2 }, "both viewers joined")
    await onPlainThread { ignored.deliver(Array("rm -rf /\r".utf8)) }
    try await Task.sleep(for: .milliseconds(100))
    #expect(terminal.typed.withLock { $0 } == Array("ls\r".utf8))

    typing.finish()
    ignored.finish()
    await viewer.value
    await reader.value
    await e.finish()
}
