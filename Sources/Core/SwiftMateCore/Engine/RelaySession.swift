// One live session at the relay: its state machine (`RelaySessionState`) and the queues its actions go to.
import Logging
import Synchronization

/// A viewer's handle: who it is and the queue the relay writes to its link from.
struct RelayViewer: Sendable {
    let id: UInt32
    let readOnly: Bool
    let peer: String
    let queue: OutboundQueue<Message>
    /// How its bytes go out (a terminal viewer's writer draws them itself and follows its own window).
    let link: ViewerLink
}

/// A session at the relay: performs `RelaySessionState`'s actions. Output from the host is fanned out to each
/// viewer's own bounded queue; a viewer that falls behind loses its backlog and is repainted from the latest
/// keyframe, never slowing the host or others.
///
/// Threading: any thread, one call at a time under the session's lock (short: queue pushes, no I/O): the members'
/// reader tasks call it, on their session's loop when their transport pinned them there.
final class RelaySession: Sendable {
    let id: String
    let readWriteToken: String
    let readOnlyToken: String
    /// Messages to the host (viewer input, joins, leaves, sizes).
    let hostQueue: OutboundQueue<Message>
    private let options: RelayOptions
    private let logger: Logger
    private let state: Mutex<(machine: RelaySessionState, queues: [UInt32: OutboundQueue<Message>])>
    /// The relay-side frontends (the audit recorder), or nil.
    let frontends: FrontendHub?

    /// The host link: which generation the session's tickets count (1 for a new session; a resumed one counts on from
    /// its ticket's), and which of this process's links is the current one (0: none yet).
    private let link: Mutex<(generation: UInt64, current: Int)>
    /// The host link being served (its pump still running): a resuming link waits for the old one to be done.
    let hostLinkServing = WaitGroup()

    /// The generation the next ticket carries.
    var generation: UInt64 { link.withLock { $0.generation } }

    /// A new host link takes the session (`generation` for its tickets); returns its number.
    func attachHost(generation: UInt64) -> Int {
        link.withLock { l in
            l.generation = generation
            l.current += 1
            return l.current
        }
    }

    /// Whether `number` is still the session's host link (not replaced by a resumed one).
    func isCurrentHostLink(_ number: Int) -> Bool { link.withLock { $0.current == number } }

    /// The output offset the relay has (a resuming host's welcome says it, and the host sends what follows).
    var streamOffset: UInt64 { state.withLock { $0.machine.seq } }

    /// Whether the session waits for its host to resume.
    var hostIsAway: Bool { state.withLock { !$0.machine.hostPresent } }

    /// The host's link was lost: the session waits for it (viewers stay).
    func hostAway() {
        state.withLock { s in perform(s.machine.hostAway(), &s) }
    }

    /// The host resumed: what was queued for its old link goes, it hears of every viewer again.
    func hostBack() {
        hostQueue.discardAll()
        state.withLock { s in perform(s.machine.hostBack(), &s) }
    }
    /// Closes the host's link when the session is replaced (a named session's owner connected again).
    private let hostLinkCloser = Mutex<(@Sendable () -> Void)?>(nil)

    /// A session with random tokens, or the given ones (a named session's).
    init(id: String, cols: UInt16, rows: UInt16, options: RelayOptions, frontends: FrontendHub? = nil, logger: Logger,
         readWriteToken: String? = nil, readOnlyToken: String? = nil, generation: UInt64 = 1, approveJoiners: Bool = false) {
        self.link = Mutex((generation: generation, current: 0))
        self.id = id
        self.readWriteToken = readWriteToken ?? Tokens.make()
        self.readOnlyToken = readOnlyToken ?? Tokens.make()
        self.options = options
        self.logger = logger
        self.frontends = frontends
        self.hostQueue = OutboundQueue(limitBytes: options.hostQueueBytes, size: { $0.approximateSize })
        state = Mutex((RelaySessionState(id: id, cols: cols, rows: rows, tailBytes: options.tailBytes,
                                         maxViewers: options.maxViewersPerSession, approveJoiners: approveJoiners), [:]))
    }

    /// Performs `actions` (under the lock); a viewer whose queue overflows is caught up at once.
    private func perform(_ actions: [RelaySessionState.Action], _ s: inout (machine: RelaySessionState, queues: [UInt32: OutboundQueue<Message>])) {
        for action in actions {
            switch action {
            case .toHost(let message):
                hostQueue.pushAlways(message)
            case .inputToHost(let viewer, let bytes):
                if case .overflowed = hostQueue.push(.input(viewer: viewer, bytes: bytes)) {
                    logger.warning("session \(id): host is not reading; viewer input dropped")
                }
            case .output(let viewer, let message):
                if case .overflowed(let dropped)? = s.queues[viewer]?.push(message) {
                    perform(s.machine.viewerOverflowed(viewer, dropped: dropped), &s)
                }
            case .toViewer(let viewer, let message):
                s.queues[viewer]?.pushAlways(message)
            case .closeViewer(let viewer):
                s.queues.removeValue(forKey: viewer)?.close()
            case .publish(let event):
                frontends?.publish(event)
            case .log(let line, let debug):
                if debug { logger.debug("\(line)") } else { logger.info("\(line)") }
            }
        }
    }

