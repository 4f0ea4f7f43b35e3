// Host ⇄ relay ⇄ viewers in memory: the shared scenarios (RelayScenarios), late joiners without keyframes, the end.
import Testing
import Synchronization
import SwiftMateCore
import SwiftMateTestSupport

typealias FakeHostTerminal = RecordingHostTerminal
typealias FakeViewerTerminal = RecordingViewerTerminal

/// A relay on the in-memory transport, as the Core tests use it.
typealias Harness = ScenarioRelay

extension ScenarioRelay {
    /// A relay on a fresh in-memory transport; with `embeddedHost` hosts link in process, as an embedded relay's do.
    init(options: RelayOptions = RelayOptions(), embeddedHost: Bool = false) async throws {
        try await self.init(transport: InMemoryTransport(), endpoint: Endpoint(scheme: "memory", host: "relay", port: 0),
                            options: options, hostsInProcess: embeddedHost)
    }
}

@Test func theRelayScenariosPassInMemory() async throws {
    // The encoded path, as over a socket (the in-memory link has no in-process route).
    try await RelayScenarios.check(InMemoryTransport(), endpoint: Endpoint(scheme: "memory", host: "relay", port: 0))
}

@Test func withoutKeyframesLateViewersGetAResetAndTheTailFromALineBoundary() async throws {
    var options = RelayOptions()
    options.tailBytes = 32
    let h = try await Harness(options: options)
    let status = HostStatus()
    let host = h.startHost(FakeHostTerminal(), status: status)
    await status.waitReady()
    var seq: UInt64 = 0
    for i in 0..<20 {
        let line = Array("line \(i)\r\n".utf8)
        host.upstream.push(.output(seq: seq, bytes: line))
        seq += UInt64(line.count)
    }
    try await Task.sleep(for: .milliseconds(100))
    let view = FakeViewerTerminal()
    let task = h.join(token: await h.token(status, readOnly: true), terminal: view, input: AsyncStream { _ in })
    #expect(await eventually { view.text.hasSuffix("line 19\r\n") })
    #expect(view.text.hasPrefix("\u{1b}cline "))
    #expect(view.text.count <= 34, "\(view.text.debugDescription)")
    host.finish(exitStatus: 0)
    _ = try await task.value
    await h.stop()
}

@Test func aFullViewerQueueDropsItsBacklogInsteadOfBlocking() {
    let queue = OutboundQueue<[UInt8]>(limitBytes: 100, size: { $0.count })
    #expect(queue.push([UInt8](repeating: 1, count: 60)) == .queued)
    #expect(queue.push([UInt8](repeating: 2, count: 60)) == .overflowed(droppedBytes: 120))
    #expect(queue.queuedBytes == 0)
    #expect(queue.push([3]) == .queued)
    queue.close()
    #expect(queue.push([4]) == .closed)
}

@Test func theInMemoryTransportPassesTheTransportContract() async throws {
    try await TransportContract.check(InMemoryTransport(), endpoint: Endpoint(scheme: "memory", host: "contract", port: 0))
}

@Test func theNoneCodecAndTheTestFrontendsPassTheirContracts() async throws {
    try CodecContract.check(NoCodec(), sample: Array(String(repeating: "terminal output \u{1b}[1mbold\u{1b}[0m\r\n", count: 5000).utf8))
    try await FrontendContract.check(MemoryFrontend())
    try await FrontendContract.check(NullFrontend())
}

