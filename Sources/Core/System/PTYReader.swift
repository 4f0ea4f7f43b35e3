// The command's output read on the session's loop: one read per readiness, paused while the host's terminal is behind.
import Glibc
import SwiftMateCore

/// Reads the PTY master on the session's loop (level-triggered: one read of up to 64 KiB each time the loop finds it
/// readable, so a flood of output shares the loop with everything else it serves). Each chunk goes to `publish`, on
/// the loop; `publish` returns false when the chunk's consumers are behind (the host's terminal), and reading stops
/// until they call the reader's `resume`. At the end of the output (EOF or EIO once the command and its children closed the terminal),
/// `onEnd` gets the stream offset after the last byte.
///
/// Threading: everything on `loop`; `resume` from any thread.
final class PTYReader: @unchecked Sendable {
    // @unchecked: the state below is touched only on `loop`'s thread.
    private let fd: Int32
    private let loop: IOLoop
    private let publish: ([UInt8], UInt64, PTYReader) -> Bool
    private let onEnd: (UInt64) -> Void
    private var seq: UInt64
    private var watching = false
    private var ended = false
    private let buffer = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)

    /// A reader of `pty`'s master from stream offset `seq` on; nothing is read until `start`.
    init(pty: PTYProcess, loop: IOLoop, seq: UInt64, publish: @escaping ([UInt8], UInt64, PTYReader) -> Bool,
         onEnd: @escaping (UInt64) -> Void) {
        fd = pty.master
        self.loop = loop
        self.seq = seq
        self.publish = publish
        self.onEnd = onEnd
    }

    deinit {
        buffer.deallocate()
    }

    /// Starts reading. On the loop.
    func start() {
        loop.assertInLoop()
        watch()
    }

    /// Reads again after `publish` said its consumers were behind. Any thread.
    func resume() {
        loop.execute {
            if !self.ended && !self.watching { self.watch() }
        }
    }

    private func watch() {
        loop.watch(fd, for: .readable) { _ in self.readable() } // held until the end
        watching = true
    }

    private func readable() {
        let n = Glibc.read(fd, buffer, 64 << 10)
        if n > 0 {
            let chunk = [UInt8](UnsafeRawBufferPointer(start: buffer, count: n))
            let offset = seq
            seq += UInt64(n)
            if !publish(chunk, offset, self) {
                loop.unwatch(fd)
                watching = false
            }
            return
        }
        if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
        // 0, or EIO: the slave side is closed.
        ended = true
        loop.unwatch(fd)
        watching = false
        onEnd(seq)
    }
}
