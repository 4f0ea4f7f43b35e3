// The host's side of the relay link: handshake, output upstream, viewer events and input downstream, reconnects.
import Logging
import Synchronization

/// What the relay link needs from the terminal side of a host (the PTY and the local terminal).
///
/// Threading: called from the link's tasks (on the host's session loop); implementations must not block (queue the
/// work).
public protocol HostTerminal: Sendable {
    /// Bytes typed by read-write viewer `viewer`, for the command's terminal.
    func writeToCommand(_ bytes: [UInt8], viewer: UInt32)
    /// A viewer's window size (viewer id, cols, rows); the terminal side applies the size policy.
    func viewerResized(viewer: UInt32, cols: UInt16, rows: UInt16)
    /// A viewer left (so its size no longer counts).
    func viewerLeft(viewer: UInt32)
    /// A one-line message for the person at the host (e.g. "a mate has joined").
    func showMessage(_ text: String)
    /// The viewers waiting for the host to let them in changed (`JoinApproval`): the terminal asks about the first
    /// and takes the answer keys (`ApprovalKeys`) while any wait.
    func waitingViewers(_ waiting: [ViewerDescription])
    /// While the relay is away one line says so and stays (`text`), until nil when the host is back.
    func linkStatus(_ text: String?)
}

extension HostTerminal {
    /// By default a terminal only shows the question (`showMessage`); the answer comes from the control socket.
    public func waitingViewers(_ waiting: [ViewerDescription]) {}
    /// By default the line is shown as a message.
    public func linkStatus(_ text: String?) { if let text { showMessage(text) } }
}

/// One item of the host's upstream: output with its stream offset, a size change, or the end.
public enum HostUpstream: Sendable {
    /// Terminal output starting at stream offset `seq`.
    case output(seq: UInt64, bytes: [UInt8])
    /// The session's window size changed.
    case resize(cols: UInt16, rows: UInt16)
    /// The command exited with this status.
    case end(exitStatus: Int32)
    /// A keyframe the relay asked for.
    case keyframe(Keyframe)
    /// A line for every viewer (output that had to be skipped).
    case notice(String)
    /// Let a waiting viewer in (`JoinApproval`).
    case admit(viewer: UInt32)
    /// Turn a waiting viewer away, or remove a viewer, telling it `reason`.
    case kick(viewer: UInt32, reason: String)
}

extension HostUpstream {
    /// The message that carries it to the relay.
    var message: Message {
        switch self {
        case .output(let seq, let bytes): .output(seq: seq, bytes: bytes)
        case .resize(let cols, let rows): .resize(viewer: 0, cols: cols, rows: rows)
        case .keyframe(let k): .keyframe(k)
        case .end(let status): .goodbye(reason: "the shared command exited with status \(status)", exitStatus: status)
        case .notice(let text): .notice(text)
        case .admit(let viewer): .admit(viewer: viewer)
        case .kick(let viewer, let reason): .kick(viewer: viewer, reason: reason)
        }
    }
}

/// How a host connects.
public struct HostOptions: Sendable {
    /// The relay's URL (`tcp://HOST:PORT`).
    public var relay: Endpoint
    /// Relays to try when the one before cannot be reached (same transport), in order.
    public var fallbackRelays: [Endpoint] = []
    /// Codec names offered, preferred first.
    public var codecs: [String] = ["lz4", "zlib", "none"]
    /// Session options sent in `Hello`.
    public var sessionOptions: [String: String] = [:]
    /// Reconnect after losing the relay (with a new session and new connection strings).
    public var reconnect = true
    /// Seconds before the first reconnect attempt (doubling up to 10).
    public var reconnectDelaySeconds = 0.5
    /// Largest frame accepted from the relay.
    public var maxFrameSize = Framing.defaultMaxFrameSize
    /// Output kept for the relay (`host.replay_bytes`): at most this much queued and not sent yet (a link away, or
    /// slow), and at most this much sent and not yet acknowledged (kept to send again after a lost link). Past either
    /// the oldest goes (the host never waits), and the viewers are told how much was skipped.
    public var replayBytes = 16 << 20
    /// A batch of at least this many output bytes means bulk output (a full PTY read is 4 KiB).
    public var bulkThresholdBytes = 4000
    /// During bulk output, how long to let output gather before the next frame (0 turns it off).
    public var coalesceMicros = 3000
    /// Where keyframes come from when the relay asks (the host's screen model); nil sends none.
    public var keyframes: (@Sendable () -> Keyframe)?
    /// The loop the host's own work runs on (its session loop): the transport runs the link's I/O there too
    /// (`ConnectContext.loop`). Nil: the transport's choice.
    public var loop: IOLoop?

    /// Options for a relay URL.
    public init(relay: Endpoint) {
        self.relay = relay
    }
}

