// One live session at the relay: the host's link, the viewers' queues, fan-out, keyframes for joins and resyncs.
import Logging
import Synchronization

/// Where a viewer's bytes go: framed messages (join client) or a plain terminal (ssh).
enum ViewerLink: Sendable {
    case framed
    case terminal
}

/// A viewer as the session sees it.
struct RelayViewer: Sendable {
    let id: UInt32
    let readOnly: Bool
    let peer: String
    let queue: OutboundQueue<Message>
    /// How its bytes go out (a terminal viewer's writer draws them itself and follows its own window).
    let link: ViewerLink
    var cols: UInt16
    var rows: UInt16
}

/// A session at the relay. Output from the host is fanned out to each viewer's own bounded queue;
/// a viewer that falls behind loses its backlog and is repainted from the latest keyframe, never
/// slowing the host or others.
///
/// Threading: any thread, one call at a time under the session's lock (short: queue pushes, no I/O), so an
/// in-process host's output and a viewer's keystrokes go through it on the thread that has them.
final class RelaySession: Sendable {
    let id: String
    let readWriteToken: String
    let readOnlyToken: String
    /// Messages to the host (viewer input, joins, leaves, sizes).
    let hostQueue: OutboundQueue<Message>
    private let options: RelayOptions
    private let logger: Logger

    private struct State {
        var viewers: [UInt32: RelayViewer] = [:]
        var nextViewerID: UInt32 = 1
        var seq: UInt64 = 0
        var cols: UInt16
        var rows: UInt16
        var cache: KeyframeCache
        /// Viewers that joined while no keyframe was at hand: repainted when one comes.
        var awaitingKeyframe: Set<UInt32> = []
        var ended = false
    }

    private let state: Mutex<State>
    /// The relay-side frontends (the audit recorder), or nil.
    let frontends: FrontendHub?
    /// An in-process host's keystroke route (the embedded relay), or nil.
    let hostRoute: LocalRoute?

    init(id: String, cols: UInt16, rows: UInt16, options: RelayOptions, frontends: FrontendHub? = nil,
         hostRoute: LocalRoute? = nil, logger: Logger) {
        self.id = id
        self.hostRoute = hostRoute
        self.readWriteToken = Tokens.make()
        self.readOnlyToken = Tokens.make()
        self.options = options
        self.logger = logger
        self.frontends = frontends
        self.hostQueue = OutboundQueue(limitBytes: options.hostQueueBytes, size: { $0.approximateSize })
        state = Mutex(State(cols: cols, rows: rows, cache: KeyframeCache(requestBytes: options.tailBytes)))
    }

    /// Applies a message from the host that changes the session (`output`, `resize`, `keyframe`), from its
    /// link's reader or, in-process, from the host's own thread (see `LocalRoute`); false for any other.
    /// Throws `protocolViolation` for numbers no honest host sends (an offset that goes backwards or passes
    /// `WireLimits.maxStreamOffset`, a size of 0): the caller closes that host's link, nothing else is touched.
    func hostSent(_ message: Message) throws -> Bool {
        switch message {
        case .output(let seq, let bytes): try output(seq: seq, bytes: bytes)
        case .resize(_, let cols, let rows): try resize(cols: cols, rows: rows)
        case .keyframe(let k): try keyframe(k)
        default: return false
        }
        return true
    }

    private static func violation(_ what: String) -> SwiftMateError {
        SwiftMateError(.protocolViolation, "the host broke the protocol: \(what)")
    }

