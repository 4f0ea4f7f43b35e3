// No output lost, none doubled: the host keeps what the relay has not acknowledged and sends it again on its next
// link; the relay acknowledges every MiB and every second; skipped output is told once and repainted.
import Synchronization
import Testing
@testable import SwiftMateCore
import SwiftMateTestSupport

@Test func theRingKeepsWhatIsNotAcknowledgedAndCountsWhatItHadToDrop() {
    var ring = ReplayRing(capacity: 10)
    ring.sent(seq: 0, bytes: Array("abcdef".utf8))
    ring.ack(2)
    #expect(ring.start == 2 && ring.end == 6)
    ring.sent(seq: 6, bytes: Array("ghij".utf8))
    var (chunks, lost) = ring.take(chunk: 3)
    #expect(chunks.map(\.seq) == [2, 5, 8] && chunks.flatMap(\.bytes) == Array("cdefghij".utf8) && lost == 0)
    // Full: the oldest go; acknowledged later they were not lost...
    ring.sent(seq: 10, bytes: Array("klmn".utf8))
    #expect(ring.start == 4 && ring.end == 14 && ring.count == 10)
    ring.ack(5)
    #expect(ring.take().lost == 0)
    // ...but let go without an acknowledgement, they are counted once, when the ring is sent again.
    ring.sent(seq: 14, bytes: Array("opqrst".utf8))
    (chunks, lost) = ring.take()
    #expect(lost == 5 && chunks.flatMap(\.bytes) == Array("klmnopqrst".utf8))
    #expect(ring.take().lost == 0)
    #expect(ring.takeSkipped() == 0, "evicting is no skip while the link lives")
    // A jump ahead (the queue dropped output) is skipped at once; acknowledging past the end empties the ring.
    ring.sent(seq: 26, bytes: Array("uv".utf8))
    #expect(ring.takeSkipped() == 6 && ring.start == 26)
    #expect(ring.take().lost == 0, "a jump is not counted twice")
    ring.ack(100)
    #expect(ring.count == 0 && ring.end == 28)
    ring.sent(seq: 28, bytes: Array("w".utf8))
    #expect(ring.takeSkipped() == 0)
}

@Test func theRelayAcknowledgesEveryMebibyteAndEverySecond() throws {
    let start = ContinuousClock.now
    var state = RelaySessionState(id: "s", cols: 80, rows: 24, tailBytes: 1 << 16, maxViewers: 10, now: start)
    let chunk = [UInt8](repeating: 0x41, count: 300_000)
    var acks: [UInt64] = []
    var seq: UInt64 = 0
    for _ in 0..<7 {
        for case .toHost(.ack(let offset)) in try state.hostOutput(seq: seq, bytes: chunk, now: start) { acks.append(offset) }
        seq += UInt64(chunk.count)
    }
    #expect(acks == [1_200_000], "an ack once a MiB of output is past the last one")
    #expect(try state.hostOutput(seq: seq, bytes: [0x42], now: start + .seconds(1)).contains(.toHost(.ack(offset: 2_100_001))),
            "output a second after the last ack tells the rest")
    let soon = try state.hostOutput(seq: seq + 1, bytes: [0x42], now: start + .milliseconds(1500))
    #expect(!soon.contains { if case .toHost(.ack) = $0 { true } else { false } }, "and not again within the second")
}

/// A relay played by the test: each accepted host link, in order.
private final class FakeRelay: Sendable {
    let transport = InMemoryTransport()
    let endpoint: Endpoint
    let links: AsyncStream<Connection>
    private let listener: any Listener

    init() async throws {
        listener = try await transport.listen(on: Endpoint(scheme: "memory", host: "fake", port: 0))
        endpoint = listener.localEndpoint
        let (links, sink) = AsyncStream<Connection>.makeStream()
        self.links = links
        Task { [listener] in try? await listener.run { connection in
            sink.yield(connection)
            // Held open until the test closes it.
            try? await Task.sleep(for: .seconds(60))
        } }
    }
}

/// The output a fake relay link received, by offset; the link's sender, to ack or close.
private func serve(_ connection: Connection, until bytes: Int, ackAt: UInt64?) async throws -> [(UInt64, [UInt8])] {
    let receiver = MessageReceiver(connection), sender = MessageSender(connection.outbound)
    guard case .hello? = try await receiver.next() else { throw SwiftMateError(.protocolViolation, "no hello") }
    try await sender.send(.welcome(Welcome(codec: "none", sessionID: "fake", readWriteToken: "rw", readOnlyToken: "ro")))
    var got: [(UInt64, [UInt8])] = []
    var total = 0
    var acked = false
    while total < bytes, let message = try await receiver.next() {
        guard case .output(let seq, let b) = message else { continue }
        got.append((seq, b))
        total += b.count
        if let ackAt, !acked, seq + UInt64(b.count) >= ackAt {
            try await sender.send([.ack(offset: ackAt)])
            acked = true
        }
    }
    return got
}

