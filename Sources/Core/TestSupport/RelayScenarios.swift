// Host ⇄ relay ⇄ viewers scenarios written once, run over any transport: in memory and over real loopback links.
import Synchronization
import SwiftMateCore

/// A host terminal that records what reaches it (keystrokes, messages).
public final class RecordingHostTerminal: HostTerminal {
    /// Every byte typed by read-write viewers, in order.
    public let typed = Mutex<[UInt8]>([])
    /// Every message shown to the person at the host.
    public let messages = Mutex<[String]>([])
    /// An empty record.
    public init() {}
    public func writeToCommand(_ bytes: [UInt8], viewer: UInt32) { typed.withLock { $0 += bytes } }
    public func viewerResized(viewer: UInt32, cols: UInt16, rows: UInt16) {}
    public func viewerLeft(viewer: UInt32) {}
    public func showMessage(_ text: String) { messages.withLock { $0.append(text) } }
    /// The viewers waiting for the host's answer, as last told.
    public let waiting = Mutex<[ViewerDescription]>([])
    public func waitingViewers(_ waiting: [ViewerDescription]) { self.waiting.withLock { $0 = waiting } }
}

/// A join client's terminal that records what it was shown.
public final class RecordingViewerTerminal: JoinTerminal {
    /// Every byte displayed, in order.
    public let shown = Mutex<[UInt8]>([])
    /// An empty record.
    public init() {}
    public func display(_ bytes: [UInt8]) { shown.withLock { $0 += bytes } }
    public func sessionResized(cols: UInt16, rows: UInt16) {}
    public func showMessage(_ text: String) {}
    /// Every standing line set (nil: taken away), in order.
    public let standing = Mutex<[String?]>([])
    public func standingLine(_ text: String?) { standing.withLock { $0.append(text) } }
    /// What was displayed, as text.
    public var text: String { String(decoding: shown.withLock { $0 }, as: UTF8.self) }
}

/// Polls `condition` for up to `seconds`.
public func eventually(_ seconds: Double = 5, _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}

/// A relay serving one transport's listener, with hosts and join clients that link over that transport.
public struct ScenarioRelay: Sendable {
    /// The transport every link uses.
    public let transport: any Transport
    /// The relay under test.
    public let relay: Relay
    /// Where it listens.
    public let endpoint: Endpoint
    /// The plugins the relay and its hosts use (codec `none`).
    public let registry = PluginRegistry()
    private let listener: any Listener
    private let serving: Task<Void, Never>
    /// Hosts link as an embedded relay's host does (the in-process route), not over `transport`.
    private let hostsInProcess: Bool

    /// A relay with `options` (codec `none`, a short refusal delay) listening on `endpoint` (port 0: a free one);
    /// with `hostsInProcess`, hosts link to it as to an embedded relay.
    public init(transport: any Transport, endpoint: Endpoint, options: RelayOptions = RelayOptions(),
                hostsInProcess: Bool = false) async throws {
        self.hostsInProcess = hostsInProcess
        var options = options
        options.codecs = ["none"]
        options.refusalDelayMillis = 50...60
        let relay = Relay(registry: registry, options: options)
        let listener = try await transport.listen(on: endpoint, context: ListenContext(access: relay.access, inboundBytes: options.inboundBytes,
                                                                                   loopForLogin: { [relay] in relay.loop(forToken: $0) }))
        self.transport = transport
        self.relay = relay
        self.listener = listener
        self.endpoint = listener.localEndpoint
        await relay.advertise([listener.localEndpoint], provingKeys: transport.provesPublicKeys ? [transport.name] : [])
        serving = Task { try? await listener.run { await relay.handle($0) } }
    }

    /// A host linked to the relay (no reconnects), its session 80x24, publishing joins and leaves to `frontends`.
    public func startHost(_ terminal: RecordingHostTerminal, status: HostStatus, frontends: FrontendHub? = nil) -> HostClient {
        var options = HostOptions(relay: endpoint)
        options.codecs = ["none"]
        options.reconnect = false
        let link: any Transport = hostsInProcess ? LocalRelayTransport(relay: relay) : transport
        let client = HostClient(transport: link, registry: registry, options: options, terminal: terminal, status: status,
                                frontends: frontends)
        Task { await client.run(size: { (80, 24) }) }
        return client
    }

    /// The read-write or read-only token of the host's session, from its connection strings.
    public func token(_ status: HostStatus, readOnly: Bool) async -> String {
        let line = await status.current().connectionStrings["\(transport.name) session\(readOnly ? " read only" : "")"] ?? ""
        let last = line.split(separator: " ").last.map(String.init) ?? ""
        // `ssh -p PORT TOKEN@HOST` or `swiftmate join SCHEME://HOST:PORT/TOKEN`
        if let at = last.firstIndex(of: "@") { return String(last[..<at]) }
        return String(last.split(separator: "/").last ?? "")
    }

    /// A join client on `token`, typing what `input` yields.
    public func join(token: String, terminal: RecordingViewerTerminal, input: AsyncStream<[UInt8]>) -> Task<JoinOutcome, any Error> {
        var e = endpoint
        e.path = token
        let client = JoinClient(transport: transport, registry: registry, endpoint: e, codecs: ["none"])
        return Task {
            try await client.run(size: (80, 24), input: input, sizes: AsyncStream { $0.finish() }, terminal: terminal)
        }
    }