    /// Host output: remember it for late joiners, queue it to every viewer.
    func output(seq hostSeq: UInt64, bytes: [UInt8]) throws {
        try state.withLock { s in
            // Checked before any arithmetic: the stream only moves forward (a host whose upstream queue
            // overflowed skips ahead) and stays within the offset limit.
            guard hostSeq >= s.seq else {
                throw Self.violation("output at offset \(hostSeq) goes back before offset \(s.seq)")
            }
            guard let end = WireLimits.streamEnd(seq: hostSeq, count: bytes.count) else {
                throw Self.violation("output at offset \(hostSeq) passes the stream offset limit \(WireLimits.maxStreamOffset)")
            }
            if hostSeq != s.seq {
                logger.debug("host seq \(hostSeq) is ahead of relay seq \(s.seq) (the host dropped output); following the host")
            }
            let message = Message.output(seq: hostSeq, bytes: bytes)
            s.seq = end
            if s.cache.output(seq: hostSeq, bytes: bytes) == .requestKeyframe { hostQueue.pushAlways(.keyframeRequest) }
            frontends?.publish(.output(seq: hostSeq, bytes: bytes))
            for viewer in s.viewers.values {
                if case .overflowed(let dropped) = viewer.queue.push(message) {
                    // The backlog is gone: repaint the viewer's screen from the keyframe and go on live.
                    logger.info("viewer \(viewer.id) of session \(id) fell behind; dropped \(dropped) bytes of backlog and sent a keyframe")
                    Self.catchUp(viewer.queue, &s)
                }
            }
        }
    }

    /// A keyframe from the host (asked for earlier).
    func keyframe(_ k: Keyframe) throws {
        guard k.cols > 0, k.rows > 0 else { throw Self.violation("a keyframe of \(k.cols)x\(k.rows)") }
        state.withLock { s in
            let (taken, action) = s.cache.received(k)
            if !taken {
                logger.debug("session \(id): keyframe at \(k.seq) is outside the kept output (\(s.cache.base)..<\(s.cache.end)); not used")
            }
            if action == .requestKeyframe { hostQueue.pushAlways(.keyframeRequest) }
            if taken {
                // Viewers that joined while there was none were shown the recent output; now repaint them.
                for id in s.awaitingKeyframe { if let viewer = s.viewers[id] { Self.catchUp(viewer.queue, &s) } }
                s.awaitingKeyframe.removeAll()
            }
        }
    }

    /// Queues what brings a viewer's fresh (or overflowed) terminal to the live stream: the session size,
    /// the repaint, then the output after it. Nothing is lost or repeated: the next push is live output.
    private static func catchUp(_ queue: OutboundQueue<Message>, _ s: inout State) {
        let c = s.cache.catchUp(cols: s.cols, rows: s.rows)
        queue.pushAlways(.resize(viewer: 0, cols: s.cols, rows: s.rows))
        if let repaint = c.repaint { queue.pushAlways(.keyframe(repaint)) }
        if !c.bytes.isEmpty { queue.pushAlways(.output(seq: c.seq, bytes: c.bytes)) }
    }

    /// The host's window size changed.
    func resize(cols: UInt16, rows: UInt16) throws {
        guard cols > 0, rows > 0 else { throw Self.violation("a session size of \(cols)x\(rows)") }
        state.withLock { s in
            s.cols = cols
            s.rows = rows
            frontends?.publish(.resize(cols: cols, rows: rows))
            for viewer in s.viewers.values { viewer.queue.pushAlways(.resize(viewer: 0, cols: cols, rows: rows)) }
            if s.cache.resized() == .requestKeyframe { hostQueue.pushAlways(.keyframeRequest) }
        }
    }

    /// Adds a viewer; its queue starts with the session size, a keyframe and the output since, then live output.
    func addViewer(readOnly: Bool, peer: String, cols: UInt16, rows: UInt16, link: ViewerLink = .framed) -> RelayViewer? {
        let (cols, rows) = (WireLimits.clampSide(cols), WireLimits.clampSide(rows))
        return state.withLock { s -> RelayViewer? in
            guard !s.ended, s.viewers.count < options.maxViewersPerSession else { return nil }
            let viewer = RelayViewer(id: s.nextViewerID, readOnly: readOnly, peer: peer,
                                     queue: OutboundQueue(limitBytes: options.viewerQueueBytes, size: { $0.approximateSize }),
                                     link: link, cols: cols, rows: rows)
            s.nextViewerID += 1
            s.viewers[viewer.id] = viewer
            Self.catchUp(viewer.queue, &s)
            if !s.cache.hasKeyframe && !s.cache.replaysFromStart {
                // Only recent output could be replayed: ask the host now and repaint this viewer when it answers.
                s.awaitingKeyframe.insert(viewer.id)
                if s.cache.requestNow() == .requestKeyframe { hostQueue.pushAlways(.keyframeRequest) }
            }
            hostQueue.pushAlways(.viewerJoined(viewer: viewer.id, readOnly: readOnly, peer: peer, count: UInt32(s.viewers.count)))
            frontends?.publish(.viewerJoined(viewer: viewer.id, readOnly: readOnly, peer: peer))
            if !readOnly && cols > 0 && rows > 0 {
                hostQueue.pushAlways(.resize(viewer: viewer.id, cols: cols, rows: rows))
            }
            logger.info("viewer \(viewer.id) joined session \(id) from \(peer)\(readOnly ? " (read-only)" : "")")
            return viewer
        }
    }

