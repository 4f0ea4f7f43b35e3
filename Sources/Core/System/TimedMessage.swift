// A status message that goes away by itself after a few seconds (tmate's display-time), unless a newer one came.
import Synchronization

/// Shows messages for a while: each `show` draws at once and takes its message away `seconds` later, unless a
/// newer message came meanwhile (its own timer then takes that one away). Used by the host's and the join
/// client's terminals.
final class TimedMessage: Sendable {
    /// Counts messages shown, so only the last one's timer takes it away.
    private let generation = Mutex(0)

    /// Calls `draw(text)` now and `draw(nil)` after `seconds`, if no other message was shown by then.
    func show(_ text: String, for seconds: Double, draw: @escaping @Sendable (String?) -> Void) {
        let mine = generation.withLock { g -> Int in
            g += 1
            return g
        }
        draw(text)
        Task.detached { [self] in
            try? await Task.sleep(for: .seconds(seconds))
            guard generation.withLock({ $0 == mine }) else { return }
            draw(nil)
        }
    }

    /// Calls `draw()` now, and no earlier message's timer takes away what it drew.
    func hold(draw: () -> Void) {
        generation.withLock { $0 += 1 }
        draw()
    }
}
