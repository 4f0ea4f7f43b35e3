// Bytes other threads queue for an ssh session on its loop, with back-pressure, and the wake-up of that session.
import CLibSSH
import SwiftMateCore
import Synchronization

/// The hand-off between async writers and the loop that owns a libssh session. Writers queue chunks and wake the
/// session (a job for its loop); a writer waits while more than `limit` bytes are queued.
final class SSHOutbox: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var closing = false
        var finished = false
        /// The owner was woken and has not looked yet: no need to wake it again.
        var signalled = false
    }

    private let wakeUp: @Sendable () -> Void
    private let state = Mutex(State())
    private let budget: ByteBudget
    private let name: String

    /// An outbox for the connection `name` (in errors) whose owner is woken by `wake` (a job for its loop).
    init(name: String, limit: Int = 256 << 10, wake: @escaping @Sendable () -> Void) {
        self.name = name
        wakeUp = wake
        budget = ByteBudget(limit: limit)
    }

    // MARK: Writers (any thread)

    /// Queues `bytes`; waits while more than the limit is queued; throws once the connection is closed.
    func send(_ bytes: [UInt8]) async throws {
        // Charged before queueing: a `take` in between can only under-count, never strand a waiter.
        guard budget.charge(bytes.count), append(bytes) else { throw closedError }
        await budget.waitForRoom()
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

    /// Wakes the owner; outside the lock, so the woken thread does not find it still held.
    private func signal() {
        wakeUp()
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

    /// The connection is over: writers are released (later sends throw).
    func finish() {
        state.withLock { $0.finished = true }
        budget.close()
    }
}

/// Output an ssh session took from its outbox that the peer's SSH window has not taken yet: written as the window
/// allows, never waiting (libssh non-blocking, on the session's loop). The relay's server sessions and a host's link
/// write through it.
struct SSHChannelOutput {
    private var chunks: [[UInt8]] = []
    /// How much of the first chunk is written.
    private var offset = 0
    /// The owner asked to close: the channel is to close once everything before is written.
    private var closeRequested = false

    /// Everything queued before the close request is written.
    var readyToClose: Bool { chunks.isEmpty && closeRequested }

    /// Writes what the peer's window takes now, taking more from `outbox` as the chunks taken run out; false when
    /// the channel failed.
    mutating func write(to channel: ssh_channel, from outbox: SSHOutbox) -> Bool {
        while true {
            if chunks.isEmpty {
                if closeRequested { return true }
                (chunks, closeRequested) = outbox.take()
                offset = 0
                if chunks.isEmpty { return true }
            }
            let chunk = chunks[0]
            if offset >= chunk.count {
                chunks.removeFirst()
                offset = 0
                continue
            }
            let room = Int(ssh_channel_window_size(channel))
            guard room > 0 else { return true }
            let n = chunk.withUnsafeBytes { raw in
                ssh_channel_write(channel, raw.baseAddress! + offset, UInt32(min(room, raw.count - offset)))
            }
            if n == 0 || n == SSH_AGAIN { return true }
            if n < 0 { return false }
            offset += Int(n)
        }
    }
}

/// What an outbox made before its session calls to wake that session (set once, just after).
final class SSHWaker: @unchecked Sendable {
    // @unchecked: `target` is set once, in the session's init, before any writer can see the outbox.
    var target: (@Sendable () -> Void)?
    func fire() { target?() }
}
