// A count of unfinished work that can be awaited until it reaches zero, with a limit (Go's sync.WaitGroup).
import Synchronization

/// Counts work in progress (`enter`/`leave`); `wait(atMost:)` returns once the count is zero, or when the limit
/// has passed. What a process awaits before it exits: connections still delivering, a C library's thread still
/// freeing its session.
///
/// Threading: any thread.
public final class WaitGroup: Sendable {
    private struct State {
        var count: Int
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextID = 0
    }
    private let state: Mutex<State>

    /// A group with `count` pieces of work already in progress.
    public init(count: Int = 0) {
        state = Mutex(State(count: count))
    }

    /// One more piece of work in progress.
    public func enter() {
        state.withLock { $0.count += 1 }
    }

    /// One piece of work finished; at zero every waiter goes on.
    public func leave() {
        let released = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.count = max(0, s.count - 1)
            guard s.count == 0 else { return [] }
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        released.forEach { $0.resume() }
    }

    /// Waits until the count is zero or `limit` has passed, whichever is first.
    public func wait(atMost limit: Duration) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id = state.withLock { s -> Int? in
                guard s.count > 0 else { return nil }
                s.nextID += 1
                s.waiters[s.nextID] = continuation
                return s.nextID
            }
            guard let id else { return continuation.resume() }
            Task {
                try? await Task.sleep(for: limit)
                self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            }
        }
    }
}
