// A relay session's logic as a pure state machine: members, fan-out, keyframes for joins and resyncs, the end.

/// Where a viewer's bytes go: framed messages (join client) or a plain terminal (ssh).
enum ViewerLink: Sendable {
    case framed
    case terminal
}

/// The state of one session at the relay. Events (the host's messages, viewers joining, typing, resizing, leaving,
/// falling behind, the end) return the actions the session's owner performs: queue pushes, frontend events, logs.
/// No queues, locks or I/O here, so every rule is tested without them.
struct RelaySessionState: Sendable {
    /// What the owner does, in order.
    enum Action: Equatable, Sendable {
        /// Queue `message` for the host; never dropped (joins, leaves, sizes, keyframe requests).
        case toHost(Message)
        /// Keystrokes for the host; dropped with a warning if the host is not reading.
        case inputToHost(viewer: UInt32, bytes: [UInt8])
        /// Live output for a viewer; if its queue overflows the owner reports `viewerOverflowed`.
        case output(viewer: UInt32, Message)
        /// Queue `message` for a viewer; never dropped (sizes, repaints, the goodbye).
        case toViewer(UInt32, Message)
        /// The viewer's queue closes (it left, or the session ended).
        case closeViewer(UInt32)
        /// An event for the relay's own frontends (the recorder).
        case publish(SessionEvent)
        /// A line for the relay's log (info), or at debug level.
        case log(String, debug: Bool = false)
    }

    /// A viewer as the session sees it.
    struct Member: Sendable, Equatable {
        let id: UInt32
        let readOnly: Bool
        let peer: String
        let link: ViewerLink
        var cols: UInt16
        var rows: UInt16
        /// The transport it came over, and the fingerprint of the key it proved (or empty).
        var transport = "", key = ""

        /// As the host hears of it.
        var description: ViewerDescription {
            ViewerDescription(id: id, readOnly: readOnly, peer: peer, transport: transport, key: key)
        }
    }

    /// A viewer waiting for the host to let it in (`approveJoiners`), and where a returning one resumes from.
    struct Waiting: Sendable, Equatable {
        var member: Member
        var resumeFrom: UInt64?
    }

    let id: String
    private(set) var members: [UInt32: Member] = [:]
    /// Viewers waiting for the host's answer: they get no byte of the session (nor count in its size) until admitted.
    private(set) var waiting: [UInt32: Waiting] = [:]
    /// Whether joiners wait for the host to let them in (the host's `approve_joiners`).
    let approveJoiners: Bool
    private var nextViewerID: UInt32 = 1
    private(set) var seq: UInt64 = 0
    private(set) var cols: UInt16
    private(set) var rows: UInt16
    private var cache: KeyframeCache
    /// Viewers that joined while no keyframe was at hand: repainted when one comes.
    private var awaitingKeyframe: Set<UInt32> = []
    /// Viewers that came back having shown output up to an offset this relay has not reached (it restarted): they
    /// have everything before it, so output the host sends again from there on is no loss to them.
    private var ahead: [UInt32: UInt64] = [:]
    private(set) var ended = false
    private let maxViewers: Int
    /// Whether the host's link is there (false: it was lost, and the session waits for the host to resume it).
    private(set) var hostPresent = true
    /// The offset the host was last told the relay has (`ack`).
    private(set) var acked: UInt64 = 0
    /// When the host was last told (`ack`).
    private var ackedAt: ContinuousClock.Instant
    /// Output past `acked` that makes the relay acknowledge at once.
    static let ackBytes: UInt64 = 1 << 20
    /// Time since the last `ack` after which the next output is acknowledged whatever its size.
    static let ackInterval: Duration = .seconds(1)

    /// A session `id` of `cols`x`rows` keeping `tailBytes` of output past its latest keyframe.
    init(id: String, cols: UInt16, rows: UInt16, tailBytes: Int, maxViewers: Int, approveJoiners: Bool = false,
         now: ContinuousClock.Instant = .now) {
        self.id = id
        self.approveJoiners = approveJoiners
        ackedAt = now
        self.cols = cols
        self.rows = rows
        self.maxViewers = maxViewers
        cache = KeyframeCache(requestBytes: tailBytes)
    }

