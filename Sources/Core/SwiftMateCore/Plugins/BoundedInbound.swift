// A connection's inbound bytes from a transport that reads its socket itself: bounded, the reader makes room.
import Synchronization

/// Inbound bytes from a transport that runs its own I/O (ssh, on a loop): what the transport has read and the
/// connection's one reader task has not taken yet.
///
/// Bounded in bytes: the transport takes from its peer only what `room` allows and leaves the rest unread
/// (libssh then stops opening the SSH window, so the peer waits, as a full socket buffer makes it wait).
/// Once the reader has taken enough to make room again, `onRoom` asks the transport to read on.
///
/// Threading: `room`, `deliver` and `finish` from the transport's thread; iteration from the one reader task.
public final class BoundedInbound: AsyncSequence, Sendable {
    /// A chunk of bytes.
    public typealias Element = [UInt8]

    private struct State {
        var pending: [[UInt8]] = []
        /// The first unread chunk of `pending` (taking from the front of an array would copy the rest).
        var head = 0
        var waiter: UnsafeContinuation<[UInt8]?, any Error>?
        var end: (any Error)??
        /// Bytes in `pending`.
        var pendingBytes = 0
        /// The transport left bytes unread for want of room: `onRoom` is due once there is room again.
        var starved = false

        mutating func pop() -> [UInt8] {
            let chunk = pending[head]
            head += 1
            pendingBytes -= chunk.count
            if head == pending.count {
                pending.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= pending.count {
                pending.removeFirst(head)
                head = 0
            }
            return chunk
        }

        /// Whether the transport waits for room and now has enough (half the limit), clearing the wait.
        mutating func takeWake(limit: Int) -> Bool {
            guard starved, end == nil, pendingBytes <= limit / 2 else { return false }
            starved = false
            return true
        }
    }

    private let state = Mutex(State())
    private let limitBytes: Int
    private let onRoom: @Sendable () -> Void

    /// Inbound bytes of which at most `limitBytes` wait unread; `onRoom` (called on the reader's thread, must not
    /// block) wakes the transport's thread after it was told there was no room.
    public init(limitBytes: Int, onRoom: @escaping @Sendable () -> Void = {}) {
        self.limitBytes = Swift.max(1, limitBytes)
        self.onRoom = onRoom
    }

    // MARK: The transport's thread

    /// How many bytes `deliver` may be given now (0: leave them unread; `onRoom` is called when that changes).
    /// After `finish`, any number: they are dropped.
    public var room: Int {
        state.withLock { s in
            if s.end != nil { return Int.max }
            let room = limitBytes - s.pendingBytes
            if room <= 0 { s.starved = true }
            return Swift.max(0, room)
        }
    }

    /// One chunk from the peer, at most `room` bytes of it (the rest is kept: the limit may be passed by one
    /// chunk, never more). Returns false when it was dropped (the inbound side has finished).
    @discardableResult
    public func deliver(_ bytes: [UInt8]) -> Bool {
        enum Step { case resume(UnsafeContinuation<[UInt8]?, any Error>), kept, dropped }
        let step: Step = state.withLock { s in
            if s.end != nil { return .dropped }
            if let waiter = s.waiter {
                s.waiter = nil
                return .resume(waiter)
            }
            s.pending.append(bytes)
            s.pendingBytes += bytes.count
            return .kept
        }
        switch step {
        case .resume(let waiter): waiter.resume(returning: bytes)
        case .kept: break
        case .dropped: return false
        }
        return true
    }

    /// No more chunks: the reader gets what is pending, then the end (or `error`).
    public func finish(throwing error: (any Error)? = nil) {
        let waiter = state.withLock { s -> UnsafeContinuation<[UInt8]?, any Error>? in
            if s.end != nil { return nil }
            s.end = .some(error)
            let w = s.waiter // one waits only when nothing is pending
            s.waiter = nil
            return w
        }
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
    }

    // MARK: The reader

    /// The next chunk; nil at the end (or when the reading task is cancelled).
    func next() async throws -> [UInt8]? {
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<[UInt8]?, any Error>) in
                var wake = false
                let ready: Result<[UInt8]?, any Error>? = state.withLock { s in
                    if s.head < s.pending.count {
                        let chunk = s.pop()
                        wake = s.takeWake(limit: limitBytes)
                        return .success(chunk)
                    }
                    if let end = s.end { return end.map { .failure($0) } ?? .success(nil) }
                    wake = s.takeWake(limit: limitBytes)
                    if Task.isCancelled { return .success(nil) }
                    s.waiter = c
                    return nil
                }
                if wake { onRoom() }
                if let ready { c.resume(with: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> UnsafeContinuation<[UInt8]?, any Error>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Iterates the chunks (one reader).
    public struct AsyncIterator: AsyncIteratorProtocol {
        let inbound: BoundedInbound
        /// The next chunk, or nil at the end.
        public mutating func next() async throws -> [UInt8]? { try await inbound.next() }
    }

    /// The reader's iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inbound: self) }
}
