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
        var waiter: CheckedContinuation<[Item]?, Never>?
        var closed = false
        /// Takes pushed items on the pushing thread instead (see `divert`).
        var handler: (@Sendable (Item) -> Bool)?
        /// `divert` is handing over the items queued before it: new ones queue behind them.
        var draining = false
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

    private typealias Waiter = CheckedContinuation<[Item]?, Never>

    private func enqueue(_ item: Item, enforcingLimit: Bool) -> PushResult {
        let n = size(item)
        // One lock on the common path; a diversion's handler is called outside it.
        func queue(_ s: inout State) -> (PushResult, Waiter?) {
            if s.closed { return (.closed, nil) }
            if let waiter = s.waiter, !s.draining {
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
        var handler: (@Sendable (Item) -> Bool)?
        var (result, waiter) = state.withLock { s -> (PushResult, Waiter?) in
            if !s.closed, !s.draining, let h = s.handler {
                handler = h
                return (.queued, nil)
            }
            return queue(&s)
        }
        if let handler {
            if handler(item) { return .queued }
            (result, waiter) = state.withLock { s -> (PushResult, Waiter?) in
                s.handler = nil // declined: it and everything after it queue, in order
                return queue(&s)
            }
        }
        waiter?.resume(returning: [item])
        return result
    }

    /// Everything queued, waiting until there is something; nil once closed and drained, and an
    /// empty array if the waiting task is cancelled.
    public func popAll() async -> [Item]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<[Item]?, Never>) in
                let ready: [Item]?? = state.withLock { s in
                    if !s.items.isEmpty && !s.draining {
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
            let waiter = state.withLock { s -> CheckedContinuation<[Item]?, Never>? in
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

    /// From now on `handler` takes pushed items on the pushing thread (no consumer wake-up); the items
    /// queued before are handed to it first, here, in order. An item it declines (returns false) is queued
    /// as usual and ends the diversion, so whatever follows stays behind it. Call it while the consumer is
    /// not between taking a batch and acting on it (before it starts), else its batch could be overtaken.
    /// Items pushed from one thread keep their order; pushers on different threads are not ordered anyway.
    public func divert(to handler: @escaping @Sendable (Item) -> Bool) {
        state.withLock { s in
            s.handler = handler
            s.draining = true
        }
        while true {
            let batch = state.withLock { s -> [Item] in
                if s.items.isEmpty || s.handler == nil { s.draining = false }
                guard s.draining else { return [] }
                defer {
                    s.items.removeAll(keepingCapacity: true)
                    s.bytes = 0
                }
                return s.items
            }
            if batch.isEmpty { return }
            for (index, item) in batch.enumerated() where !handler(item) {
                // Declined: it and the rest go back in front of anything queued meanwhile, for the consumer.
                let rest = Array(batch[index...])
                let (waiter, items) = state.withLock { s -> (CheckedContinuation<[Item]?, Never>?, [Item]) in
                    s.handler = nil
                    s.draining = false
                    s.items.insert(contentsOf: rest, at: 0)
                    s.bytes += rest.reduce(0) { $0 + size($1) }
                    guard let waiter = s.waiter else { return (nil, []) }
                    s.waiter = nil
                    defer {
                        s.items.removeAll(keepingCapacity: true)
                        s.bytes = 0
                    }
                    return (waiter, s.items)
                }
                waiter?.resume(returning: items)
                return
            }
        }
    }

    /// Pushed items queue again (the consumer takes them).
    public func undivert() {
        state.withLock { $0.handler = nil }
    }

    /// Bytes queued now.
    public var queuedBytes: Int { state.withLock { $0.bytes } }

    /// Stops the queue: pushes are dropped, the consumer gets what is left and then nil.
    public func close() {
        let waiter = state.withLock { s -> CheckedContinuation<[Item]?, Never>? in
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