@Test func whatTheRelayHadNotAcknowledgedIsSentAgainOnTheNextLink() async throws {
    let relay = try await FakeRelay()
    var options = HostOptions(relay: relay.endpoint)
    options.codecs = ["none"]
    options.reconnectDelaySeconds = 0.05
    let host = HostClient(transport: relay.transport, registry: PluginRegistry(), options: options, terminal: RecordingHostTerminal(),
                          status: HostStatus())
    let running = Task { await host.run(size: { (80, 24) }) }
    // The command's output: 3,000 numbered lines, pushed as the PTY reader does.
    var stream: [UInt8] = []
    for i in 0..<3000 {
        let line = Array("line \(i)\r\n".utf8)
        host.upstream.push(.output(seq: UInt64(stream.count), bytes: line))
        stream += line
    }
    var links = relay.links.makeAsyncIterator()
    // The first link acknowledges up to 10,000 and dies after about 20,000 bytes, as a killed relay does.
    let first = try #require(await links.next())
    let before = try await serve(first, until: 20_000, ackAt: 10_000)
    await first.outbound.close()
    // The next link gets everything after the acknowledged offset: exactly once, in order, to the end.
    let second = try #require(await links.next())
    let after = try await serve(second, until: stream.count - 10_000, ackAt: nil)
    #expect(after.first?.0 == 10_000, "the resend starts at the acknowledged offset, not before: \(after.first?.0 ?? 0)")
    var expected = 10_000
    for (seq, bytes) in after {
        #expect(seq == UInt64(expected), "no gap or overlap at \(seq)")
        expected = Int(seq) + bytes.count
    }
    #expect(after.flatMap(\.1) == Array(stream[10_000...]))
    #expect(before.flatMap(\.1).count >= 20_000)
    running.cancel()
}

@Test func skippedOutputIsToldOnceAndRepainted() async throws {
    let relay = try await FakeRelay()
    var options = HostOptions(relay: relay.endpoint)
    options.codecs = ["none"]
    options.keyframes = { Keyframe(seq: 0, cols: 80, rows: 24, bytes: Array("\u{1b}cthe screen".utf8)) }
    let host = HostClient(transport: relay.transport, registry: PluginRegistry(), options: options, terminal: RecordingHostTerminal(),
                          status: HostStatus())
    let running = Task { await host.run(size: { (80, 24) }) }
    var links = relay.links.makeAsyncIterator()
    let link = try #require(await links.next())
    let receiver = MessageReceiver(link), sender = MessageSender(link.outbound)
    _ = try await receiver.next()
    try await sender.send(Message.welcome(Welcome(codec: "none", sessionID: "fake")))
    // Output, then a jump of 500 bytes (the host's queue dropped them), then more.
    host.upstream.push(.output(seq: 0, bytes: Array("before\r\n".utf8)))
    host.upstream.push(.output(seq: 508, bytes: Array("after\r\n".utf8)))
    var notices: [String] = [], keyframes = 0
    while let message = try await receiver.next() {
        if case .notice(let text) = message { notices.append(text) }
        if case .keyframe = message { keyframes += 1; break }
    }
    #expect(notices.count == 1 && notices[0].contains("500 bytes of output were skipped"), "\(notices)")
    #expect(keyframes == 1)
    running.cancel()
}

@Test func aViewerComingBackGetsTheRestWithoutARepaintWhenItIsKept() throws {
    var state = RelaySessionState(id: "s", cols: 80, rows: 24, tailBytes: 1 << 16, maxViewers: 10)
    _ = try state.hostOutput(seq: 0, bytes: Array("0123456789".utf8))
    func sent(_ actions: [RelaySessionState.Action]) -> [Message] {
        actions.compactMap { if case .toViewer(_, let m) = $0 { m } else { nil } }
    }
    let joinedResumed = state.join(readOnly: true, peer: "p", cols: 80, rows: 24, link: .framed, resumeFrom: 4)
    let (_, resumed) = try #require(joinedResumed)
    #expect(sent(resumed) == [.resize(viewer: 0, cols: 80, rows: 24), .output(seq: 4, bytes: Array("456789".utf8))])
    let joinedAhead = state.join(readOnly: true, peer: "p", cols: 80, rows: 24, link: .framed, resumeFrom: 10)
    let (_, ahead) = try #require(joinedAhead)
    #expect(sent(ahead) == [.resize(viewer: 0, cols: 80, rows: 24)], "a viewer that has it all gets only what comes next")
    // Output before what the relay keeps (a restarted relay): a repaint, as any joiner gets.
    var later = RelaySessionState(id: "s", cols: 80, rows: 24, tailBytes: 1 << 16, maxViewers: 10)
    _ = try later.hostOutput(seq: 500, bytes: Array("abc\r\n".utf8))
    let joinedBehind = later.join(readOnly: true, peer: "p", cols: 80, rows: 24, link: .framed, resumeFrom: 100)
    let (_, behind) = try #require(joinedBehind)
    #expect(sent(behind).contains { if case .keyframe = $0 { true } else { false } })
}