/// The host's relay link. Output goes in through `upstream` (never blocking the PTY reader);
/// `run` connects, keeps the link and returns after the session's end has been sent.
public final class HostClient: Sendable {
    private let transport: any Transport
    private let registry: PluginRegistry
    private let options: HostOptions
    private let terminal: any HostTerminal
    private let status: HostStatus
    private let frontends: FrontendHub?
    private let logger: Logger
    /// Where the terminal side puts output and size changes (`finish` puts the end).
    public let upstream: OutboundQueue<HostUpstream>
    private let finished = Mutex(false)
    /// What binds the relay's resume tickets to this host (sent in every hello; never shown or logged).
    private let resumeSecret = Tokens.make(length: 43)
    /// The latest resume ticket the relay gave (nil: none yet, or the last one was refused).
    private let ticket = Mutex<String?>(nil)
    /// Output sent and not yet acknowledged, sent again on the next link.
    private let replay: Mutex<ReplayRing>
    /// The viewers (`ID PEER`) there when the last link was lost, not yet told of again.
    private let knownBeforeLoss = Mutex<Set<String>>([])
    /// Sizes, keyframes, notices or the end a link took from the upstream queue and could not send: the next link's.
    private let carried = Mutex<[HostUpstream]>([])

    /// A link to `options.relay` over `transport`; viewers joining and leaving are published to `frontends`.
    public init(transport: any Transport, registry: PluginRegistry, options: HostOptions, terminal: any HostTerminal,
                status: HostStatus, frontends: FrontendHub? = nil, logger: Logger = Logger(label: "swiftmate.host")) {
        self.transport = transport
        self.registry = registry
        self.options = options
        self.terminal = terminal
        self.status = status
        self.frontends = frontends
        self.logger = logger
        self.replay = Mutex(ReplayRing(capacity: options.replayBytes))
        self.upstream = OutboundQueue(limitBytes: options.replayBytes) {
            switch $0 {
            case .output(_, let b): b.count
            case .keyframe(let k): k.bytes.count
            default: 16
            }
        }
    }

    /// The command exited: send the rest of the output and the end, then stop reconnecting.
    public func finish(exitStatus: Int32) {
        finished.withLock { $0 = true }
        upstream.pushAlways(.end(exitStatus: exitStatus))
        upstream.close()
    }

    private var isFinished: Bool { finished.withLock { $0 } }

    private func note(_ text: String) async {
        logger.info("\(text)")
        await status.log(text)
    }

    /// Connects and serves until the session ends (or, without reconnects, until the link is lost).
    /// `hello` gives the current window size at each (re)connect.
    public func run(size: @escaping @Sendable () -> (cols: UInt16, rows: UInt16)) async {
        let relays = [options.relay] + options.fallbackRelays
        var link = HostLinkState(relay: options.relay.description, fallbacks: options.fallbackRelays.map(\.description),
                                 reconnect: options.reconnect,
                                 initialDelay: options.reconnectDelaySeconds)
        while !Task.isCancelled {
            var reached = false
            let attempt: HostLinkState.Attempt
            do {
                attempt = try await connectOnce(to: relays[link.current], size: size(), reached: &reached) ? .delivered : .closed
            } catch let error as SwiftMateError where error.code == .refused {
                attempt = .refused(error.message)
            } catch let error as SwiftMateError where error.code == .cannotResume {
                // The session cannot come back (it ended, or the relay lost its key): a new one, with new tokens.
                ticket.withLock { $0 = nil }
                await note("the relay could not resume the session (\(error.message)); starting a new one with new connection strings")
                continue
            } catch {
                logger.debug("relay link error: \((error as? SwiftMateError)?.detail ?? String(reflecting: error))")
                attempt = .failed((error as? SwiftMateError)?.message ?? "\(error)")
            }
            if attempt.lostLink {
                terminal.waitingViewers([])
                let gone = await status.disconnected()
                // A relay that kept the session tells of them again when the host is back: no news to the person.
                knownBeforeLoss.withLock { $0 = Set(gone.map { "\($0.id) \($0.peer)" }) }
                for viewer in gone {
                    terminal.viewerLeft(viewer: viewer.id)
                    frontends?.publish(.viewerLeft(viewer: viewer.id, reason: "the relay connection was lost"))
                }
            }
            switch link.ended(attempt, reached: reached, finished: isFinished, cancelled: Task.isCancelled) {
            case .done:
                return
            case .refused(let reason, let text):
                await status.refused(reason)
                await note(text)
                terminal.linkStatus(nil)
                terminal.showMessage("swiftmate: \(text)")
                return
            case .stop(let lost):
                if let lost { await note(lost) }
                return
            case .retry(let seconds, let line):
                await note(line)
                // One line that stays while the relay is away (each attempt is in the log).
                terminal.linkStatus("swiftmate: \(line)")
                try? await Task.sleep(for: .seconds(seconds))
            }
        }
    }

