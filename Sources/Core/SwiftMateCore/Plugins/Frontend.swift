// The frontend plugin protocol: a consumer of one session's events that may inject input.

/// What happens in a session, in order, as a frontend sees it.
public enum SessionEvent: Sendable, Equatable {
    /// The session started with this size and command.
    case start(SessionInfo)
    /// Terminal output; `seq` is the offset of the first byte in the session's output stream.
    case output(seq: UInt64, bytes: [UInt8])
    /// Keystrokes that reached the command; `viewer` 0 is the host's own terminal.
    case input(viewer: UInt32, bytes: [UInt8])
    /// The session's window size changed.
    case resize(cols: UInt16, rows: UInt16)
    /// A viewer joined.
    case viewerJoined(viewer: UInt32, readOnly: Bool, peer: String)
    /// A viewer left.
    case viewerLeft(viewer: UInt32, reason: String)
    /// A named point in time (e.g. from `swiftmate marker`).
    case marker(String)
    /// The session ended; the command's exit status when it exited.
    case end(exitStatus: Int32?)
}

/// Facts about a session when it starts.
public struct SessionInfo: Sendable, Equatable {
    /// Session id from the relay (empty before it is known).
    public var sessionID: String
    /// Window size.
    public var cols: UInt16
    /// Window size.
    public var rows: UInt16
    /// The command line being shared.
    public var command: [String]
    /// Environment facts worth recording (`TERM`, `SHELL`).
    public var environment: [String: String]

    /// Makes the record.
    public init(sessionID: String, cols: UInt16, rows: UInt16, command: [String], environment: [String: String] = [:]) {
        self.sessionID = sessionID
        self.cols = cols
        self.rows = rows
        self.command = command
        self.environment = environment
    }
}

/// How a frontend sends keystrokes into the session, as if typed at the host.
public protocol InputInjector: Sendable {
    /// Queues `bytes` for the command's terminal.
    func inject(_ bytes: [UInt8]) async
}

/// A frontend plugin (`ansi`, `recorder`, an embedder's own).
///
/// Threading: the host calls `handle` from one task per frontend, in event order, never
/// concurrently; each frontend has its own bounded queue, so a slow one does not slow the
/// session. A frontend that throws is detached and logged; the session goes on.
public protocol Frontend: Sendable {
    /// The registry name.
    var name: String { get }
    /// Called once before any event, with a way to inject input.
    func attach(injector: any InputInjector) async throws
    /// Called for each event in order.
    func handle(_ event: SessionEvent) async throws
    /// Called with the events that queued up while the frontend was busy, in order. The default calls
    /// `handle(_:)` for each; a frontend may do better with several at once (one write for all).
    func handle(batch: [SessionEvent]) async throws
}

extension Frontend {
    /// Calls `handle(_:)` for each event.
    public func handle(batch: [SessionEvent]) async throws {
        for event in batch { try await handle(event) }
    }
}