@Test func aViewerLearnsWhetherItDetachedOrTheRelayWentAway() async throws {
    let h = try await Harness()
    let status = HostStatus()
    let host = h.startHost(FakeHostTerminal(), status: status)
    await status.waitReady()
    let token = await h.token(status, readOnly: false)

    // The person detaches: input ends.
    let (input, typing) = AsyncStream<[UInt8]>.makeStream()
    let leaving = h.join(token: token, terminal: FakeViewerTerminal(), input: input)
    #expect(await eventually { await status.current().viewers.count == 1 })
    typing.finish()
    #expect(try await leaving.value.reason == "detached")

    // The relay closes the connection without a goodbye: not a detach.
    var endpoint = h.endpoint
    endpoint.path = token
    let (mine, relaySide) = InMemoryLink.pair()
    let closing = Task {
        let receiver = MessageReceiver(relaySide)
        let sender = MessageSender(relaySide.outbound)
        _ = try await receiver.next() // hello
        try await sender.send(.welcome(Welcome(codec: "none", sessionID: "s")))
        await sender.close()
    }
    let client = JoinClient(transport: OneConnection(mine), registry: h.registry, endpoint: endpoint, codecs: ["none"])
    let outcome = try await client.run(size: (80, 24), input: AsyncStream { _ in }, sizes: AsyncStream { $0.finish() },
                                       terminal: FakeViewerTerminal())
    #expect(outcome.reason == "the relay closed the connection")
    try await closing.value
    host.finish(exitStatus: 0)
    await h.stop()
}

/// A transport whose `connect` hands out one prepared connection.
struct OneConnection: Transport {
    let connection: Connection
    init(_ connection: Connection) { self.connection = connection }
    var name: String { "one" }
    func connect(to endpoint: Endpoint) async throws -> Connection { connection }
    func listen(on endpoint: Endpoint) async throws -> any Listener { throw SwiftMateError(.system, "no listening") }
}

/// A host linked in-process to a relay it embeds (as `swiftmate` with no relay configured).
struct EmbeddedRelay {
    let registry = PluginRegistry()
    let endpoint = Endpoint(scheme: "ssh", host: "127.0.0.1", port: 2222)
    let relay: Relay
    let status = HostStatus()
    let terminal = FakeHostTerminal()
    let client: HostClient
    let link: Task<Void, Never>

    init() async {
        var options = RelayOptions()
        options.codecs = ["none"]
        relay = Relay(registry: registry, options: options)
        await relay.advertise([endpoint])
        var hostOptions = HostOptions(relay: endpoint)
        hostOptions.codecs = ["none"]
        hostOptions.reconnect = false
        let client = HostClient(transport: LocalRelayTransport(relay: relay), registry: registry, options: hostOptions,
                                terminal: terminal, status: status)
        self.client = client
        link = Task { await client.run(size: { (80, 24) }) }
    }

    /// The token of the ssh join string (`read only` or not), once the host is linked.
    func token(readOnly: Bool = false) async -> String {
        let command = await status.current().connectionStrings[readOnly ? "ssh session read only" : "ssh session"] ?? ""
        return String(command.split(separator: " ").last?.split(separator: "@").first ?? "")
    }

    /// Ends the shared command and waits for the link to finish.
    func finish() async {
        client.finish(exitStatus: 0)
        await link.value
    }
}

@Test func aHostLinksToItsEmbeddedRelayInProcess() async throws {
    let e = await EmbeddedRelay()
    #expect(await e.status.waitReady(timeout: .seconds(5)))
    #expect(await e.status.current().connectionStrings["ssh session"]?.hasPrefix("ssh -p 2222 ") == true)
    #expect(await e.relay.sessionCount == 1)
    await e.finish()
    #expect(await eventually { await e.relay.sessionCount == 0 })
}

@Test func theLocalLinkMakesAWriterWaitForItsReader() async throws {
    let (a, b) = LocalLink.pair(limitBytes: 1000)
    let wrote = Mutex(0)
    let writer = Task {
        for _ in 0..<10 {
            try await a.outbound.write([UInt8](repeating: 1, count: 500))
            wrote.withLock { $0 += 500 }
        }
    }
    try await Task.sleep(for: .milliseconds(100))
    #expect(wrote.withLock { $0 } <= 1500, "the writer stops once 1000 bytes are unread")
    var received = 0
    var iterator = b.inbound.makeAsyncIterator()
    while received < 5000, let chunk = try await iterator.next() { received += chunk.count }
    try await writer.value
    #expect(received == 5000)
}
