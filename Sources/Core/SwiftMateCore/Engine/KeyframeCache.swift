// What a late joiner or a resynchronised viewer is sent: the host's latest keyframe and the output since.

/// The relay's memory of a session's screen, without parsing terminal output: the latest keyframe from the
/// host plus every output byte after it. A state machine without I/O; `RelaySession` performs its actions.
///
/// When the output since the keyframe passes `requestBytes` the host is asked for a fresh one. A host that
/// answers gets up to `limitBytes` of slack; from a host that sends none, only the last `requestBytes` are
/// kept, from a line start, as a best-effort replay.
struct KeyframeCache {
    /// What the owner must do after an event.
    enum Action: Equatable {
        case none
        /// Send `keyframeRequest` to the host.
        case requestKeyframe
    }

    /// What to send a viewer to bring it to the live stream.
    struct CatchUp: Equatable {
        /// Repaint bytes (a keyframe's, or a terminal reset when the stream is replayed from its start).
        var repaint: Keyframe?
        /// Output from `seq` on, up to the live stream.
        var seq: UInt64
        var bytes: [UInt8]
    }

    let requestBytes: Int
    /// Output kept after a keyframe before it is given up (the host is not answering).
    let limitBytes: Int
    private(set) var keyframe: Keyframe?
    /// Stream offset of `since[0]`.
    private(set) var base: UInt64 = 0
    private(set) var since: [UInt8] = []
    private var requested = false
    /// The host has answered a request before (so waiting for its keyframe is worth keeping more output).
    private var hostSendsKeyframes = false

    init(requestBytes: Int) {
        self.requestBytes = max(1, requestBytes)
        self.limitBytes = max(requestBytes * 16, 1 << 20)
    }

    /// The offset just after the last output.
    var end: UInt64 { base + UInt64(since.count) }

    /// Host output at `seq`.
    mutating func output(seq: UInt64, bytes: [UInt8]) -> Action {
        if seq != end {
            // The host's stream jumped (its upstream queue overflowed): what is kept no longer joins up.
            keyframe = nil
            since = []
            base = seq
            requested = false
        }
        since.append(contentsOf: bytes)
        if keyframe == nil && base == 0 && since.count <= requestBytes {
            return .none // the whole stream so far is kept: a joiner can replay it from the start
        }
        if since.count > (hostSendsKeyframes ? limitBytes : 2 * requestBytes) {
            keyframe = nil
            trimToLineStart()
        }
        return since.count > requestBytes || keyframe == nil ? requestNow() : .none
    }

    /// A keyframe from the host. Taken when its offset is inside what is kept; one older than that (the
    /// host's model was still behind) is asked for again at once, so an idle session still gets one.
    mutating func received(_ k: Keyframe) -> (taken: Bool, action: Action) {
        requested = false
        hostSendsKeyframes = true
        guard k.seq >= base, k.seq <= end else { return (false, k.seq < base ? requestNow() : .none) }
        since.removeFirst(Int(k.seq - base))
        base = k.seq
        keyframe = k
        return (true, .none)
    }

    /// The session's size changed: the keyframe is of the old size, so ask for one of the new size.
    mutating func resized() -> Action { requestNow() }

    /// Asks for a keyframe unless a request is already out.
    mutating func requestNow() -> Action {
        guard !requested else { return .none }
        requested = true
        return .requestKeyframe
    }

    /// Forgets that a keyframe was asked for (the host that was asked is gone; ask its successor).
    mutating func forgetRequest() {
        requested = false
    }

    /// Whether a keyframe is at hand.
    var hasKeyframe: Bool { keyframe != nil }

    /// Whether everything since the stream's start is kept (a joiner replays it all after a reset).
    var replaysFromStart: Bool { keyframe == nil && base == 0 }

    /// The output from `offset` to the live stream, when it is kept (a viewer resuming where it was); an offset past
    /// the end gives nothing (the live stream brings it there). Nil when `offset` is before what is kept.
    func output(from offset: UInt64) -> [UInt8]? {
        guard offset >= base else { return nil }
        guard offset < end else { return [] }
        return Array(since[Int(offset - base)...])
    }

    /// The repaint and output that bring a fresh terminal to the live stream.
    func catchUp(cols: UInt16, rows: UInt16) -> CatchUp {
        if let keyframe { return CatchUp(repaint: keyframe, seq: base, bytes: since) }
        // No keyframe: reset the viewer's terminal, then replay (the whole stream, or its last lines).
        return CatchUp(repaint: Keyframe(seq: base, cols: cols, rows: rows, bytes: Array("\u{1b}c".utf8)), seq: base, bytes: since)
    }

    private mutating func trimToLineStart() {
        var keep = since.count - min(since.count, requestBytes)
        if let nl = since[keep...].firstIndex(of: 0x0A) { keep = nl + 1 }
        since.removeFirst(keep)
        base += UInt64(keep)
    }
}
