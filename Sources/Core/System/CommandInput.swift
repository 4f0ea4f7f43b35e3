// Keystrokes for the shared command's terminal: written at once when they fit, else by a thread that waits.
import Foundation

/// The way into the command's PTY. A keystroke is written straight away by the caller when nothing is
/// waiting ahead of it and the terminal has room (the usual case: no thread hand-off, which is most of a
/// keystroke's cost); otherwise it is queued for the writer thread, which waits for room. Order is kept.
/// Past `limit` queued items, input is dropped (a command that stopped reading its terminal).
final class CommandInput: @unchecked Sendable {
    // @unchecked: all state is guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [ArraySlice<UInt8>] = []
    private var writerBusy = false
    private var closed = false
    private var pty: PTYProcess?
    private let limit: Int

    /// Input for the PTY attached at the time (the command is respawned with `-F`).
    init(limit: Int) {
        self.limit = limit
        let thread = Thread { [self] in writeQueued() }
        thread.name = "swiftmate-pty-input"
        thread.start()
    }

    /// Writes `bytes` now if possible, else queues the rest; returns false if they were dropped.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        var rest = bytes[...]
        if pending.isEmpty && !writerBusy, let pty {
            // Non-blocking, and under the lock so the writer thread cannot slip anything in between.
            guard let written = pty.writeSome(rest) else { return false }
            rest = rest.dropFirst(written)
            if rest.isEmpty { return true }
        }
        guard pending.count < limit else { return false }
        pending.append(rest)
        condition.signal()
        return true
    }

    /// Sends later input to `pty` (nil: none is running).
    func attach(_ pty: PTYProcess?) {
        condition.lock()
        self.pty = pty
        condition.unlock()
    }

    /// Stops the writer thread; later input is dropped.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func writeQueued() {
        while true {
            condition.lock()
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty {
                condition.unlock()
                return
            }
            let bytes = pending.removeFirst()
            let target = pty
            writerBusy = true
            condition.unlock()
            target?.write(Array(bytes))
            condition.lock()
            writerBusy = false
            condition.unlock()
        }
    }
}
