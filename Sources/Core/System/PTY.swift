// A command running in a pseudo-terminal: posix_spawn into a new session with the PTY as its terminal.
import CPTY
import Glibc
import SwiftMateCore

/// A child process on a PTY. `read` and `write` block (they wait in poll): use them from dedicated
/// threads, never from the Swift cooperative pool. `writeSome` never blocks.
public final class PTYProcess: Sendable {
    /// The master side's file descriptor.
    public let master: Int32
    /// The child's process id.
    public let pid: pid_t

    /// Spawns `command` (looked up in `PATH`) with `environment` on a new PTY of the given size.
    public init(command: [String], environment: [String: String], cols: UInt16, rows: UInt16) throws {
        guard let program = command.first else { throw SwiftMateError(.system, "no command to run") }
        let fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure("open /dev/ptmx") }
        let number = swiftmate_unlock_and_number(fd)
        guard number >= 0 else {
            close(fd)
            throw Self.failure("unlocking the PTY")
        }
        let slavePath = "/dev/pts/\(number)"
        _ = swiftmate_set_winsize(fd, cols, rows)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // After setsid, opening the slave makes it the controlling terminal.
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)
        _ = swiftmate_spawn_close_from(&actions, 3) // nothing else of ours leaks into the shared command

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, swiftmate_spawn_flags())
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)

        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawnp(&child, program, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            close(fd)
            throw SwiftMateError(.system, "cannot run '\(program)': \(String(cString: strerror(rc))); check the command and PATH")
        }
        // Non-blocking, so that `writeSome` can try a keystroke without ever waiting; `read` and `write` poll.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        master = fd
        pid = child
    }

    private static func failure(_ call: String) -> SwiftMateError {
        SwiftMateError(.system, "\(call) failed: \(String(cString: strerror(errno)))")
    }

    /// Sets the PTY's window size (the command gets SIGWINCH).
    public func resize(cols: UInt16, rows: UInt16) {
        _ = swiftmate_set_winsize(master, cols, rows)
    }

    /// Reads output into `buffer`; returns 0 at end (the command and its children closed the terminal).
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        FileDescriptorIO.read(master, into: buffer) // EIO once the slave side is closed counts as the end
    }

    /// Writes all of `bytes` to the command's terminal (waiting while its input buffer is full).
    public func write(_ bytes: [UInt8]) {
        FileDescriptorIO.writeAll(master, bytes)
    }

    /// Writes what fits now without waiting; returns the byte count written (0 when full), or nil on error.
    public func writeSome(_ bytes: ArraySlice<UInt8>) -> Int? {
        FileDescriptorIO.writeSome(master, bytes)
    }

    /// Waits for the command to exit; returns its exit status (128+N for a signal, as shells do).
    public func waitForExit() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// Sends `signal` to the command's process group.
    public func signal(_ signal: Int32) {
        kill(-pid, signal)
        kill(pid, signal)
    }

    /// Closes the master side.
    public func closeMaster() {
        close(master)
    }
}

/// Small helpers for blocking file-descriptor I/O (descriptors in non-blocking mode wait in poll).
public enum FileDescriptorIO {
    /// Reads into `buffer`, retrying on EINTR; returns the byte count, or 0 at end of file or on an error.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno == EAGAIN { waitUntilReady(fd, Int16(POLLIN)) } else if errno != EINTR { return 0 }
        }
    }

    /// Waits until `fd` is ready for `events` (or has failed, which the next call reports).
    private static func waitUntilReady(_ fd: Int32, _ events: Int16) {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        _ = poll(&entry, 1, -1)
    }

    /// Reads up to `limit` bytes (blocking); nil at end of file or on an error.
    public static func read(_ fd: Int32, limit: Int = 4096) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { read(fd, into: $0) }
        guard n > 0 else { return nil }
        buffer.removeSubrange(n...)
        return buffer
    }

    /// Writes what a non-blocking `fd` takes now, retrying on EINTR: the byte count (0 when it is full), or nil when
    /// it failed.
    public static func writeSome(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBytes { raw in
            while true {
                let n = Glibc.write(fd, raw.baseAddress, raw.count)
                if n >= 0 { return n }
                if errno == EINTR { continue }
                return errno == EAGAIN ? 0 : nil
            }
        }
    }

    /// Writes every byte, retrying on EINTR and partial writes; returns false if the descriptor fails.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EAGAIN { waitUntilReady(fd, Int16(POLLOUT)) } else if errno != EINTR { return false }
                continue
            }
            offset += n
        }
        return true
    }

    /// Writes every byte of an array.
    @discardableResult
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }
}