    /// One connection. Returns true when the session's end was delivered (no reconnect wanted).
    private func connectOnce(to relay: Endpoint, size: (cols: UInt16, rows: UInt16), reached: inout Bool) async throws -> Bool {
        // A name with its namespace (`NAMESPACE/NAME`) is one a relay may give by the host's SSH key: the link proves it.
        let proveKey = options.sessionOptions[SessionNames.nameOption]?.contains("/") == true
        let connection = try await transport.connect(to: relay, context: ConnectContext(loop: options.loop, proveKey: proveKey))
        reached = true
        let receiver = MessageReceiver(connection, maxFrameSize: options.maxFrameSize)
        let sender = MessageSender(connection.outbound)
        // The link is closed, and its transport done with it, before this returns: a host that exits next
        // must not leave a transport's thread running.
        do {
            let delivered = try await share(over: connection, relay: relay, size: size, receiver: receiver, sender: sender)
            await sender.close()
            return delivered
        } catch {
            await sender.close()
            throw error
        }
    }

    /// The session over one connection, from hello to its end.
    private func share(over connection: Connection, relay: Endpoint, size: (cols: UInt16, rows: UInt16), receiver: MessageReceiver,
                       sender: MessageSender) async throws -> Bool {
        var helloOptions = options.sessionOptions
        helloOptions[ResumeTickets.secretOption] = resumeSecret
        if let held = ticket.withLock({ $0 }) { helloOptions[ResumeTickets.ticketOption] = held }
        let handshake = ClientHandshake(hello: Hello(role: .host, codecs: options.codecs, cols: size.cols, rows: size.rows,
                                                     options: helloOptions))
        try await sender.send(.hello(handshake.hello))
        let welcome = try handshake.answer(try await receiver.next())
        let resumed = helloOptions[ResumeTickets.ticketOption] != nil
        if !welcome.ticket.isEmpty { ticket.withLock { $0 = welcome.ticket } }
        try await startCodec(try registry.codec(welcome.codec), sender: sender, receiver: receiver, maxFrameSize: options.maxFrameSize)
        await status.connected(relay: relay.description, welcome: welcome)
        await note("\(resumed ? "resumed" : "connected to") \(relay) (session \(welcome.sessionID), codec \(welcome.codec))")
        terminal.linkStatus(nil)
        if resumed { terminal.showMessage("swiftmate: back: the session goes on, same connection strings") }
        for entry in welcome.connectionStrings {
            let (label, value) = JoinStrings.split(entry)
            await note("\(label): \(value)")
        }
        // What the last link had sent and the relay had not acknowledged goes again first (a new relay session follows
        // the host's offsets, so nothing is doubled); then the pump sends what was queued meanwhile.
        // The relay says where it stands (a session it kept while the host was away: the offset it has; a new or
        // restarted relay's: 0), so what goes again starts exactly after it.
        let (again, skipped) = replay.withLock { ring in
            ring.ack(welcome.streamOffset)
            return ring.take()
        }
        if !again.isEmpty {
            try await sender.send(again.map { Message.output(seq: $0.seq, bytes: $0.bytes) })
            logger.debug("sent again \(again.reduce(0) { $0 + $1.bytes.count }) bytes the relay had not acknowledged")
        }
        if skipped > 0 { skippedOutput(skipped) }
        // The pump is a child task, so it runs wherever the caller prefers (the host's own executor).
        let (delivered, lost) = await withTaskGroup(of: Bool.self) { group -> (Bool, (any Error)?) in
            group.addTask {
                guard let delivered = try? await self.pumpUpstream(sender) else { return false }
                if delivered { await sender.close() }
                return delivered
            }
            var lost: (any Error)?
            do { try await readDownstream(receiver) } catch { lost = error }
            group.cancelAll()
            return (await group.next() ?? false, lost)
        }
        if let lost, !delivered { throw lost }
        return delivered
    }

    /// Sends output in batches of frames of at most 64 KiB; returns true after sending the end.
    ///
    /// During bulk output it lets output gather (`coalesceMicros`, see `OutboundQueue.popAll(pacing:)`):
    /// every frame costs wake-ups in host, relay and viewers. Keystroke echo is never delayed.
    private func pumpUpstream(_ sender: MessageSender) async throws -> Bool {
        let maxChunk = 64 << 10
        var pacing = BulkPacing(bulkBytes: options.bulkThresholdBytes, pause: .microseconds(options.coalesceMicros))
        // What the last link took from the queue and could not send, besides output (which its replay ring has).
        var items = carried.withLock { carried in defer { carried = [] }; return carried }
        while true {
            if items.isEmpty {
                guard let batch = await upstream.popAll(pacing: &pacing) else { break }
                items = Self.merged(batch, maxChunk: maxChunk)
            }
            // Kept until the relay acknowledges it (and sent again by the next link if this one goes now); a gap (the
            // queue dropped output while the relay was slow or away) is told to the viewers and repainted.
            let skipped = replay.withLock { ring -> UInt64 in
                for case .output(let seq, let bytes) in items { ring.sent(seq: seq, bytes: bytes) }
                return ring.takeSkipped()
            }
            let others = items.filter { if case .output = $0 { false } else { true } }
            if Task.isCancelled {
                carried.withLock { $0 = others }
                return false
            }
            do {
                try await sender.send(items.map(\.message))
            } catch {
                carried.withLock { $0 = others }
                throw error
            }
            if skipped > 0 { skippedOutput(skipped) }
            if items.contains(where: { if case .end = $0 { true } else { false } }) { return true }
            items = []
        }
        return true
    }

