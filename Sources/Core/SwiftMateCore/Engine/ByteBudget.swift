// Back-pressure between a writer and whatever drains its bytes: writers wait while too much is outstanding.
import Synchronization

/// Bytes handed on but not yet taken by the other side, and the writers waiting for room. Used by links
/// whose reader is not a socket (the in-process link, the hand-off to a libssh thread).
public final class ByteBudget: Sendable {
    private struct State {
        var outstanding = 0
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    /// The most bytes outstanding before `waitForRoom` waits.
    public let limit: Int

    /// A budget of `limit` bytes.
    public init(limit: Int) { self.limit = limit }

    /// Counts `count` bytes handed on; false (nothing counted) once closed.
    public func charge(_ count: Int) -> Bool {
        state.withLock { s in
            if s.closed { return false }
            s.outstanding += count
            return true
        }
    }

    /// Returns once no more than `limit` bytes are outstanding, or the budget is closed.
    public func waitForRoom() async {
        if state.withLock({ $0.closed || $0.outstanding <= limit }) { return } // the usual case: no continuation
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.closed || s.outstanding <= limit { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// The other side took `count` bytes (all of them when nil); waiting writers go on if there is room.
    public func release(_ count: Int? = nil) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.outstanding = count.map { max(0, s.outstanding - $0) } ?? 0
            guard s.outstanding <= limit else { return [] }
            let w = s.waiters
            s.waiters = []
            return w
        }
        ready.forEach { $0.resume() }
    }

    /// No more bytes: waiting writers go on and `charge` answers false from now on.
    public func close() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.closed = true
            let w = s.waiters
            s.waiters = []
            return w
        }
        waiters.forEach { $0.resume() }
    }
}