    private static func violation(_ what: String) -> SwiftMateError {
        SwiftMateError(.protocolViolation, "the host broke the protocol: \(what)")
    }

    // MARK: The host

    /// Host output: kept for late joiners, sent to every viewer. Throws for an offset no honest host sends (one
    /// that goes back, or passes `WireLimits.maxStreamOffset`): the owner closes that host's link.
    mutating func hostOutput(seq hostSeq: UInt64, bytes: [UInt8], now: ContinuousClock.Instant = .now) throws(SwiftMateError) -> [Action] {
        // Checked before any arithmetic: the stream only moves forward (a host whose upstream queue overflowed
        // skips ahead) and stays within the offset limit.
        guard hostSeq >= seq else { throw Self.violation("output at offset \(hostSeq) goes back before offset \(seq)") }
        guard let end = WireLimits.streamEnd(seq: hostSeq, count: bytes.count) else {
            throw Self.violation("output at offset \(hostSeq) passes the stream offset limit \(WireLimits.maxStreamOffset)")
        }
        var actions: [Action] = []
        let gap = hostSeq != seq, relayHad = seq
        if gap {
            actions.append(.log("host seq \(hostSeq) is ahead of relay seq \(seq) (the host dropped output); following the host", debug: true))
        }
        seq = end
        if cache.output(seq: hostSeq, bytes: bytes) == .requestKeyframe { actions.append(.toHost(.keyframeRequest)) }
        if gap {
            // Viewers that lack what came before `hostSeq` (the host skipped it, or this relay never had it) are
            // repainted from the next keyframe (a host sends one after skipping; it is asked too).
            let missed = members.keys.filter { (ahead[$0] ?? relayHad) < hostSeq }
            if !missed.isEmpty {
                awaitingKeyframe.formUnion(missed)
                if cache.requestNow() == .requestKeyframe { actions.append(.toHost(.keyframeRequest)) }
            }
        }
        if !ahead.isEmpty { ahead = ahead.filter { $0.value > end } }
        // Acknowledged from the output itself, once a MiB or a second has passed since the last time: no timer per
        // session. (Output after the last one is acknowledged by the next resume's welcome: its stream offset.)
        if seq - acked >= Self.ackBytes || now - ackedAt >= Self.ackInterval { actions += ack(now: now) }
        actions.append(.publish(.output(seq: hostSeq, bytes: bytes)))
        let message = Message.output(seq: hostSeq, bytes: bytes)
        for id in members.keys.sorted() { actions.append(.output(viewer: id, message)) }
        return actions
    }

    /// Tells the host the relay has its output up to `seq`, when there is news.
    private mutating func ack(now: ContinuousClock.Instant) -> [Action] {
        guard seq > acked else { return [] }
        acked = seq
        ackedAt = now
        return [.toHost(.ack(offset: seq))]
    }

    /// The host's link was lost without a goodbye: the session waits for the host to resume (viewers stay, told once).
    mutating func hostAway() -> [Action] {
        guard !ended, hostPresent else { return [] }
        hostPresent = false
        return members.keys.sorted().map { .toViewer($0, .notice("swiftmate: the host's link is lost; waiting for it to come back")) }
            + [.log("session \(id): the host's link is lost; waiting for the host to resume")]
    }

