// Connections that never finish their hello hold bounded memory in total and per address; joins still get through.
import Testing
import Synchronization
import SwiftMateCore
import SwiftMateTestSupport

/// A connection from `peer` handed straight to the relay (as a listener would).
private func connect(_ relay: Relay, from peer: String) -> Connection {
    let (client, server) = LocalLink.pair(limitBytes: 1 << 20, peerA: peer, peerB: "relay")
    Task { await relay.handle(server) }
    return client
}

/// Sends the first `sent` bytes of a frame that declares `declared` bytes, then waits.
private func partialFrame(_ c: Connection, declared: Int, sent: Int) async throws {
    var bytes = Framing.frame(Array(repeating: 0x41, count: declared))
    bytes.removeLast(declared - sent)
    try await c.outbound.write(bytes)
}

@Test func ticketsCountOnlyAboveTheAllowanceAndGiveEverythingBack() throws {
    let budget = HandshakeBudget(totalBytes: 10_000, perAddress: 2, allowanceBytes: 1000)
    var a = budget.admit(peer: "10.0.0.1:1000")
    let b = budget.admit(peer: "10.0.0.1:1001")
    #expect(a != nil && b != nil)
    #expect(budget.admit(peer: "10.0.0.1:1002") == nil, "a third from one address")
    #expect(budget.admit(peer: "[::1]:5") != nil)
    try a?.hold(900)
    #expect(budget.heldBytes == 0)
    try a?.hold(6000)
    #expect(budget.heldBytes == 5000)
    #expect(throws: SwiftMateError.self) { try b?.hold(7000) }
    #expect(budget.heldBytes == 5000, "a refused hold counts nothing")
    try b?.hold(5900)
    #expect(budget.heldBytes == 9900)
    a = nil // closed without finishing: deinit gives back its share and its address slot
    #expect(budget.heldBytes == 4900)
    #expect(budget.handshakes(from: "10.0.0.1") == 1)
    b?.release()
    #expect(budget.heldBytes == 0 && budget.handshakes(from: "10.0.0.1") == 0)
}

@Test func aHandshakeFloodIsRefusedPastTheBudgetWhileAViewerStillJoins() async throws {
    var options = RelayOptions()
    options.handshakeBytes = 100_000
    options.handshakesPerAddress = 1000
    options.helloBytes = 64 << 10
    let h = try await Harness(options: options)
    let status = HostStatus()
    let host = h.startHost(FakeHostTerminal(), status: status)
    await status.waitReady()
    host.upstream.push(.output(seq: 0, bytes: Array("the-screen\r\n".utf8)))

    // Each holds 40,000 bytes of an unfinished hello: two fit under 100,000 (above 4 KiB each), the third does not.
    var flood: [Connection] = []
    for i in 0..<3 {
        let c = connect(h.relay, from: "10.0.0.1:\(2000 + i)")
        try await partialFrame(c, declared: 60_000, sent: 40_000)
        flood.append(c)
        if i < 2 { #expect(await eventually { h.relay.handshakes.heldBytes >= (i + 1) * 35_000 }) }
    }
    let refused = MessageReceiver(flood[2])
    guard case .refused(let code, let reason)? = try await refused.next() else { Issue.record("the third was not refused"); return }
    #expect(code == .overloaded)
    #expect(reason.contains("try again"))
    #expect(h.relay.handshakes.heldBytes <= 100_000)

    // A declared frame past hello_bytes is refused at its length prefix, before any of it is held.
    let big = connect(h.relay, from: "10.0.0.2:1")
    try await partialFrame(big, declared: 1 << 20, sent: 10)
    guard case .refused(.badRequest, let why)? = try await MessageReceiver(big).next() else { Issue.record("a 1 MiB hello was not refused"); return }
    #expect(why.contains("limit is 65536"))

    // Meanwhile a viewer's small hello gets through, and sees the session.
    let view = FakeViewerTerminal()
    let viewer = h.join(token: await h.token(status, readOnly: true), terminal: view, input: AsyncStream { _ in })
    #expect(await eventually { view.text.contains("the-screen") })

    for c in flood { await c.outbound.close() }
    #expect(await eventually { h.relay.handshakes.heldBytes == 0 && h.relay.handshakes.handshakes(from: "10.0.0.1") == 0 })
    host.finish(exitStatus: 0)
    _ = try await viewer.value
    await h.stop()
}

@Test func oneAddressMayHoldOnlySoManyUnfinishedHandshakes() async throws {
    var options = RelayOptions()
    options.handshakesPerAddress = 4
    let h = try await Harness(options: options)
    var open: [Connection] = []
    for i in 0..<4 {
        let c = connect(h.relay, from: "10.0.0.3:\(i)")
        try await c.outbound.write([0, 0]) // half a length prefix, then nothing
        open.append(c)
    }
    #expect(await eventually { h.relay.handshakes.handshakes(from: "10.0.0.3") == 4 })
    let fifth = connect(h.relay, from: "10.0.0.3:99")
    guard case .refused(.overloaded, let reason)? = try await MessageReceiver(fifth).next() else { Issue.record("the fifth was admitted"); return }
    #expect(reason.contains("your address"))
    // Another address is not affected.
    let other = connect(h.relay, from: "10.0.0.4:1")
    try await other.outbound.write([0, 0])
    #expect(await eventually { h.relay.handshakes.handshakes(from: "10.0.0.4") == 1 })
    for c in open + [other] { await c.outbound.close() }
    #expect(await eventually { h.relay.handshakes.handshakes(from: "10.0.0.3") == 0 })
    await h.stop()
}

@Test func freedMemoryIsHandedBackOnceWhenABurstIsOver() throws {
    let calls = Mutex(0)
    let budget = HandshakeBudget(totalBytes: 64 << 20, perAddress: 100, allowanceBytes: 0, afterBurst: { calls.withLock { $0 += 1 } })
    var tickets: [HandshakeBudget.Ticket] = []
    for i in 0..<10 {
        let t = try #require(budget.admit(peer: "10.0.0.5:\(i)"))
        try t.hold(1 << 20)
        tickets.append(t)
    }
    tickets.removeLast(2) // 8 MiB still held: the burst is not over
    #expect(calls.withLock { $0 } == 0)
    tickets.removeAll()
    #expect(calls.withLock { $0 } == 1)
    let small = try #require(budget.admit(peer: "10.0.0.5:99"))
    try small.hold(2 << 20)
    small.release()
    #expect(calls.withLock { $0 } == 1, "a small handshake is no burst")
}