    /// Removes a viewer and tells the host.
    func removeViewer(_ viewerID: UInt32, reason: String) {
        state.withLock { s in
            guard let viewer = s.viewers.removeValue(forKey: viewerID) else { return }
            s.awaitingKeyframe.remove(viewerID)
            viewer.queue.close()
            hostQueue.pushAlways(.viewerLeft(viewer: viewerID, reason: reason, count: UInt32(s.viewers.count)))
            frontends?.publish(.viewerLeft(viewer: viewerID, reason: reason))
            logger.info("viewer \(viewerID) left session \(id): \(reason)")
        }
    }

    /// The latest keyframe and the output since (to start a screen model for one viewer).
    func currentCatchUp() -> KeyframeCache.CatchUp { state.withLock { $0.cache.catchUp(cols: $0.cols, rows: $0.rows) } }

    /// Keystrokes from a viewer: forwarded for read-write viewers, dropped for read-only ones. On the
    /// caller's thread (a transport's I/O thread or the viewer's task): an in-process host takes them
    /// through its input route at once; otherwise they queue for the host link like every message.
    func input(from viewer: RelayViewer, bytes: [UInt8]) {
        guard !viewer.readOnly, !bytes.isEmpty else { return }
        frontends?.publish(.input(viewer: viewer.id, bytes: bytes))
        if let hostRoute, hostRoute.deliverInput(viewer: viewer.id, bytes: bytes) { return }
        if case .overflowed = hostQueue.push(.input(viewer: viewer.id, bytes: bytes)) {
            logger.warning("session \(id): host is not reading; viewer input dropped")
        }
    }

    /// A viewer's window size changed: the host decides the session size.
    func viewerResized(_ viewerID: UInt32, cols: UInt16, rows: UInt16) {
        let (cols, rows) = (WireLimits.clampSide(cols), WireLimits.clampSide(rows))
        state.withLock { s in
            guard var viewer = s.viewers[viewerID] else { return }
            viewer.cols = cols
            viewer.rows = rows
            s.viewers[viewerID] = viewer
            // A terminal viewer's writer hears of it too, in stream order (its drawing may have to change).
            if viewer.link == .terminal { viewer.queue.pushAlways(.resize(viewer: viewerID, cols: cols, rows: rows)) }
            if !viewer.readOnly { hostQueue.pushAlways(.resize(viewer: viewerID, cols: cols, rows: rows)) }
        }
    }

    /// Ends the session: every viewer gets `goodbye` and its queue closes; the frontends finish.
    func end(reason: String, exitStatus: Int32) async {
        let first = state.withLock { s -> Bool in
            defer { s.ended = true }
            return !s.ended
        }
        guard first else { return }
        if let frontends {
            if exitStatus < 0 { frontends.publish(.marker("session ended: \(reason)")) }
            await frontends.finish(exitStatus: exitStatus < 0 ? nil : exitStatus)
        }
        let viewers = state.withLock { s in
            defer { s.viewers.removeAll() }
            return s.viewers.values
        }
        for viewer in viewers {
            viewer.queue.pushAlways(.goodbye(reason: reason, exitStatus: exitStatus))
            viewer.queue.close()
        }
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