    /// The host resumed: it has the relay's offset in its welcome, hears of every viewer again (what was queued for
    /// the old link is gone), is asked for the keyframe viewers still wait for; the viewers are told.
    mutating func hostBack() -> [Action] {
        guard !ended else { return [] }
        let wasAway = !hostPresent
        hostPresent = true
        acked = seq
        var actions: [Action] = []
        for m in members.values.sorted(by: { $0.id < $1.id }) {
            actions.append(.toHost(.viewerJoined(m.description, count: UInt32(members.count))))
            if !m.readOnly && m.cols > 0 && m.rows > 0 { actions.append(.toHost(.resize(viewer: m.id, cols: m.cols, rows: m.rows))) }
        }
        // Those still waiting are asked about again: the old link's requests may not have been answered.
        for w in waiting.values.sorted(by: { $0.member.id < $1.member.id }) { actions.append(.toHost(.joinRequest(w.member.description))) }
        if !awaitingKeyframe.isEmpty || !cache.hasKeyframe {
            cache.forgetRequest()
            if cache.requestNow() == .requestKeyframe { actions.append(.toHost(.keyframeRequest)) }
        }
        if wasAway { actions += members.keys.sorted().map { .toViewer($0, .notice("swiftmate: the host is back")) } }
        return actions + [.log("session \(id): the host resumed at offset \(seq)")]
    }

    /// A notice from the host: to every viewer, and the relay's recording.
    mutating func hostNotice(_ text: String) -> [Action] {
        guard !ended else { return [] }
        return [.publish(.marker(text))] + members.keys.sorted().map { .toViewer($0, .notice(text)) }
    }

    /// A keyframe from the host (asked for earlier).
    mutating func hostKeyframe(_ k: Keyframe) throws(SwiftMateError) -> [Action] {
        guard k.cols > 0, k.rows > 0 else { throw Self.violation("a keyframe of \(k.cols)x\(k.rows)") }
        var actions: [Action] = []
        let (taken, next) = cache.received(k)
        if !taken {
            actions.append(.log("session \(id): keyframe at \(k.seq) is outside the kept output (\(cache.base)..<\(cache.end)); not used", debug: true))
        }
        if next == .requestKeyframe { actions.append(.toHost(.keyframeRequest)) }
        if taken {
            // Viewers that joined while there was none were shown the recent output; now repaint them.
            for id in awaitingKeyframe.sorted() where members[id] != nil { actions += catchUp(id) }
            awaitingKeyframe.removeAll()
        }
        return actions
    }

    /// The session's size changed (the host decides it).
    mutating func hostResized(cols: UInt16, rows: UInt16) throws(SwiftMateError) -> [Action] {
        guard cols > 0, rows > 0 else { throw Self.violation("a session size of \(cols)x\(rows)") }
        self.cols = cols
        self.rows = rows
        var actions: [Action] = [.publish(.resize(cols: cols, rows: rows))]
        for id in members.keys.sorted() { actions.append(.toViewer(id, .resize(viewer: 0, cols: cols, rows: rows))) }
        if cache.resized() == .requestKeyframe { actions.append(.toHost(.keyframeRequest)) }
        return actions
    }

    /// A message from the host that changes the session, or nil for one that does not (`output`, `resize` and
    /// `keyframe` do).
    mutating func host(_ message: Message) throws(SwiftMateError) -> [Action]? {
        switch message {
        case .output(let seq, let bytes): try hostOutput(seq: seq, bytes: bytes)
        case .resize(_, let cols, let rows): try hostResized(cols: cols, rows: rows)
        case .keyframe(let k): try hostKeyframe(k)
        case .admit(let viewer): admit(viewer)
        case .kick(let viewer, let reason): kick(viewer, reason: reason)
        default: nil
        }
    }

    // MARK: Viewers

    /// What brings a viewer's fresh (or overflowed) terminal to the live stream: the session size, the repaint,
    /// then the output after it. Nothing is lost or repeated: the next output action is live.
    private func catchUp(_ id: UInt32) -> [Action] {
        let c = cache.catchUp(cols: cols, rows: rows)
        var actions: [Action] = [.toViewer(id, .resize(viewer: 0, cols: cols, rows: rows))]
        if let repaint = c.repaint { actions.append(.toViewer(id, .keyframe(repaint))) }
        if !c.bytes.isEmpty { actions.append(.toViewer(id, .output(seq: c.seq, bytes: c.bytes))) }
        return actions
    }

