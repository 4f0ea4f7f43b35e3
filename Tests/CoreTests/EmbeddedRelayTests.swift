// Host output through an embedded relay (frames over the in-process link, as over a remote one): small and bulk output keep their order.
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

/// A terminal viewer's link as the relay writes to it.
private final class CollectingWriter: ByteWriter {
    let bytes = Mutex<[UInt8]>([])
    func write(_ chunk: [UInt8]) async throws { bytes.withLock { $0 += chunk } }
    func close() async {}
}

@Test func aTerminalViewerGetsSmallAndBulkOutputOnceAndInOrder() async throws {
    let e = await EmbeddedRelay()
    #expect(await e.status.waitReady(timeout: .seconds(5)))
    let link = CollectingWriter()
    let typing = BoundedInbound(limitBytes: 64 << 10)
    let viewer = Task {
        await e.relay.handle(Connection(inbound: typing, outbound: link, peer: "v",
                                        kind: .terminal(token: await e.token(), cols: 80, rows: 24)))
    }
    let client = e.client
    await pushOutput([Array("ready".utf8)], to: client, from: 0)
    #expect(await eventually { String(decoding: link.bytes.withLock { $0 }, as: UTF8.self).hasSuffix("ready") })
    var pieces: [[UInt8]] = []
    var expected: [UInt8] = []
    for i in 0..<200 {
        let piece = i % 5 == 2 ? [UInt8](repeating: UInt8(ascii: "a") + UInt8(i % 26), count: 4095) : Array("<\(i)>".utf8)
        pieces.append(piece)
        expected += piece
    }
    await pushOutput(pieces, to: client, from: 5)
    let all = Array("ready".utf8) + expected
    #expect(await eventually { link.bytes.withLock { $0.count } >= all.count })
    #expect(Array(link.bytes.withLock { $0 }.suffix(all.count)) == all, "every byte once, in order")
    typing.finish()
    await viewer.value
    await e.finish()
}
