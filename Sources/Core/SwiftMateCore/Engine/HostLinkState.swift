// The host's side of its relay link as a pure state machine: what each message from the relay means, and what to
// do when a connection ends (retry with backoff, or stop).

/// The host link's logic without I/O. `HostClient` performs its actions: writing to the command, the host's status
/// and frontends, messages on the host's terminal, sleeping before a retry.
struct HostLinkState: Sendable {
    /// What the host's terminal says when `viewer` joins, `count` viewers being there then.
    static func joinedLine(_ viewer: ViewerDescription, count: UInt32) -> String {
        "a mate has joined (\(viewer.peer)\(viewer.readOnly ? ", read-only" : "")) -- \(count) connected"
    }

    /// What a message from the relay asks of the host.
    enum Action: Equatable, Sendable {
        /// A read-write viewer's keystrokes, for the command's terminal.
        case writeToCommand(viewer: UInt32, bytes: [UInt8])
        /// A viewer's window size (the terminal side applies the size policy).
        case viewerResized(viewer: UInt32, cols: UInt16, rows: UInt16)
        /// A viewer joined (`count` now): into the status and the frontends, and said (`joinedLine`) unless it is one
        /// the host knew before its link was lost (the relay kept it while the host was away).
        case viewerJoined(ViewerDescription, count: UInt32)
        /// A viewer waits for the host to let it in: into the status, and the host's terminal asks.
        case joinRequested(ViewerDescription)
        /// A viewer left: out of the status, the frontends and the size policy.
        case viewerLeft(viewer: UInt32, reason: String)
        /// A line for the host's log and a message on its terminal.
        case say(String)
        /// The relay wants a keyframe: queue one behind the output already queued.
        case sendKeyframe
        /// The relay has the output up to `offset`: the replay ring may forget it.
        case acknowledged(UInt64)
        /// The relay ended this connection, saying why.
        case lost(String)
    }

    /// How one connection ended.
    enum Attempt: Equatable, Sendable {
        /// The session's end was delivered: nothing more to do.
        case delivered
        /// The relay closed the link.
        case closed
        /// The relay refused the session, or its key is not the pinned one: retrying cannot help.
        case refused(String)
        /// The link failed (or could not be made), with the error's message.
        case failed(String)

        /// Whether the link was lost (its viewers are gone with it), rather than ended on purpose.
        var lostLink: Bool {
            switch self {
            case .closed, .failed: true
            case .delivered, .refused: false
            }
        }
    }

    /// What to do after a connection ended.
    enum Next: Equatable, Sendable {
        /// Nothing: the session is over.
        case done
        /// Give up: the relay refused (`reason` for the status; `text` for the log and the terminal).
        case refused(reason: String, text: String)
        /// Stop without retrying; `note` for the log (nil: the end of the session, no news).
        case stop(note: String?)
        /// Say `line` (log and terminal), wait `seconds`, connect again.
        case retry(seconds: Double, line: String)
    }

    /// The relays to try, in order (`host.relay` as a list); `current` is the one the next attempt goes to.
    let relays: [String]
    private(set) var current = 0
    /// Relays not yet tried since the last link was made or the last wait (each is tried once before waiting).
    private var untried: Int
    private var relay: String { relays[current] }
    private let reconnect: Bool
    private let initialDelay: Double
    /// The wait before the next retry: doubles after each, up to `maxDelay`; back to the start once a link was made.
    private(set) var delay: Double
    /// The longest wait between retries.
    static let maxDelay = 10.0

    /// The link to `relay` (for messages); with `reconnect`, lost links are retried after `initialDelay` seconds.
    /// With `fallbacks`, a relay that cannot be reached is followed at once by the next one; the wait comes after
    /// all were tried. A link that was made and lost is tried again first (the relay may be back), after the wait.
    init(relay: String, fallbacks: [String] = [], reconnect: Bool, initialDelay: Double) {
        relays = [relay] + fallbacks
        untried = fallbacks.count
        self.reconnect = reconnect
        self.initialDelay = initialDelay
        delay = initialDelay
    }

    /// A connection ended as `attempt`; `reached`: the relay had been reached; `finished`: the command has exited;
    /// `cancelled`: the host is stopping.
    mutating func ended(_ attempt: Attempt, reached: Bool, finished: Bool, cancelled: Bool) -> Next {
        let why: String
        switch attempt {
        case .delivered:
            return .done
        case .refused(let reason):
            return .refused(reason: reason, text: reached ? "the relay refused the session: \(reason)" : reason)
        case .closed:
            delay = initialDelay
            why = "the relay closed the link"
        case .failed(let message):
            if reached { delay = initialDelay }
            why = message
        }
        // (Transports say "cannot reach relay HOST:PORT: connection refused" when there was no link at all.)
        let lost = reached ? "lost the relay \(relay): \(why)" : why
        guard reconnect, !cancelled, !finished else {
            return .stop(note: finished ? nil : lost) // at the session's end the relay closing is no news
        }
        if reached {
            untried = relays.count - 1
        } else if relays.count > 1 {
            // The next relay now, unless each was tried since the last wait.
            current = (current + 1) % relays.count
            if untried > 0 {
                untried -= 1
                return .retry(seconds: 0, line: "\(why); trying \(relay)")
            }
            untried = relays.count - 1
        }
        // One line per attempt; the details of the error are at debug level.
        let seconds = delay == delay.rounded() ? String(Int(delay)) : String(delay)
        let line = lost + (reached ? "; reconnecting in \(seconds) s (the shell goes on)" : "; retrying in \(seconds) s")
        defer { delay = min(delay * 2, Self.maxDelay) }
        return .retry(seconds: delay, line: line)
    }

    /// What a message from the relay asks of the host (nothing for messages a host does not act on).
    static func received(_ message: Message) -> [Action] {
        switch message {
        case .input(let viewer, let bytes):
            [.writeToCommand(viewer: viewer, bytes: bytes)]
        case .resize(let viewer, let cols, let rows):
            [.viewerResized(viewer: viewer, cols: cols, rows: rows)]
        case .viewerJoined(let viewer, let count):
            [.viewerJoined(viewer, count: count)]
        case .joinRequest(let viewer):
            [.joinRequested(viewer), .say(JoinApproval.question(viewer))]
        case .viewerLeft(let id, let reason, let count):
            [.viewerLeft(viewer: id, reason: reason), .say("a mate has left -- \(count) connected")]
        case .notice(let text):
            [.say(text)]
        case .keyframeRequest:
            [.sendKeyframe]
        case .ack(let offset):
            [.acknowledged(offset)]
        case .goodbye(let reason, _):
            [.lost("the relay closed the session: \(reason)")]
        default:
            []
        }
    }
}