    /// Stops listening.
    public func stop() async {
        await listener.close()
        serving.cancel()
    }
}

/// The scenarios every transport must carry the same way: what a host sends reaches every viewer complete and in
/// order, only read-write viewers type, the end reaches everyone, wrong tokens learn nothing.
public enum RelayScenarios {
    /// Runs every scenario over `transport`, the relay listening on `endpoint`; throws `ContractViolation`.
    public static func check(_ transport: any Transport, endpoint: Endpoint) async throws {
        try await fanOutInputAndTheEnd(transport, endpoint: endpoint)
        try await wrongTokens(transport, endpoint: endpoint)
    }

    static func fanOutInputAndTheEnd(_ transport: any Transport, endpoint: Endpoint) async throws {
        let name = transport.name
        let h = try await ScenarioRelay(transport: transport, endpoint: endpoint)
        let hostTerminal = RecordingHostTerminal(), status = HostStatus()
        let host = h.startHost(hostTerminal, status: status)
        try require(await status.waitReady(timeout: .seconds(10)), name, "a host opens a session")
        let rw = await h.token(status, readOnly: false), ro = await h.token(status, readOnly: true)
        try require(rw != ro && rw.count == 22 && ro.count == 22, name, "the session has distinct read-write and read-only tokens", "\(rw) \(ro)")

        var sent = Array("prompt$ ".utf8)
        host.upstream.push(.output(seq: 0, bytes: sent))
        let rwView = RecordingViewerTerminal(), roView = RecordingViewerTerminal()
        let (rwInput, rwTyping) = AsyncStream<[UInt8]>.makeStream()
        let (roInput, roTyping) = AsyncStream<[UInt8]>.makeStream()
        let rwTask = h.join(token: rw, terminal: rwView, input: rwInput)
        let roTask = h.join(token: ro, terminal: roView, input: roInput)
        try require(await eventually(10) { await status.current().viewers.count == 2 }, name, "both viewers join")
        try require(await eventually(10) { rwView.text.contains("prompt$") && roView.text.contains("prompt$") }, name,
                    "late joiners see the output from before they joined")

        // Small and bulk output alternate; each viewer gets all of it, in order, after what it saw at its join.
        let before = (rwView.shown.withLock { $0.count }, roView.shown.withLock { $0.count })
        var burst: [UInt8] = []
        for i in 0..<200 {
            let chunk = i % 50 == 49 ? [UInt8](repeating: UInt8(ascii: "a") + UInt8(i % 26), count: 40_000) : Array("line \(i)\r\n".utf8)
            host.upstream.push(.output(seq: UInt64(sent.count + burst.count), bytes: chunk))
            burst += chunk
        }
        sent += burst
        for (view, start, label) in [(rwView, before.0, "read-write"), (roView, before.1, "read-only")] {
            try require(await eventually(20) { view.shown.withLock { $0.count } >= start + burst.count }, name,
                        "a \(label) viewer gets all of a burst", "\(view.shown.withLock { $0.count } - start) of \(burst.count) bytes")
            try require(view.shown.withLock { Array($0[start..<(start + burst.count)]) } == burst, name,
                        "a \(label) viewer gets small and bulk output in order")
        }

        roTyping.yield(Array("from-ro".utf8))
        rwTyping.yield(Array("from-rw".utf8))
        try require(await eventually(10) { hostTerminal.typed.withLock { $0 } == Array("from-rw".utf8) }, name,
                    "a read-write viewer's keystrokes reach the host")
        try await Task.sleep(for: .milliseconds(100))
        try require(hostTerminal.typed.withLock { $0 } == Array("from-rw".utf8), name, "a read-only viewer's keystrokes are dropped")

        host.finish(exitStatus: 3)
        let rwOutcome = try await rwTask.value
        try require(rwOutcome.exitStatus == 3, name, "viewers learn the command's exit status", "\(String(describing: rwOutcome.exitStatus))")
        _ = try await roTask.value
        rwTyping.finish()
        roTyping.finish()
        try require(await eventually(10) { await h.relay.sessionCount == 0 }, name, "the session ends at the relay")
        await h.stop()
    }

    static func wrongTokens(_ transport: any Transport, endpoint: Endpoint) async throws {
        let name = transport.name
        let h = try await ScenarioRelay(transport: transport, endpoint: endpoint)
        for token in ["ThisTokenDoesNotExist000", "x", "../../etc/passwd"] {
            let start = ContinuousClock.now
            do {
                _ = try await h.join(token: token, terminal: RecordingViewerTerminal(), input: AsyncStream { $0.finish() }).value
                try require(false, name, "a wrong token is refused", "'\(token)' was accepted")
            } catch let error as SwiftMateError {
                try require(error.code == .refused && error.message == "Invalid or expired session token", name,
                            "a wrong token learns only that it is wrong", "\(error)")
            }
            try require(ContinuousClock.now - start >= .milliseconds(50), name, "a wrong token costs the refusal delay")
        }
        await h.stop()
    }
}
