// The join client's terminal side: raw mode, keystrokes up (with the detach sequence), output down.
import Foundation
import Glibc
import SwiftMateCore
import Synchronization

/// Connects a `JoinClient` to the local terminal.
public final class JoinRunner: JoinTerminal, Sendable {
    private let stdoutLock = Mutex(())
    private let readOnly = Mutex(false)
    private let messages = TimedMessage()
    private let screen: (any JoinDisplay)?

    /// A runner for standard input and output; with `screen`, output is drawn through it (clipped or padded
    /// when the local terminal is not the session's size), else written as it comes.
    public init(screen: (any JoinDisplay)? = nil) {
        self.screen = screen
    }

    /// Writes session output to the terminal.
    public func display(_ bytes: [UInt8]) {
        write(screen?.output(bytes) ?? bytes)
    }

    /// A repaint of the whole screen.
    public func keyframe(_ keyframe: Keyframe) {
        write(screen?.keyframe(keyframe) ?? keyframe.bytes)
    }

    /// Writes what `make` returns, with the terminal's lock held across both: what the screen says to send
    /// reaches the terminal in the order the screen saw it.
    private func write(_ make: @autoclosure () -> [UInt8]) {
        stdoutLock.withLock { _ in
            let bytes = make()
            if !bytes.isEmpty { _ = FileDescriptorIO.writeAll(1, bytes) }
        }
    }

    /// The session's size changed; the local terminal keeps its own (the screen clips or pads).
    public func sessionResized(cols: UInt16, rows: UInt16) {
        if let screen { write(screen.sessionResized(cols: cols, rows: rows)) }
    }

    /// Shows a notice on the bottom line for a few seconds; what it covered is drawn again when it goes.
    public func showMessage(_ text: String) {
        guard let screen else {
            // Output to a file or a pipe carries the session's bytes only: the message goes to standard error.
            guard isatty(1) == 1 else {
                _ = FileDescriptorIO.writeAll(2, Array("swiftmate: \(text.replacingOccurrences(of: "swiftmate: ", with: ""))\n".utf8))
                return
            }
            write(LocalTerminal.statusLine(text, row: LocalTerminal.size()?.rows ?? 24))
            return
        }
        messages.show(text, for: 3) { [self] shown in write(screen.message(shown)) }
    }

    /// A line that stays on the bottom row until nil (waiting for the host to let this viewer in).
    public func standingLine(_ text: String?) {
        guard let screen else {
            if let text { showMessage(text) }
            return
        }
        messages.hold { write(screen.message(text)) }
    }

    /// Joins with `client` until the session ends or the person types Enter `~.`.
    public func run(client: JoinClient) async throws -> JoinOutcome {
        let interactive = LocalTerminal.isInteractive
        let size = LocalTerminal.size() ?? (80, 24)
        let (input, inputSink) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let (sizes, sizeSink) = AsyncStream<(cols: UInt16, rows: UInt16)>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let signals = SignalWatcher(interactive: interactive) { event in
            switch event {
            case .windowChanged:
                if let s = LocalTerminal.size() {
                    sizeSink.yield(s)
                    if let screen = self.screen { self.write(screen.terminalResized(cols: s.cols, rows: s.rows)) }
                }
            case .terminate:
                inputSink.finish()
            }
        }
        defer { signals.cancel() }
        if interactive { LocalTerminal.enterRawMode() }
        defer { if interactive { LocalTerminal.restore() } }
        let reader = Thread {
            var detector = DetachDetector()
            while let typed = FileDescriptorIO.read(0) {
                let (forward, detach) = detector.feed(typed)
                if !forward.isEmpty { inputSink.yield(forward) }
                if detach { break }
            }
            inputSink.finish()
        }
        reader.name = "swiftmate-join-stdin"
        reader.start()
        let outcome = try await client.run(size: size, input: input, sizes: sizes, terminal: self) { [self] welcome in
            self.readOnly.withLock { $0 = welcome.readOnly }
        }
        inputSink.finish()
        sizeSink.finish()
        return outcome
    }

    /// Whether the relay said the token is read-only.
    public var isReadOnly: Bool { readOnly.withLock { $0 } }
}
