// The join client's link: handshake as a viewer, then output to the local terminal and keystrokes up.
import Synchronization

/// What the join client needs from the local terminal.
///
/// Threading: called from the link's task; `display` may block briefly on a slow terminal.
public protocol JoinTerminal: Sendable {
    /// Session output, to show as is.
    func display(_ bytes: [UInt8])
    /// The session's size changed (the local terminal may be another size).
    func sessionResized(cols: UInt16, rows: UInt16)
    /// A one-line message for the person (a notice from the relay).
    func showMessage(_ text: String)
    /// A repaint of the whole screen (on joining, or after falling behind).
    func keyframe(_ keyframe: Keyframe)
    /// A line that stays until nil comes (waiting for the host to let this viewer in).
    func standingLine(_ text: String?)
}

extension JoinTerminal {
    /// Shows the repaint's bytes as output.
    public func keyframe(_ keyframe: Keyframe) { display(keyframe.bytes) }
    /// By default the line is shown as a message.
    public func standingLine(_ text: String?) { if let text { showMessage(text) } }
}

/// How a join ended.
public struct JoinOutcome: Sendable, Equatable {
    /// Why it ended, for the person.
    public var reason: String
    /// The host command's exit status when the session ended with it.
    public var exitStatus: Int32?
    /// Whether the host turned this viewer away or removed it (the session goes on without it).
    public var removed = false
}

extension Message {
    /// Whether it carries the session to a viewer (its size, a repaint or output).
    fileprivate var startsSession: Bool {
        switch self {
        case .resize, .keyframe, .output: true
        default: false
        }
    }
}

/// A viewer's link to a session: `swiftmate join URL`.
public struct JoinClient: Sendable {
    /// The hello option a viewer coming back sends: the offset after the last output byte it showed.
    public static let resumeOption = "resume_offset"
    /// How long a client that lost its link keeps trying (the relay restarting, its host coming back).
    public static let reconnectWindow: Duration = .seconds(60)
    /// The wait before asking again when the relay is up but does not have the session yet (its host resumes it soon).
    static let sessionNotBackDelay = 0.25

    private let transport: any Transport
    private let registry: PluginRegistry
    private let endpoint: Endpoint
    private let codecs: [String]
    private let reconnect: Bool

    /// A client joining `endpoint` (whose path is the token) over `transport`. With `reconnect`, a lost link is
    /// made again by itself (0.5 s doubling to 10 s, for up to a minute), resuming from the last byte shown.
    public init(transport: any Transport, registry: PluginRegistry, endpoint: Endpoint, codecs: [String], reconnect: Bool = false) {
        self.transport = transport
        self.registry = registry
        self.endpoint = endpoint
        self.codecs = codecs
        self.reconnect = reconnect
    }

    /// What the link's tasks share across reconnections.
    private final class LinkState: Sendable {
        /// The current link's sender (nil while there is none): keystrokes and sizes go there.
        let sender = Mutex<MessageSender?>(nil)
        /// The offset after the last output byte shown (nil: nothing yet).
        let shown = Mutex<UInt64?>(nil)
        /// The person detached (input ended).
        let detached = Mutex(false)
        /// The latest window size.
        let size: Mutex<(cols: UInt16, rows: UInt16)>

        init(size: (cols: UInt16, rows: UInt16)) { self.size = Mutex(size) }
    }