    /// A viewer joins with its window size; nil when the session has ended or has its limit of viewers (waiting ones
    /// count). `resumeFrom`: a viewer coming back that has shown the output up to there gets the rest, with no
    /// repaint, when it is kept. With `approveJoiners` it waits (told so) and the host is asked; `admit` lets it in.
    /// `transport` and `key` (the fingerprint of the key it proved) are what the host sees of it besides `peer`.
    mutating func join(readOnly: Bool, peer: String, transport: String = "", key: String = "", cols: UInt16, rows: UInt16,
                       link: ViewerLink, resumeFrom: UInt64? = nil) -> (Member, [Action])? {
        let (cols, rows) = (WireLimits.clampSide(cols), WireLimits.clampSide(rows))
        guard !ended, members.count + waiting.count < maxViewers else { return nil }
        let member = Member(id: nextViewerID, readOnly: readOnly, peer: peer, link: link, cols: cols, rows: rows,
                            transport: transport, key: key)
        nextViewerID += 1
        guard !approveJoiners else {
            waiting[member.id] = Waiting(member: member, resumeFrom: resumeFrom)
            return (member, [.toViewer(member.id, .notice(JoinApproval.waitingLine)), .toHost(.joinRequest(member.description)),
                             .log("viewer \(member.id) of session \(id) waits for the host to let it in (\(member.description.summary))")])
        }
        return (member, enter(member, resumeFrom: resumeFrom))
    }

    /// The host lets waiting viewer `id` in: it is caught up and joins (nothing for an id that does not wait).
    mutating func admit(_ id: UInt32) -> [Action] {
        guard !ended, let w = waiting.removeValue(forKey: id) else { return [] }
        return [.log("session \(self.id): the host let viewer \(id) in")] + enter(w.member, resumeFrom: w.resumeFrom)
    }

    /// The host turns waiting viewer `id` away, or removes viewer `id`: it is told `reason` and its link closes.
    mutating func kick(_ id: UInt32, reason: String) -> [Action] {
        let why = reason.isEmpty ? "" : ": " + reason
        if waiting.removeValue(forKey: id) != nil {
            return [.toViewer(id, .goodbye(reason: "the host did not let you in" + why, exitStatus: Message.removedStatus)), .closeViewer(id),
                    .toHost(.viewerLeft(viewer: id, reason: "turned away", count: UInt32(members.count))),
                    .log("session \(self.id): the host turned viewer \(id) away")]
        }
        guard members.removeValue(forKey: id) != nil else { return [] }
        awaitingKeyframe.remove(id)
        ahead[id] = nil
        return [.toViewer(id, .goodbye(reason: "the host removed you from the session" + why, exitStatus: Message.removedStatus)),
                .closeViewer(id), .toHost(.viewerLeft(viewer: id, reason: "removed by the host", count: UInt32(members.count))),
                .publish(.viewerLeft(viewer: id, reason: "removed by the host")), .log("session \(self.id): the host removed viewer \(id)")]
    }

    /// A member enters the session: the rest of the output from `resumeFrom` when kept, else a catch-up; everyone hears.
    private mutating func enter(_ member: Member, resumeFrom: UInt64?) -> [Action] {
        members[member.id] = member
        if let resumeFrom, let rest = cache.output(from: resumeFrom) {
            if resumeFrom > seq { ahead[member.id] = resumeFrom }
            // It saw everything before `resumeFrom`: the rest, then live (it drops what it has already shown).
            var actions: [Action] = [.toViewer(member.id, .resize(viewer: 0, cols: self.cols, rows: self.rows))]
            if !rest.isEmpty { actions.append(.toViewer(member.id, .output(seq: resumeFrom, bytes: rest))) }
            return actions + joined(member)
        }
        var actions = catchUp(member.id)
        if !cache.hasKeyframe && !cache.replaysFromStart {
            // Only recent output could be replayed: ask the host now and repaint this viewer when it answers.
            awaitingKeyframe.insert(member.id)
            if cache.requestNow() == .requestKeyframe { actions.append(.toHost(.keyframeRequest)) }
        }
        return actions + joined(member)
    }