    /// Applies a message from the host that changes the session (`output`, `resize`, `keyframe`), from its
    /// link's reader task; false for any other.
    /// Throws `protocolViolation` for numbers no honest host sends (an offset that goes backwards or passes
    /// `WireLimits.maxStreamOffset`, a size of 0): the caller closes that host's link, nothing else is touched.
    func hostSent(_ message: Message) throws -> Bool {
        try state.withLock { s in
            guard let actions = try s.machine.host(message) else { return false }
            perform(actions, &s)
            return true
        }
    }

    /// A line from the host for every viewer (output that had to be skipped).
    func hostNotice(_ text: String) {
        state.withLock { s in perform(s.machine.hostNotice(text), &s) }
    }

    /// Adds a viewer; its queue starts with the session size, a keyframe and the output since, then live output (or,
    /// when the host approves joiners, with a line saying it waits, the rest once the host lets it in).
    func addViewer(readOnly: Bool, peer: String, transport: String = "", key: String = "", cols: UInt16, rows: UInt16,
                   link: ViewerLink = .framed, resumeFrom: UInt64? = nil) -> RelayViewer? {
        state.withLock { s -> RelayViewer? in
            guard let (member, actions) = s.machine.join(readOnly: readOnly, peer: peer, transport: transport, key: key, cols: cols,
                                                         rows: rows, link: link, resumeFrom: resumeFrom) else { return nil }
            let queue = OutboundQueue<Message>(limitBytes: options.viewerQueueBytes, size: { $0.approximateSize })
            s.queues[member.id] = queue
            perform(actions, &s)
            return RelayViewer(id: member.id, readOnly: readOnly, peer: peer, queue: queue, link: link)
        }
    }

    /// Removes a viewer and tells the host.
    func removeViewer(_ viewerID: UInt32, reason: String) {
        state.withLock { s in perform(s.machine.leave(viewerID, reason: reason), &s) }
    }

    /// The latest keyframe and the output since (to start a screen model for one viewer).
    func currentCatchUp() -> KeyframeCache.CatchUp { state.withLock { $0.machine.currentCatchUp() } }

    /// Keystrokes from a viewer: forwarded for read-write viewers, dropped for read-only ones. On the
    /// caller's thread (a transport's I/O thread or the viewer's task): an in-process host takes them
    /// through its input route at once; otherwise they queue for the host link like every message.
    func input(from viewer: RelayViewer, bytes: [UInt8]) {
        state.withLock { s in perform(s.machine.input(from: viewer.id, bytes: bytes), &s) }
    }

    /// A viewer's window size changed: the host decides the session size.
    func viewerResized(_ viewerID: UInt32, cols: UInt16, rows: UInt16) {
        state.withLock { s in perform(s.machine.viewerResized(viewerID, cols: cols, rows: rows), &s) }
    }

    /// What closes the host's link (set by the link's owner once the session is open).
    func onReplaced(_ close: @escaping @Sendable () -> Void) {
        hostLinkCloser.withLock { $0 = close }
    }

    /// Closes the host's link (the session was replaced); its owner then ends the session as for a lost host.
    func closeHostLink() {
        hostLinkCloser.withLock { $0 }?()
    }

    /// Ends the session: every viewer gets `goodbye` and its queue closes; the frontends finish.
    func end(reason: String, exitStatus: Int32) async {
        let ending = state.withLock { s in s.machine.end(reason: reason, exitStatus: exitStatus) }
        guard let ending else { return }
        if let frontends {
            if exitStatus < 0 { frontends.publish(.marker("session ended: \(reason)")) }
            await frontends.finish(exitStatus: exitStatus < 0 ? nil : exitStatus)
        }
        state.withLock { s in perform(ending, &s) }
        hostQueue.close()
        logger.info("session \(id) ended: \(reason)")
    }
}

extension Message {
    /// Roughly the bytes this message occupies, for queue limits.
    var approximateSize: Int {
        switch self {
        case .output(_, let b), .input(_, let b): b.count + 16
        case .keyframe(let k): k.bytes.count + 32
        default: 64
        }
    }
}