@Test func aJoinClientComesBackByItselfAndShowsEachByteOnce() async throws {
    let relay = try await FakeRelay()
    var endpoint = relay.endpoint
    endpoint.path = "token"
    let client = JoinClient(transport: relay.transport, registry: PluginRegistry(), endpoint: endpoint, codecs: ["none"], reconnect: true)
    let terminal = FakeViewerTerminal()
    let (input, typing) = AsyncStream<[UInt8]>.makeStream()
    let running = Task { try await client.run(size: (80, 24), input: input, sizes: AsyncStream { _ in }, terminal: terminal) }
    var links = relay.links.makeAsyncIterator()
    // The first link shows 0..<10 and dies.
    let first = try #require(await links.next())
    var receiver = MessageReceiver(first), sender = MessageSender(first.outbound)
    guard case .hello(let hello)? = try await receiver.next() else { Issue.record("no hello"); return }
    #expect(hello.options[JoinClient.resumeOption] == nil)
    try await sender.send(.welcome(Welcome(codec: "none", sessionID: "s", readOnly: true)))
    try await sender.send([.output(seq: 0, bytes: Array("0123456789".utf8))])
    #expect(await eventually { terminal.text == "0123456789" })
    await first.outbound.close()
    // The next link: the client says where it stood; what it gets again from before that is not shown twice.
    let second = try #require(await links.next())
    receiver = MessageReceiver(second)
    sender = MessageSender(second.outbound)
    guard case .hello(let again)? = try await receiver.next() else { Issue.record("no hello"); return }
    #expect(again.options[JoinClient.resumeOption] == "10")
    try await sender.send(.welcome(Welcome(codec: "none", sessionID: "s", readOnly: true)))
    try await sender.send([.output(seq: 6, bytes: Array("6789abc".utf8)), .output(seq: 13, bytes: Array("def".utf8)),
                           .goodbye(reason: "the end", exitStatus: 0)])
    let outcome = try await running.value
    #expect(terminal.text == "0123456789abcdef")
    #expect(outcome.reason == "the end")
    typing.finish()
}

@Test func viewersARelayKeptAreNotAnnouncedAgainWhenTheHostIsBack() async throws {
    let relay = try await FakeRelay()
    var options = HostOptions(relay: relay.endpoint)
    options.codecs = ["none"]
    options.reconnectDelaySeconds = 0.05
    let terminal = RecordingHostTerminal(), status = HostStatus()
    let host = HostClient(transport: relay.transport, registry: PluginRegistry(), options: options, terminal: terminal, status: status)
    let running = Task { await host.run(size: { (80, 24) }) }
    var links = relay.links.makeAsyncIterator()
    let kept = ViewerDescription(id: 1, readOnly: true, peer: "10.0.0.1:1000"), new = ViewerDescription(id: 2, readOnly: false, peer: "10.0.0.2:2000")
    func welcome(_ connection: Connection, then messages: [Message]) async throws {
        let receiver = MessageReceiver(connection), sender = MessageSender(connection.outbound)
        guard case .hello? = try await receiver.next() else { throw SwiftMateError(.protocolViolation, "no hello") }
        try await sender.send(.welcome(Welcome(codec: "none", sessionID: "fake", readWriteToken: "rw", readOnlyToken: "ro")))
        try await sender.send(messages)
    }
    let first = try #require(await links.next())
    try await welcome(first, then: [.viewerJoined(kept, count: 1)])
    #expect(await eventually { await status.current().viewers.count == 1 })
    await first.outbound.close()
    // The relay kept the session: it tells of the viewer it kept again, and of one that joined meanwhile.
    let second = try #require(await links.next())
    try await welcome(second, then: [.viewerJoined(kept, count: 1), .viewerJoined(new, count: 2)])
    #expect(await eventually { await status.current().viewers.count == 2 })
    let joins = terminal.messages.withLock { $0 }.filter { $0.contains("a mate has joined") }
    #expect(joins == ["swiftmate: a mate has joined (10.0.0.1:1000, read-only) -- 1 connected",
                      "swiftmate: a mate has joined (10.0.0.2:2000) -- 2 connected"], "\(joins)")
    running.cancel()
}
