// One live session at the relay: the host's link, the viewers' queues, fan-out, keyframes for joins and resyncs.
import Logging

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
actor RelaySession {
    let id: String
    let readWriteToken: String
    let readOnlyToken: String
    /// Messages to the host (viewer input, joins, leaves, sizes).
    let hostQueue: OutboundQueue<Message>
    private let options: RelayOptions
    private let logger: Logger
    private var viewers: [UInt32: RelayViewer] = [:]
    private var nextViewerID: UInt32 = 1
    private(set) var seq: UInt64 = 0
    private(set) var cols: UInt16
    private(set) var rows: UInt16
    private var cache: KeyframeCache
    /// Viewers that joined while no keyframe was at hand: repainted when one comes.
    private var awaitingKeyframe: Set<UInt32> = []
    private(set) var ended = false
    /// The relay-side frontends (the audit recorder), or nil.
    let frontends: FrontendHub?
    /// An in-process host's keystroke route (the embedded relay), or nil.
    let hostInput: LocalInputRoute?

    init(id: String, cols: UInt16, rows: UInt16, options: RelayOptions, frontends: FrontendHub? = nil,
         hostInput: LocalInputRoute? = nil, logger: Logger) {
        self.id = id
        self.hostInput = hostInput
        self.readWriteToken = Tokens.make()
        self.readOnlyToken = Tokens.make()
        self.cols = cols
        self.rows = rows
        self.options = options
        self.logger = logger
        self.frontends = frontends
        self.hostQueue = OutboundQueue(limitBytes: options.hostQueueBytes, size: { $0.approximateSize })
        self.cache = KeyframeCache(requestBytes: options.tailBytes)
    }

    var viewerCount: Int { viewers.count }

    /// Host output: remember it for late joiners, queue it to every viewer.
    func output(seq hostSeq: UInt64, bytes: [UInt8]) {
        if hostSeq != seq {
            logger.debug("host seq \(hostSeq) differs from relay seq \(seq); following the host")
        }
        let message = Message.output(seq: hostSeq, bytes: bytes)
        seq = hostSeq + UInt64(bytes.count)
        if cache.output(seq: hostSeq, bytes: bytes) == .requestKeyframe { hostQueue.pushAlways(.keyframeRequest) }
        frontends?.publish(.output(seq: hostSeq, bytes: bytes))
        for viewer in viewers.values {
            if case .overflowed(let dropped) = viewer.queue.push(message) {
                // The backlog is gone: repaint the viewer's screen from the keyframe and go on live.
                logger.info("viewer \(viewer.id) of session \(id) fell behind; dropped \(dropped) bytes of backlog and sent a keyframe")
                catchUp(viewer.queue)
            }
        }
    }

    /// A keyframe from the host (asked for earlier).
    func keyframe(_ k: Keyframe) {
        let (taken, action) = cache.received(k)
        if !taken {
            logger.debug("session \(id): keyframe at \(k.seq) is outside the kept output (\(cache.base)..<\(cache.end)); not used")
        }
        if action == .requestKeyframe { hostQueue.pushAlways(.keyframeRequest) }
        if taken {
            // Viewers that joined while there was none were shown the recent output; now repaint them.
            for id in awaitingKeyframe { if let viewer = viewers[id] { catchUp(viewer.queue) } }
            awaitingKeyframe.removeAll()
        }
    }

    /// Queues what brings a viewer's fresh (or overflowed) terminal to the live stream: the session size,
    /// the repaint, then the output after it. Nothing is lost or repeated: the next push is live output.
    private func catchUp(_ queue: OutboundQueue<Message>) {
        let c = cache.catchUp(cols: cols, rows: rows)
        queue.pushAlways(.resize(viewer: 0, cols: cols, rows: rows))
        if let repaint = c.repaint { queue.pushAlways(.keyframe(repaint)) }
        if !c.bytes.isEmpty { queue.pushAlways(.output(seq: c.seq, bytes: c.bytes)) }
    }

    /// The host's window size changed.
    func resize(cols: UInt16, rows: UInt16) {
        self.cols = cols
        self.rows = rows
        frontends?.publish(.resize(cols: cols, rows: rows))
        for viewer in viewers.values { viewer.queue.pushAlways(.resize(viewer: 0, cols: cols, rows: rows)) }
        if cache.resized() == .requestKeyframe { hostQueue.pushAlways(.keyframeRequest) }
    }

    /// Adds a viewer; its queue starts with the session size, a keyframe and the output since, then live output.
    func addViewer(readOnly: Bool, peer: String, cols: UInt16, rows: UInt16, link: ViewerLink = .framed) -> RelayViewer? {
        guard !ended, viewers.count < options.maxViewersPerSession else { return nil }
        let viewer = RelayViewer(id: nextViewerID, readOnly: readOnly, peer: peer,
                                 queue: OutboundQueue(limitBytes: options.viewerQueueBytes, size: { $0.approximateSize }),
                                 link: link, cols: cols, rows: rows)
        nextViewerID += 1
        viewers[viewer.id] = viewer
        catchUp(viewer.queue)
        if !cache.hasKeyframe && !cache.replaysFromStart {
            // Only recent output could be replayed: ask the host now and repaint this viewer when it answers.
            awaitingKeyframe.insert(viewer.id)
            if cache.requestNow() == .requestKeyframe { hostQueue.pushAlways(.keyframeRequest) }
        }
        hostQueue.pushAlways(.viewerJoined(viewer: viewer.id, readOnly: readOnly, peer: peer, count: UInt32(viewers.count)))
        frontends?.publish(.viewerJoined(viewer: viewer.id, readOnly: readOnly, peer: peer))
        if !readOnly && cols > 0 && rows > 0 {
            hostQueue.pushAlways(.resize(viewer: viewer.id, cols: cols, rows: rows))
        }
        logger.info("viewer \(viewer.id) joined session \(id) from \(peer)\(readOnly ? " (read-only)" : "")")
        return viewer
    }

    /// Removes a viewer and tells the host.
    func removeViewer(_ viewerID: UInt32, reason: String) {
        guard let viewer = viewers.removeValue(forKey: viewerID) else { return }
        awaitingKeyframe.remove(viewerID)
        viewer.queue.close()
        hostQueue.pushAlways(.viewerLeft(viewer: viewerID, reason: reason, count: UInt32(viewers.count)))
        frontends?.publish(.viewerLeft(viewer: viewerID, reason: reason))
        logger.info("viewer \(viewerID) left session \(id): \(reason)")
    }

    /// The latest keyframe and the output since (to start a screen model for one viewer).
    func currentCatchUp() -> KeyframeCache.CatchUp { cache.catchUp(cols: cols, rows: rows) }

    /// Keystrokes from a viewer: forwarded for read-write viewers, dropped for read-only ones. On the
    /// caller's thread (a transport's I/O thread or the viewer's task): an in-process host takes them
    /// through its input route at once; otherwise they queue for the host link like every message.
    nonisolated func input(from viewer: RelayViewer, bytes: [UInt8]) {
        guard !viewer.readOnly, !bytes.isEmpty else { return }
        frontends?.publish(.input(viewer: viewer.id, bytes: bytes))
        if let hostInput, hostInput.deliver(viewer: viewer.id, bytes: bytes) { return }
        if case .overflowed = hostQueue.push(.input(viewer: viewer.id, bytes: bytes)) {
            logger.warning("session \(id): host is not reading; viewer input dropped")
        }
    }

    /// A viewer's window size changed: the host decides the session size.
    func viewerResized(_ viewerID: UInt32, cols: UInt16, rows: UInt16) {
        guard var viewer = viewers[viewerID] else { return }
        viewer.cols = cols
        viewer.rows = rows
        viewers[viewerID] = viewer
        // A terminal viewer's writer hears of it too, in stream order (its drawing may have to change).
        if viewer.link == .terminal { viewer.queue.pushAlways(.resize(viewer: viewerID, cols: cols, rows: rows)) }
        if !viewer.readOnly { hostQueue.pushAlways(.resize(viewer: viewerID, cols: cols, rows: rows)) }
    }

    /// Ends the session: every viewer gets `goodbye` and its queue closes; the frontends finish.
    func end(reason: String, exitStatus: Int32) async {
        guard !ended else { return }
        ended = true
        if let frontends {
            if exitStatus < 0 { frontends.publish(.marker("session ended: \(reason)")) }
            await frontends.finish(exitStatus: exitStatus < 0 ? nil : exitStatus)
        }
        for viewer in viewers.values {
            viewer.queue.pushAlways(.goodbye(reason: reason, exitStatus: exitStatus))
            viewer.queue.close()
        }
        viewers.removeAll()
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
