// Bytes other threads queue for a libssh thread, with back-pressure, and the eventfd that wakes that thread.
import CLibSSH
import Glibc
import SwiftMateCore
import Synchronization

/// The hand-off between async writers and the one thread that owns a libssh session. Writers queue
/// chunks and wake the thread through `wakeFD`; a writer waits while more than `limit` bytes are queued.
final class SSHOutbox: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var closing = false
        var finished = false
        /// The eventfd was written and the owning thread has not cleared it yet: no need to write again.
        var signalled = false
    }

    /// Readable when there is something to do; the owning thread polls it beside the session's socket (-1 when
    /// the outbox was made with a `wake` of its own).
    let wakeFD: Int32
    private let wakeUp: (@Sendable () -> Void)?
    private let state = Mutex(State())
    private let budget: ByteBudget
    private let name: String

    /// An outbox for the connection `name` (in errors), waking its owning thread through an eventfd.
    init(name: String, limit: Int = 256 << 10) throws {
        wakeFD = swiftmate_eventfd()
        guard wakeFD >= 0 else { throw SwiftMateError(.system, "eventfd: \(String(cString: strerror(errno)))") }
        self.name = name
        wakeUp = nil
        budget = ByteBudget(limit: limit)
    }

    /// An outbox whose owner is woken by `wake` (an ssh session on an `IOLoop`: a job for the loop).
    init(name: String, limit: Int = 256 << 10, wake: @escaping @Sendable () -> Void) {
        wakeFD = -1
        self.name = name
        wakeUp = wake
        budget = ByteBudget(limit: limit)
    }

    /// The eventfd lives as long as the outbox, so a writer that saw the connection open may still write it.
    deinit {
        if wakeFD >= 0 { Glibc.close(wakeFD) }
    }

    // MARK: Writers (any thread)

    /// Queues `bytes`; waits while more than the limit is queued; throws once the connection is closed.
    func send(_ bytes: [UInt8]) async throws {
        // Charged before queueing: a `take` in between can only under-count, never strand a waiter.
        guard budget.charge(bytes.count), append(bytes) else { throw closedError }
        await budget.waitForRoom()
    }

    /// Queues `bytes` if that needs no waiting (the queue is under its limit); false queues nothing.
    func offer(_ bytes: [UInt8]) -> Bool {
        budget.chargeIfRoom(bytes.count) && append(bytes)
    }

    /// Queues charged bytes and wakes the owning thread if it needs it; false once the connection is closing.
    private func append(_ bytes: [UInt8]) -> Bool {
        let (queued, wake) = state.withLock { s -> (Bool, Bool) in
            if s.closing || s.finished { return (false, false) }
            s.chunks.append(bytes)
            return (true, Self.needsWake(&s))
        }
        if wake { signal() }
        return queued
    }

    private var closedError: SwiftMateError { SwiftMateError(.connectionLost, "ssh \(name): the connection is closed") }

    /// Asks the owning thread to close the channel after what is queued.
    func requestClose() {
        if state.withLock({ s in
            s.closing = true
            return Self.needsWake(&s)
        }) { signal() }
    }

    /// Wakes the owning thread (once per wake-up) to look again at what it waits for (room to read, say).
    func wake() {
        if state.withLock({ Self.needsWake(&$0) }) { signal() }
    }

    /// Under the lock: whether this writer must wake the owning thread (once per wake-up, not per chunk).
    private static func needsWake(_ s: inout State) -> Bool {
        guard !s.finished, !s.signalled else { return false }
        s.signalled = true
        return true
    }

    /// Wakes the owning thread; outside the lock, so the woken thread does not find it still held.
    private func signal() {
        if let wakeUp { return wakeUp() }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: The owning thread

    /// The owning thread is looking now: the next writer or `wake` wakes it again.
    func woke() {
        state.withLock { $0.signalled = false }
    }

    /// Everything queued, and whether a close was asked for; blocked writers go on. Writers queueing after
    /// this wake the thread again.
    func take() -> (chunks: [[UInt8]], closing: Bool) {
        let taken = state.withLock { s -> (chunks: [[UInt8]], closing: Bool) in
            s.signalled = false
            let chunks = s.chunks
            s.chunks = []
            return (chunks, s.closing)
        }
        budget.release()
        return taken
    }

    /// Resets the eventfd after a wake-up (the owning thread then calls `take`, which takes what woke it).
    func clearWake() {
        guard wakeFD >= 0 else { return }
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    /// The connection is over: writers are released (later sends throw).
    func finish() {
        state.withLock { $0.finished = true }
        budget.close()
    }

    /// Writes all of `bytes` to `channel` (blocking on the owning thread); false when the channel failed.
    static func write(_ bytes: [UInt8], to channel: ssh_channel) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = ssh_channel_write(channel, raw.baseAddress! + offset, UInt32(raw.count - offset))
                if n <= 0 { return false }
                offset += Int(n)
            }
            return true
        }
    }
}
