// A blocking FIFO for plain threads (the PTY input writer), bounded by item count.
import Foundation

/// A FIFO whose consumer is a thread that blocks in `pop()`. Pushing past `limit` items drops the
/// item (keystrokes to a command that stopped reading its terminal), and never blocks the producer.
public final class ThreadQueue<Item: Sendable>: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var items: [Item] = []
    private var closed = false
    private let limit: Int

    /// A queue of at most `limit` items.
    public init(limit: Int) {
        self.limit = limit
    }

    /// Adds an item; returns false if it was dropped (full or closed).
    @discardableResult
    public func push(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, items.count < limit else { return false }
        items.append(item)
        condition.signal()
        return true
    }

    /// The next item, blocking until there is one; nil once closed and empty.
    public func pop() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        return items.isEmpty ? nil : items.removeFirst()
    }

    /// Wakes the consumer; later pushes are dropped.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
