// Keystrokes handed over on the transport's thread: DirectInbound's order and bounds, and the in-process input route.
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

@Test func chunksBeforeADivertReachItsHandlerFirstAndInOrder() async throws {
    let inbound = DirectInbound(limitBytes: 1 << 20)
    let seen = Mutex<[[UInt8]]>([])
    await onPlainThread {
        for i in 0..<100 { inbound.deliver([UInt8(i)]) }
    }
    inbound.divert { chunk in seen.withLock { $0.append(chunk) } }
    #expect(seen.withLock { $0.count } == 100, "the held chunks are handed over inside divert")
    await onPlainThread {
        for i in 100..<200 { inbound.deliver([UInt8(i)]) }
    }
    #expect(seen.withLock { $0 } == (0..<200).map { [UInt8($0)] }, "later chunks follow, on the delivering thread, in order")
    inbound.finish()
    var iterator = inbound.makeAsyncIterator()
    #expect(try await iterator.next() == nil, "a diverted inbound yields nothing and ends at finish")
}

@Test func chunksDeliveredDuringADivertKeepTheirOrder() async throws {
    for _ in 0..<20 {
        let inbound = DirectInbound(limitBytes: 1 << 20)
        let seen = Mutex<[UInt8]>([])
        for i in 0..<50 { inbound.deliver([UInt8(i)]) }
        let racing = Task.detached {
            await onPlainThread { for i in 50..<250 { inbound.deliver([UInt8(i)]) } }
        }
        inbound.divert { chunk in seen.withLock { $0 += chunk } }
        await racing.value
        #expect(seen.withLock { $0 } == (0..<250).map { UInt8($0) })
    }
}

@Test func aDirectInboundIsReadInOrderUntilItEnds() async throws {
    let inbound = DirectInbound(limitBytes: 1 << 20)
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

@Test func aDirectInboundBoundsWhatWaitsInBytesAndAsksForMoreOnceRead() async throws {
    let wakes = Mutex(0)
    let inbound = DirectInbound(limitBytes: 10) { wakes.withLock { $0 += 1 } }
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

    let waiting = DirectInbound(limitBytes: 1 << 20)
    let cancelled = Task { () -> [UInt8]? in
        var it = waiting.makeAsyncIterator()
        return try await it.next()
    }
    try await Task.sleep(for: .milliseconds(50))
    cancelled.cancel()
    #expect(try await cancelled.value == nil, "a cancelled reader stops waiting")
}

@Test func anEmbeddedRelayHandsKeystrokesToItsHostOnTheTransportThread() async throws {
    let e = await EmbeddedRelay()
    let relay = e.relay, terminal = e.terminal
    #expect(await e.status.waitReady(timeout: .seconds(5)))

    // A read-write terminal viewer whose transport delivers on its own thread.
    let typing = DirectInbound(limitBytes: 64 << 10)
    let viewer = Task {
        await relay.handle(Connection(inbound: typing, outbound: CollectingWriter(), peer: "rw",
                                      kind: .terminal(token: await e.token(), cols: 80, rows: 24)))
    }
    await onPlainThread { typing.deliver(Array("ls".utf8)) }
    #expect(await eventually { terminal.typed.withLock { $0 } == Array("ls".utf8) })
    await onPlainThread {
        typing.deliver(Array("\r".utf8))
        // Taken before `deliver` returned: no task in between.
        terminal.typed.withLock { #expect($0 == Array("ls\r".utf8)) }
    }

    // A read-only viewer's typing is dropped.
    let ignored = DirectInbound(limitBytes: 64 << 10)
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
