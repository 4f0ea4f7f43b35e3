// Host output across the in-process link as calls: the queue's diversion keeps order; small and bulk output interleave.
import Foundation
import Testing
import Synchronization
import SwiftMateCore
import SwiftMateTestSupport

/// Pushes `pieces` as output from `seq` on, from a plain thread as the PTY reader does (a pause after small ones).
private func pushOutput(_ pieces: [[UInt8]], to client: HostClient, from seq: UInt64) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        Thread {
            var seq = seq
            for piece in pieces {
                client.upstream.push(.output(seq: seq, bytes: piece))
                seq += UInt64(piece.count)
                if piece.count < 10 { usleep(200) }
            }
            done.resume()
        }.start()
    }
}

@Test func aDivertedQueueHandsOverItsBacklogFirstAndKeepsOrderWhenItemsAreDeclined() async throws {
    let queue = OutboundQueue<Int>(limitBytes: 1 << 20) { _ in 1 }
    for i in 0..<10 { queue.push(i) }
    let taken = Mutex<[Int]>([])
    queue.divert { item in
        guard item % 25 != 24 else { return false } // 24 is declined
        taken.withLock { $0.append(item) }
        return true
    }
    #expect(taken.withLock { $0 } == Array(0..<10), "the backlog goes to the handler inside divert")
    for i in 10..<30 { queue.push(i) }
    #expect(taken.withLock { $0 } == Array(0..<24), "pushes go to the handler until it declines one")
    #expect(await queue.popAll() == Array(24..<30), "the declined item and everything after it are queued, in order")

    // Diverting again while items wait hands them over first; undivert queues again.
    queue.push(30)
    queue.divert { item in
        taken.withLock { $0.append(item) }
        return true
    }
    queue.push(31)
    queue.undivert()
    queue.push(32)
    #expect(taken.withLock { $0.suffix(2) } == [30, 31])
    #expect(await queue.popAll() == [32])
}

@Test func aConsumerWaitingOnADivertedQueueGetsOnlyWhatIsDeclined() async throws {
    let queue = OutboundQueue<Int>(limitBytes: 1 << 20) { _ in 1 }
    let consumer = Task { await queue.popAll() }
    try await Task.sleep(for: .milliseconds(50))
    queue.divert { $0 < 5 }
    for i in 0..<8 { queue.push(i) }
    #expect(await consumer.value == [5], "the waiting consumer is handed the first declined item")
    #expect(await queue.popAll() == [6, 7])
}

@Test func smallAndBulkOutputReachAViewerOfAnEmbeddedRelayInOrder() async throws {
    let e = await EmbeddedRelay()
    let relay = e.relay, client = e.client, endpoint = e.endpoint, registry = e.registry
    #expect(await e.status.waitReady(timeout: .seconds(5)))
    let token = await e.token()

    var joinEndpoint = endpoint
    joinEndpoint.path = token
    let view = FakeViewerTerminal()
    let join = JoinClient(transport: LocalRelayTransport(relay: relay), registry: registry, endpoint: joinEndpoint, codecs: ["none"])
    let viewer = Task {
        try await join.run(size: (80, 24), input: AsyncStream { _ in }, sizes: AsyncStream { $0.finish() }, terminal: view)
    }
    #expect(await eventually { await relay.sessionCount == 1 && view.text.contains("\u{1b}c") })

    // Keystroke-sized echoes and PTY-sized bursts, pushed from a plain thread as the PTY reader does.
    var expected: [UInt8] = []
    var pieces: [[UInt8]] = []
    for i in 0..<300 {
        let piece = i % 7 == 3 ? [UInt8](repeating: UInt8(ascii: "a") + UInt8(i % 26), count: 4095)
                               : Array("<\(i)>".utf8)
        pieces.append(piece)
        expected += piece
    }
    let shown = view.shown.withLock { $0.count }
    await pushOutput(pieces, to: client, from: 0)
    #expect(await eventually { view.shown.withLock { $0.count } >= shown + expected.count })
    #expect(Array(view.shown.withLock { $0 }.suffix(expected.count)) == expected, "every byte once, in order")

    await e.finish()
    _ = try await viewer.value
}

/// A terminal viewer's link that takes offered bytes at once (all, or every other offer).
private final class OfferingWriter: ByteWriter {
    let bytes = Mutex<[UInt8]>([])
    let offers = Mutex(0)
    let refuseEveryOther: Bool
    init(refuseEveryOther: Bool) { self.refuseEveryOther = refuseEveryOther }
    func write(_ chunk: [UInt8]) async throws { bytes.withLock { $0 += chunk } }
    func offer(_ chunk: [UInt8]) -> Bool {
        let n = offers.withLock { $0 += 1; return $0 }
        if refuseEveryOther && n % 2 == 0 { return false }
        bytes.withLock { $0 += chunk }
        return true
    }
    func close() async {}
}

@Test(arguments: [false, true])
func aTerminalViewersEchoGoesOutOnTheThreadThatHasItAndBurstsKeepTheirOrder(refusing: Bool) async throws {
    let e = await EmbeddedRelay()
    #expect(await e.status.waitReady(timeout: .seconds(5)))
    let link = OfferingWriter(refuseEveryOther: refusing)
    let typing = DirectInbound(limitBytes: 64 << 10)
    let viewer = Task {
        await e.relay.handle(Connection(inbound: typing, outbound: link, peer: "v",
                                        kind: .terminal(token: await e.token(), cols: 80, rows: 24)))
    }
    let client = e.client
    func push(_ pieces: [[UInt8]], from seq: UInt64) async { await pushOutput(pieces, to: client, from: seq) }
    await push([Array("ready".utf8)], from: 0)
    #expect(await eventually { String(decoding: link.bytes.withLock { $0 }, as: UTF8.self).hasSuffix("ready") })
    try await Task.sleep(for: .milliseconds(50))
    if !refusing {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                client.upstream.push(.output(seq: 5, bytes: Array("!".utf8)))
                // Taken before the push returned: no task in between.
                link.bytes.withLock { #expect(String(decoding: $0, as: UTF8.self).hasSuffix("ready!")) }
                done.resume()
            }.start()
        }
    } else {
        await push([Array("!".utf8)], from: 5)
    }
    var pieces: [[UInt8]] = []
    var expected: [UInt8] = []
    for i in 0..<200 {
        let piece = i % 5 == 2 ? [UInt8](repeating: UInt8(ascii: "a") + UInt8(i % 26), count: 4095) : Array("<\(i)>".utf8)
        pieces.append(piece)
        expected += piece
    }
    await push(pieces, from: 6)
    let all = Array("ready!".utf8) + expected
    #expect(await eventually { link.bytes.withLock { $0.count } >= all.count })
    #expect(Array(link.bytes.withLock { $0 }.suffix(all.count)) == all, "every byte once, in order")
    typing.finish()
    await viewer.value
    await e.finish()
}
