// A bounded queue between one producer side and one writer task; overflow drops the backlog, never blocks.
import Synchronization

/// What happened to a pushed item.
public enum PushResult: Sendable, Equatable {
    /// The item is queued.
    case queued
    /// The queue was over its byte limit: the backlog (and this item) were dropped; `droppedBytes` says how much.
    case overflowed(droppedBytes: Int)
    /// The queue is closed; the item was dropped.
    case closed
}

/// A byte-bounded FIFO with one consumer that awaits items. Producers never wait: a push past the
/// limit drops the whole backlog, so the consumer can be resynchronised instead of falling further behind.
public final class OutboundQueue<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var bytes = 0
        /// The consumer waiting on an empty queue. Whoever resumes it takes it out under the lock first, so it is
        /// resumed exactly once (an unchecked continuation: no checking object per wait, on the keystroke path).
        var waiter: UnsafeContinuation<[Item]?, Never>?
        var closed = false
    }

    private let state = Mutex(State())
    private let limit: Int
    private let size: @Sendable (Item) -> Int

    /// A queue holding at most `limitBytes` as measured by `size`.
    public init(limitBytes: Int, size: @escaping @Sendable (Item) -> Int) {
        self.limit = limitBytes
        self.size = size
    }

    /// Queues `item` unless that would pass the limit, in which case the backlog is dropped.
    @discardableResult
    public func push(_ item: Item) -> PushResult {
        enqueue(item, enforcingLimit: true)
    }

    /// Queues `item` whatever the limit (control messages after an overflow).
    public func pushAlways(_ item: Item) {
        _ = enqueue(item, enforcingLimit: false)
    }

    private typealias Waiter = UnsafeContinuation<[Item]?, Never>

    private func enqueue(_ item: Item, enforcingLimit: Bool) -> PushResult {
        let n = size(item)
        let (result, waiter) = state.withLock { s -> (PushResult, Waiter?) in
            if s.closed { return (.closed, nil) }
            if let waiter = s.waiter {
                // The consumer is waiting on an empty queue: hand the item over directly.
                s.waiter = nil
                return (.queued, waiter)
            }
            if enforcingLimit && s.bytes + n > limit {
                let dropped = s.bytes + n
                s.items.removeAll()
                s.bytes = 0
                return (.overflowed(droppedBytes: dropped), nil)
            }
            s.items.append(item)
            s.bytes += n
            return (.queued, nil)
        }
        waiter?.resume(returning: [item])
        return result
    }

    /// Everything queued, waiting until there is something; nil once closed and drained, and an
    /// empty array if the waiting task is cancelled.
    public func popAll() async -> [Item]? {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<[Item]?, Never>) in
                let ready: [Item]?? = state.withLock { s in
                    if !s.items.isEmpty {
                        let items = s.items
                        s.items.removeAll(keepingCapacity: true)
                        s.bytes = 0
                        return .some(items)
                    }
                    if s.closed { return .some(nil) }
                    if Task.isCancelled { return .some([]) }
                    s.waiter = c
                    return nil
                }
                if let ready { c.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> UnsafeContinuation<[Item]?, Never>? in
                let w = s.waiter
                s.waiter = nil
                return w
            }
            waiter?.resume(returning: [])
        }
    }

    /// Like `popAll`, but after a batch of at least `pacing.bulkBytes` (as this queue measures items) it
    /// first waits `pacing.pause`: a burst then travels in a few large batches instead of one per 4 KiB
    /// PTY read (each costs wake-ups downstream), while small batches (keystroke echo) go at once.
    public func popAll(pacing: inout BulkPacing) async -> [Item]? {
        if pacing.lastWasBulk && pacing.pause > .zero { try? await Task.sleep(for: pacing.pause) }
        let batch = await popAll()
        pacing.lastWasBulk = (batch?.reduce(0) { $0 + size($1) } ?? 0) >= pacing.bulkBytes
        return batch
    }

    /// Bytes queued now.
    public var queuedBytes: Int { state.withLock { $0.bytes } }

    /// Drops everything queued (what was for a consumer that is gone).
    public func discardAll() {
        state.withLock { s in
            s.items.removeAll()
            s.bytes = 0
        }
    }

    /// Stops the queue: pushes are dropped, the consumer gets what is left and then nil.
    public func close() {
        let waiter = state.withLock { s -> UnsafeContinuation<[Item]?, Never>? in
            s.closed = true
            let w = s.waiter
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: nil)
    }
}

/// How `OutboundQueue.popAll(pacing:)` lets bulk output gather.
public struct BulkPacing: Sendable {
    /// A batch of at least this many bytes means bulk output (a full PTY read is 4 KiB).
    public var bulkBytes: Int
    /// How long to wait before taking the batch after a bulk one.
    public var pause: Duration
    /// Whether the last batch was bulk.
    public var lastWasBulk = false

    /// A pacing; `pause` zero turns it off.
    public init(bulkBytes: Int = 4000, pause: Duration) {
        self.bulkBytes = bulkBytes
        self.pause = pause
    }
}