    /// Output had to be skipped: one notice for the viewers, then a keyframe behind the output already queued.
    private func skippedOutput(_ bytes: UInt64) {
        let text = "swiftmate: \(bytes) bytes of output were skipped (the relay was away or too slow); the screen is redrawn"
        logger.warning("\(text)")
        upstream.pushAlways(.notice(text))
        queueKeyframe()
    }

    /// A keyframe of the screen, behind the output already queued (the model has seen no more than that, so the relay
    /// can place it in the stream). One that would not fit in a frame is not sent: joiners then get the recent output.
    private func queueKeyframe() {
        guard let keyframe = options.keyframes?() else { return }
        if keyframe.bytes.count <= options.maxFrameSize - 1024 {
            upstream.pushAlways(.keyframe(keyframe))
        } else {
            logger.warning("a keyframe of \(keyframe.bytes.count) bytes is over the frame limit; not sent")
        }
    }

    /// `batch` with adjacent output joined into chunks of at most `maxChunk` bytes.
    private static func merged(_ batch: [HostUpstream], maxChunk: Int) -> [HostUpstream] {
        var out: [HostUpstream] = []
        var pending: [UInt8] = []
        var pendingSeq: UInt64 = 0
        for item in batch {
            if case .output(let seq, let bytes) = item {
                if pending.isEmpty || pendingSeq + UInt64(pending.count) != seq || pending.count + bytes.count > maxChunk {
                    if !pending.isEmpty { out.append(.output(seq: pendingSeq, bytes: pending)) }
                    (pending, pendingSeq) = ([], seq)
                }
                pending.append(contentsOf: bytes)
            } else {
                if !pending.isEmpty { out.append(.output(seq: pendingSeq, bytes: pending)) }
                pending = []
                out.append(item)
            }
        }
        if !pending.isEmpty { out.append(.output(seq: pendingSeq, bytes: pending)) }
        return out
    }

    /// Tells the terminal who waits for the host's answer now.
    private func waitingChanged() async {
        terminal.waitingViewers(await status.waitingViewers().map(\.described))
    }

    /// Handles the relay's messages until the link ends; throws when it is lost.
    private func readDownstream(_ receiver: MessageReceiver) async throws {
        while let message = try await receiver.next() {
            for action in HostLinkState.received(message) {
                switch action {
                case .writeToCommand(let viewer, let bytes):
                    terminal.writeToCommand(bytes, viewer: viewer)
                case .viewerResized(let viewer, let cols, let rows):
                    terminal.viewerResized(viewer: viewer, cols: cols, rows: rows)
                case .viewerJoined(let viewer, let count):
                    if await status.viewerJoined(.init(viewer)) { await waitingChanged() }
                    if knownBeforeLoss.withLock({ $0.remove("\(viewer.id) \(viewer.peer)") == nil }) {
                        let line = HostLinkState.joinedLine(viewer, count: count)
                        await note(line)
                        terminal.showMessage("swiftmate: \(line)")
                    }
                    frontends?.publish(.viewerJoined(viewer: viewer.id, readOnly: viewer.readOnly, peer: viewer.peer))
                case .joinRequested(let viewer):
                    if await status.viewerJoined(.init(viewer, waiting: true)) { await waitingChanged() }
                case .viewerLeft(let id, let reason):
                    // One that never got past waiting had not joined: only its question goes.
                    if await status.viewerLeft(id)?.waiting == true {
                        await waitingChanged()
                        break
                    }
                    frontends?.publish(.viewerLeft(viewer: id, reason: reason))
                    terminal.viewerLeft(viewer: id)
                case .say(let text):
                    await note(text)
                    terminal.showMessage("swiftmate: \(text)")
                case .sendKeyframe:
                    queueKeyframe()
                case .acknowledged(let offset):
                    replay.withLock { $0.ack(offset) }
                case .lost(let reason):
                    throw SwiftMateError(.connectionLost, reason)
                }
            }
        }
        throw SwiftMateError(.connectionLost, "the relay closed the connection")
    }
}
