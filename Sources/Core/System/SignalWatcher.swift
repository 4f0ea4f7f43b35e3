// Signals a host or join client reacts to: window changes, and termination (restore the terminal first).
import Dispatch
import Glibc

/// Watches SIGWINCH and the termination signals with dispatch sources.
/// (`@unchecked`: dispatch sources are thread-safe; the array is never mutated after init.)
public final class SignalWatcher: @unchecked Sendable {
    /// What happened.
    public enum Event: Sendable {
        /// The local terminal's size changed.
        case windowChanged
        /// A termination signal arrived.
        case terminate(Int32)
    }

    private let sources: [any DispatchSourceSignal]

    /// Starts watching; `interactive` adds SIGWINCH.
    public init(interactive: Bool, handler: @escaping @Sendable (Event) -> Void) {
        var list: [(Int32, Event)] = [(SIGTERM, .terminate(SIGTERM)), (SIGHUP, .terminate(SIGHUP)), (SIGINT, .terminate(SIGINT))]
        if interactive { list.append((SIGWINCH, .windowChanged)) }
        signal(SIGPIPE, SIG_IGN)
        sources = list.map { sig, event in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { handler(event) }
            source.resume()
            return source
        }
    }

    /// Stops watching (dispositions stay ignored; the caller is ending).
    public func cancel() {
        sources.forEach { $0.cancel() }
    }
}
