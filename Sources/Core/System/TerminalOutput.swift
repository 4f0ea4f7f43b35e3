// What the host's own terminal is sent: written without waiting, from the session's loop or any other thread, in order.
import Glibc
import SwiftMateCore
import Synchronization

/// The host's local terminal as the session loop writes it: what the terminal takes now is written at once; the rest
/// waits in order and the loop writes it when the terminal is writable again, so a slow terminal never stalls the loop
/// (and with it the relay link and an embedded relay's viewers). Past `limitBytes` waiting, `isBehind` tells the PTY
/// reader to stop reading the command's output until the terminal has caught up (the command then waits, as it would
/// on a slow terminal of its own); `onCaughtUp` says when.
///
/// A terminal is written through a file description of its own (opened again by name, non-blocking), so the
/// terminal's other users (the shell that started the host) keep theirs as it was. Anything else (a pipe, a file:
/// headless hosts write only their log there) is written as it is.
///
/// Threading: `write` from any thread (under one lock, so what callers produce under it reaches the terminal in the
/// order they produced it); the flushing runs on `loop`.
final class TerminalOutput: Sendable {
    private struct State {
        var pending: [[UInt8]] = []
        var pendingBytes = 0
        /// The loop watches the descriptor for room.
        var flushing = false
        /// `isBehind` was seen true: `onCaughtUp` is due once half the limit has drained.
        var reported = false
        var onCaughtUp: (@Sendable () -> Void)?
    }

    private let fd: Int32
    private let ownsFD: Bool
    private let loop: IOLoop
    private let limitBytes: Int
    private let state = Mutex(State())

    /// The terminal on standard output, flushed on `loop`.
    convenience init(loop: IOLoop, limitBytes: Int = 1 << 20) {
        if isatty(1) == 1, let name = ttyname(1) {
            let reopened = open(name, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
            self.init(fd: reopened >= 0 ? reopened : 1, ownsFD: reopened >= 0, loop: loop, limitBytes: limitBytes)
        } else {
            self.init(fd: 1, ownsFD: false, loop: loop, limitBytes: limitBytes)
        }
    }

    /// Output to `fd` (closed with the writer when `ownsFD`), flushed on `loop`.
    init(fd: Int32, ownsFD: Bool, loop: IOLoop, limitBytes: Int) {
        self.fd = fd
        self.ownsFD = ownsFD
        self.loop = loop
        self.limitBytes = limitBytes
    }

    deinit {
        if ownsFD { close(fd) }
    }

    /// Writes what `produce` returns, with the lock held across both: output produced by callers in turn reaches
    /// the terminal in that order.
    func write(_ produce: () -> [UInt8]) {
        let flush = state.withLock { s -> Bool in
            let bytes = produce()
            guard !bytes.isEmpty else { return false }
            var rest = bytes[...]
            if s.pending.isEmpty {
                guard let n = FileDescriptorIO.writeSome(fd, rest) else { return false } // the terminal is gone
                rest = rest.dropFirst(n)
                if rest.isEmpty { return false }
            }
            s.pending.append(Array(rest))
            s.pendingBytes += rest.count
            if s.flushing { return false }
            s.flushing = true
            return true
        }
        if flush { loop.execute { self.watch() } }
    }

    /// More than the limit waits for the terminal: the caller stops producing until `onCaughtUp` is called (once,
    /// on the loop, when half the limit has drained).
    func isBehind(onCaughtUp: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { s in
            guard s.pendingBytes > limitBytes else { return false }
            s.reported = true
            s.onCaughtUp = onCaughtUp
            return true
        }
    }

    /// Writes everything still waiting, waiting for the terminal as long as it takes (before the host exits and its
    /// terminal is restored: nothing the session showed is lost). Not on the loop.
    func drain() {
        state.withLock { s in
            for chunk in s.pending { FileDescriptorIO.writeAll(fd, chunk) }
            s.pending = []
            s.pendingBytes = 0
        }
    }

    // MARK: The loop

    private func watch() {
        loop.watch(fd, for: .writable) { _ in self.flush() }
        flush()
    }

    private func flush() {
        let (done, caughtUp) = state.withLock { s -> (Bool, (@Sendable () -> Void)?) in
            while let chunk = s.pending.first {
                guard let n = FileDescriptorIO.writeSome(fd, chunk[...]) else {
                    (s.pending, s.pendingBytes) = ([], 0) // the terminal is gone
                    break
                }
                if n == 0 { break }
                s.pendingBytes -= n
                if n == chunk.count { s.pending.removeFirst() } else { s.pending[0].removeFirst(n) }
            }
            var caughtUp: (@Sendable () -> Void)?
            if s.reported && s.pendingBytes <= limitBytes / 2 {
                s.reported = false
                caughtUp = s.onCaughtUp
                s.onCaughtUp = nil
            }
            if s.pending.isEmpty { s.flushing = false }
            return (s.pending.isEmpty, caughtUp)
        }
        if done { loop.unwatch(fd) }
        caughtUp?()
    }
}
