// What crosses an in-process link (the embedded relay's) as calls instead of encoded messages: keystrokes and host output.
import Synchronization

/// Shared by the two ends of an in-process link. A keystroke's echo time is mostly hand-offs between
/// tasks, each waking code that has gone cold while the session was idle; across this link the hot
/// messages are calls on the thread that has them instead of frames through the link's byte pipe:
///
/// - viewers' keystrokes, relay to host: the host takes them (`acceptInput`) before its `hello`, so no
///   viewer can type before; the relay offers them (`deliverInput`) and sends `input` messages while
///   nobody takes them;
/// - the host's upstream (output, sizes, keyframes), host to relay: the relay takes them (`acceptUpstream`)
///   before its `welcome`; the host's upstream queue hands them over (`deliverUpstream`) from then on and
///   sends what the relay declines (the end) as messages, behind them.
///
/// Everything else (handshake, joins, leaves, notices, the end) stays on the byte link. `close` ends both.
public final class LocalRoute: Sendable {
    private struct Handlers {
        var input: (@Sendable (_ viewer: UInt32, _ bytes: [UInt8]) -> Void)?
        var upstream: (@Sendable (Message) -> Bool)?
    }

    private let handlers = Mutex(Handlers())

    /// A route nobody takes yet.
    public init() {}

    /// The host end: `handler` gets viewers' keystrokes from now on, on the relay's calling thread (it must
    /// not block).
    public func acceptInput(_ handler: @escaping @Sendable (_ viewer: UInt32, _ bytes: [UInt8]) -> Void) {
        handlers.withLock { $0.input = handler }
    }

    /// The relay end: hands `bytes` typed by `viewer` to the host; false when nobody takes them.
    public func deliverInput(viewer: UInt32, bytes: [UInt8]) -> Bool {
        guard let handler = handlers.withLock({ $0.input }) else { return false }
        handler(viewer, bytes)
        return true
    }

    /// The relay end: `handler` gets the host's upstream messages from now on, on the host's calling thread (it
    /// must not block); it returns false for a message it leaves to the byte link.
    public func acceptUpstream(_ handler: @escaping @Sendable (Message) -> Bool) {
        handlers.withLock { $0.upstream = handler }
    }

    /// The host end: hands `message` to the relay; false when the relay does not take it (send it on the link).
    public func deliverUpstream(_ message: Message) -> Bool {
        guard let handler = handlers.withLock({ $0.upstream }) else { return false }
        return handler(message)
    }

    /// The link closed: nothing more is taken either way.
    public func close() {
        handlers.withLock { $0 = Handlers() }
    }
}
