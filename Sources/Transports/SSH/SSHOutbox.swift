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
        var bytes = 0
        var closing = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Readable when there is something to do; the owning thread polls it beside the session's socket.
    let wakeFD: Int32
    private let state = Mutex(State())
    private let limit: Int
    private let name: String

    /// An outbox for the connection `name` (in errors).
    init(name: String, limit: Int = 256 << 10) throws {
        wakeFD = swiftmate_eventfd()
        guard wakeFD >= 0 else { throw SwiftMateError(.system, "eventfd: \(String(cString: strerror(errno)))") }
        self.name = name
        self.limit = limit
    }

    // MARK: Writers (any thread)

    /// Queues `bytes`; waits while more than the limit is queued; throws once the connection is closed.
    func send(_ bytes: [UInt8]) async throws {
        let (queued, full) = state.withLock { s -> (Bool, Bool) in
            if s.closing || s.finished { return (false, false) }
            s.chunks.append(bytes)
            s.bytes += bytes.count
            return (true, s.bytes > limit)
        }
        guard queued else { throw SwiftMateError(.connectionLost, "ssh \(name): the connection is closed") }
        wake()
        guard full else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.finished || s.bytes <= limit { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    /// Asks the owning thread to close the channel after what is queued.
    func requestClose() {
        state.withLock { $0.closing = true }
        wake()
    }

    /// Under the lock, so it never writes to the eventfd after `finish` closed it (the number could
    /// belong to another file by then).
    private func wake() {
        state.withLock { s in
            guard !s.finished else { return }
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        }
    }

    // MARK: The owning thread

    /// Everything queued, and whether a close was asked for; blocked writers go on.
    func take() -> (chunks: [[UInt8]], closing: Bool) {
        state.withLock { s in
            let chunks = s.chunks
            s.chunks = []
            s.bytes = 0
            s.waiters.forEach { $0.resume() }
            s.waiters = []
            return (chunks, s.closing)
        }
    }

    /// Resets the eventfd after a wake-up.
    func clearWake() {
        var value: UInt64 = 0
        _ = Glibc.read(wakeFD, &value, 8)
    }

    /// The connection is over: writers are released (later sends throw) and the eventfd is closed.
    func finish() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            if s.finished { return [] }
            s.finished = true
            let w = s.waiters
            s.waiters = []
            Glibc.close(wakeFD)
            return w
        }
        waiters.forEach { $0.resume() }
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