    /// What every join tells: the host (and its size policy), the frontends, the log.
    private func joined(_ member: Member) -> [Action] {
        var actions: [Action] = [.toHost(.viewerJoined(member.description, count: UInt32(members.count))),
                                 .publish(.viewerJoined(viewer: member.id, readOnly: member.readOnly, peer: member.peer))]
        if !member.readOnly && member.cols > 0 && member.rows > 0 {
            actions.append(.toHost(.resize(viewer: member.id, cols: member.cols, rows: member.rows)))
        }
        actions.append(.log("viewer \(member.id) joined session \(id) from \(member.peer)\(member.readOnly ? " (read-only)" : "")"))
        return actions
    }

    /// A viewer's queue overflowed: its backlog is gone; it is repainted from the keyframe and goes on live.
    func viewerOverflowed(_ id: UInt32, dropped: Int) -> [Action] {
        guard members[id] != nil else { return [] }
        return [.log("viewer \(id) of session \(self.id) fell behind; dropped \(dropped) bytes of backlog and sent a keyframe")] + catchUp(id)
    }

    /// A viewer left; the host hears of it.
    mutating func leave(_ id: UInt32, reason: String) -> [Action] {
        if waiting.removeValue(forKey: id) != nil {
            // The host drops its request; no one had seen it join.
            return [.closeViewer(id), .toHost(.viewerLeft(viewer: id, reason: reason, count: UInt32(members.count))),
                    .log("viewer \(id) of session \(self.id) stopped waiting: \(reason)")]
        }
        guard members.removeValue(forKey: id) != nil else { return [] }
        awaitingKeyframe.remove(id)
        ahead[id] = nil
        return [.closeViewer(id), .toHost(.viewerLeft(viewer: id, reason: reason, count: UInt32(members.count))),
                .publish(.viewerLeft(viewer: id, reason: reason)), .log("viewer \(id) left session \(self.id): \(reason)")]
    }

    /// Keystrokes from a viewer: forwarded for read-write viewers, dropped for read-only ones.
    func input(from id: UInt32, bytes: [UInt8]) -> [Action] {
        guard let member = members[id], !member.readOnly, !bytes.isEmpty else { return [] }
        // Typed while the host is away: dropped, not run later when nobody expects it.
        guard hostPresent else { return [.log("session \(self.id): viewer \(id)'s input dropped while the host is away", debug: true)] }
        return [.publish(.input(viewer: id, bytes: bytes)), .inputToHost(viewer: id, bytes: bytes)]
    }

    /// A viewer's window size changed: the host decides the session size from read-write viewers' sizes.
    mutating func viewerResized(_ id: UInt32, cols: UInt16, rows: UInt16) -> [Action] {
        let (cols, rows) = (WireLimits.clampSide(cols), WireLimits.clampSide(rows))
        if var w = waiting[id] {
            // Kept for when it is let in.
            (w.member.cols, w.member.rows) = (cols, rows)
            waiting[id] = w
            return []
        }
        guard var member = members[id] else { return [] }
        member.cols = cols
        member.rows = rows
        members[id] = member
        var actions: [Action] = []
        // A terminal viewer's writer hears of it too, in stream order (its drawing may have to change).
        if member.link == .terminal { actions.append(.toViewer(id, .resize(viewer: id, cols: cols, rows: rows))) }
        if !member.readOnly { actions.append(.toHost(.resize(viewer: id, cols: cols, rows: rows))) }
        return actions
    }

    /// The latest keyframe and the output since (to start a screen model for one viewer).
    func currentCatchUp() -> KeyframeCache.CatchUp { cache.catchUp(cols: cols, rows: rows) }

    // MARK: The end

    /// The session ends: every viewer gets the goodbye and its queue closes. Nil when it had ended already.
    mutating func end(reason: String, exitStatus: Int32) -> [Action]? {
        guard !ended else { return nil }
        ended = true
        var actions: [Action] = []
        for id in (Array(members.keys) + Array(waiting.keys)).sorted() {
            actions += [.toViewer(id, .goodbye(reason: reason, exitStatus: exitStatus)), .closeViewer(id)]
        }
        members.removeAll()
        waiting.removeAll()
        awaitingKeyframe.removeAll()
        ahead.removeAll()
        return actions
    }
}
