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

    /// Readable when there is something to do; the owning thread polls it beside the session's socket.
    let wakeFD: Int32
    private let state = Mutex(State())
    private let budget: ByteBudget
    private let name: String

    /// An outbox for the connection `name` (in errors).
    init(name: String, limit: Int = 256 << 10) throws {
        wakeFD = swiftmate_eventfd()
        guard wakeFD >= 0 else { throw SwiftMateError(.system, "eventfd: \(String(cString: strerror(errno)))") }
        self.name = name
        budget = ByteBudget(limit: limit)
    }

    // MARK: Writers (any thread)

    /// Queues `bytes`; waits while more than the limit is queued; throws once the connection is closed.
    func send(_ bytes: [UInt8]) async throws {
        // Charged before queueing: a `take` in between can only under-count, never strand a waiter.
        let queued = budget.charge(bytes.count) && state.withLock { s -> Bool in
            if s.closing || s.finished { return false }
            s.chunks.append(bytes)
            wake(&s)
            return true
        }
        guard queued else { throw SwiftMateError(.connectionLost, "ssh \(name): the connection is closed") }
        await budget.waitForRoom()
    }

    /// Asks the owning thread to close the channel after what is queued.
    func requestClose() {
        state.withLock { s in
            s.closing = true
            wake(&s)
        }
    }

    /// Under the lock, so it never writes to the eventfd after `finish` closed it (the number could
    /// belong to another file by then); once per wake-up, not once per chunk.
    private func wake(_ s: inout State) {
        guard !s.finished, !s.signalled else { return }
        s.signalled = true
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: The owning thread

    /// Everything queued, and whether a close was asked for; blocked writers go on.
    func take() -> (chunks: [[UInt8]], closing: Bool) {
        let taken = state.withLock { s -> (chunks: [[UInt8]], closing: Bool) in
            let chunks = s.chunks
            s.chunks = []
            return (chunks, s.closing)
        }
        budget.release()
        return taken
    }

    /// Resets the eventfd after a wake-up. The owning thread calls `take` after this, so a chunk queued
    /// while `signalled` was still set is taken then.
    func clearWake() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
        state.withLock { $0.signalled = false }
    }

    /// The connection is over: writers are released (later sends throw) and the eventfd is closed.
    func finish() {
        state.withLock { s in
            if s.finished { return }
            s.finished = true
            Glibc.close(wakeFD)
        }
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