    /// Joins and runs until the session ends, the link drops (for good, with `reconnect`), or `input` finishes
    /// (detach). `onWelcome` is called once joined, with whether the token is read-only.
    public func run(size: (cols: UInt16, rows: UInt16), input: AsyncStream<[UInt8]>,
                    sizes: AsyncStream<(cols: UInt16, rows: UInt16)>, terminal: any JoinTerminal,
                    onWelcome: @Sendable (Welcome) -> Void = { _ in }) async throws -> JoinOutcome {
        let link = LinkState(size: size)
        // Keystrokes and sizes go up from the first join on (typed before it, they wait in `input`).
        let startUpstream = { Task {
            var inputEnded = true
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await size in sizes {
                        link.size.withLock { $0 = size }
                        try? await link.sender.withLock({ $0 })?.send(.resize(viewer: 0, cols: size.cols, rows: size.rows))
                    }
                }
                for await bytes in input {
                    // Keystrokes typed while there is no link are dropped (the person sees the link is gone).
                    guard let sender = link.sender.withLock({ $0 }) else { continue }
                    do {
                        try await sender.send(.input(viewer: 0, bytes: bytes))
                    } catch where !reconnect {
                        inputEnded = false
                        break
                    } catch {}
                }
                group.cancelAll()
            }
            guard inputEnded, !Task.isCancelled else { return }
            // Input ended: the person detached.
            link.detached.withLock { $0 = true }
            if let sender = link.sender.withLock({ $0 }) {
                try? await sender.send(.goodbye(reason: "detached", exitStatus: -1))
                await sender.close()
            }
        } }
        var upstream: Task<Void, Never>?
        defer { upstream?.cancel() }
        var joined = false
        var lostSince: ContinuousClock.Instant?
        var delay = 0.5
        while true {
            do {
                return try await connectOnce(link, terminal: terminal) { welcome in
                    if !joined {
                        onWelcome(welcome)
                        upstream = startUpstream()
                    } else {
                        terminal.showMessage("swiftmate: back in the session")
                    }
                    joined = true
                    lostSince = nil
                    delay = 0.5
                }
            } catch {
                if joined, link.detached.withLock({ $0 }) { return JoinOutcome(reason: "detached") }
                // The first join's failures are the caller's (a wrong token, an unreachable relay).
                guard reconnect, joined else { throw error }
                let now = ContinuousClock.now
                let since = lostSince ?? now
                lostSince = since
                guard now - since < Self.reconnectWindow else {
                    return JoinOutcome(reason: "the session did not come back within a minute (\((error as? SwiftMateError)?.message ?? "\(error)"))")
                }
                // A relay that answers but does not know the session yet (it restarted, and the host has not resumed
                // it): the host is on its way, so ask again soon rather than backing off.
                let relayUp = (error as? SwiftMateError)?.code == .refused
                let wait = relayUp ? Self.sessionNotBackDelay : delay
                terminal.showMessage(relayUp ? "swiftmate: waiting for the host to come back"
                                     : "swiftmate: lost the relay; reconnecting in \(delay == delay.rounded() ? String(Int(delay)) : String(delay)) s")
                try? await Task.sleep(for: .seconds(wait))
                if !relayUp { delay = min(delay * 2, 10) }
            }
        }
    }

    /// One link: hello (with where it stands when coming back), then the session until its end (returned) or the
    /// link's loss (thrown).
    private func connectOnce(_ link: LinkState, terminal: any JoinTerminal, welcomed: (Welcome) -> Void) async throws -> JoinOutcome {
        let connection = try await transport.connect(to: endpoint)
        let receiver = MessageReceiver(connection)
        let sender = MessageSender(connection.outbound)
        let size = link.size.withLock { $0 }
        var options: [String: String] = [:]
        if let shown = link.shown.withLock({ $0 }) { options[Self.resumeOption] = String(shown) }
        let handshake = ClientHandshake(hello: Hello(role: .viewer, codecs: codecs, token: endpoint.path, cols: size.cols, rows: size.rows,
                                                     options: options))
        try await sender.send(.hello(handshake.hello))
        let welcome: Welcome
        do {
            welcome = try handshake.answer(try await receiver.next())
            try await startCodec(try registry.codec(welcome.codec), sender: sender, receiver: receiver, maxFrameSize: Framing.defaultMaxFrameSize)
        } catch {
            await sender.close()
            throw error
        }
        link.sender.withLock { $0 = sender }
        defer { link.sender.withLock { $0 = nil } }
        welcomed(welcome)
        if link.detached.withLock({ $0 }) {
            try? await sender.send(.goodbye(reason: "detached", exitStatus: -1))
            await sender.close()
            return JoinOutcome(reason: "detached")
        }
        // Held back until the host lets this viewer in (`JoinApproval`): the line stays until the session's first bytes.
        var waiting = false
        while let message = try await receiver.next() {
            if waiting, message.startsSession {
                waiting = false
                terminal.standingLine(nil)
            }
            switch message {
            case .notice(JoinApproval.waitingLine):
                waiting = true
                terminal.standingLine(JoinApproval.waitingLine)
            case .output(let seq, let bytes):
                // Output already shown (a link made again sends from where this viewer stood, or before) is dropped.
                let shown = link.shown.withLock { $0 } ?? seq
                let skip = shown > seq ? Int(min(shown - seq, UInt64(bytes.count))) : 0
                if skip < bytes.count { terminal.display(skip == 0 ? bytes : Array(bytes[skip...])) }
                link.shown.withLock { $0 = max(shown, seq + UInt64(bytes.count)) }
            case .keyframe(let k):
                terminal.keyframe(k)
                link.shown.withLock { $0 = k.seq }
            case .resize(_, let cols, let rows): terminal.sessionResized(cols: cols, rows: rows)
            case .notice(let text): terminal.showMessage(text)
            case .goodbye(let reason, let status):
                await sender.close()
                return JoinOutcome(reason: reason, exitStatus: status >= 0 ? status : nil, removed: status == Message.removedStatus)
            default: break
            }
        }
        if link.detached.withLock({ $0 }) { return JoinOutcome(reason: "detached") }
        if reconnect { throw SwiftMateError(.connectionLost, "the relay closed the connection") }
        return JoinOutcome(reason: "the relay closed the connection")
    }
}
