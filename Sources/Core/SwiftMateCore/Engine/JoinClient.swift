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
}

extension JoinTerminal {
    /// Shows the repaint's bytes as output.
    public func keyframe(_ keyframe: Keyframe) { display(keyframe.bytes) }
}

/// How a join ended.
public struct JoinOutcome: Sendable, Equatable {
    /// Why it ended, for the person.
    public var reason: String
    /// The host command's exit status when the session ended with it.
    public var exitStatus: Int32?
}

/// A viewer's link to a session: `swiftmate join URL`.
public struct JoinClient: Sendable {
    private let transport: any Transport
    private let registry: PluginRegistry
    private let endpoint: Endpoint
    private let codecs: [String]

    /// A client joining `endpoint` (whose path is the token) over `transport`.
    public init(transport: any Transport, registry: PluginRegistry, endpoint: Endpoint, codecs: [String]) {
        self.transport = transport
        self.registry = registry
        self.endpoint = endpoint
        self.codecs = codecs
    }

    /// Joins and runs until the session ends, the link drops, or `input` finishes (detach).
    /// `onWelcome` is called once joined, with whether the token is read-only.
    public func run(size: (cols: UInt16, rows: UInt16), input: AsyncStream<[UInt8]>,
                    sizes: AsyncStream<(cols: UInt16, rows: UInt16)>, terminal: any JoinTerminal,
                    onWelcome: @Sendable (Welcome) -> Void = { _ in }) async throws -> JoinOutcome {
        let connection = try await transport.connect(to: endpoint)
        let receiver = MessageReceiver(connection)
        let sender = MessageSender(connection.outbound)
        let handshake = ClientHandshake(hello: Hello(role: .viewer, codecs: codecs, token: endpoint.path, cols: size.cols, rows: size.rows))
        try await sender.send(.hello(handshake.hello))
        let welcome: Welcome
        do {
            welcome = try handshake.answer(try await receiver.next())
        } catch {
            await sender.close()
            throw error
        }
        try await startCodec(try registry.codec(welcome.codec), sender: sender, receiver: receiver, maxFrameSize: Framing.defaultMaxFrameSize)
        onWelcome(welcome)

        let detached = Mutex(false)
        let upstream = Task {
            var inputEnded = true
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await size in sizes {
                        try? await sender.send(.resize(viewer: 0, cols: size.cols, rows: size.rows))
                    }
                }
                for await bytes in input {
                    do {
                        try await sender.send(.input(viewer: 0, bytes: bytes))
                    } catch {
                        inputEnded = false
                        break
                    }
                }
                group.cancelAll()
            }
            guard inputEnded, !Task.isCancelled else { return }
            // Input ended: the person detached.
            detached.withLock { $0 = true }
            try? await sender.send(.goodbye(reason: "detached", exitStatus: -1))
            await sender.close()
        }
        defer { upstream.cancel() }
        do {
            while let message = try await receiver.next() {
                switch message {
                case .output(_, let bytes): terminal.display(bytes)
                case .keyframe(let k): terminal.keyframe(k)
                case .resize(_, let cols, let rows): terminal.sessionResized(cols: cols, rows: rows)
                case .notice(let text): terminal.showMessage(text)
                case .goodbye(let reason, let status):
                    await sender.close()
                    return JoinOutcome(reason: reason, exitStatus: status >= 0 ? status : nil)
                default: break
                }
            }
        } catch {
            if detached.withLock({ $0 }) { return JoinOutcome(reason: "detached") }
            throw error
        }
        return JoinOutcome(reason: detached.withLock { $0 } ? "detached" : "the relay closed the connection")
    }
}
