// The contract every frontend passes, and a recording frontend for tests.
import SwiftMateCore
import Synchronization

/// A frontend that keeps every event it is given (for tests and as an embedding example).
public final class MemoryFrontend: Frontend {
    private let store = Mutex<[SessionEvent]>([])
    private let injectorBox = Mutex<(any InputInjector)?>(nil)

    /// An empty recorder.
    public init() {}

    /// `memory`.
    public var name: String { "memory" }

    /// Keeps the injector so tests can type through it.
    public func attach(injector: any InputInjector) async throws { injectorBox.withLock { $0 = injector } }

    /// Records the event.
    public func handle(_ event: SessionEvent) async throws { store.withLock { $0.append(event) } }

    /// Events so far.
    public var events: [SessionEvent] { store.withLock { $0 } }

    /// Types into the session through the injector given at attach.
    public func type(_ bytes: [UInt8]) async { await injectorBox.withLock { $0 }?.inject(bytes) }
}

/// A frontend that does nothing (the smallest valid plugin).
public struct NullFrontend: Frontend {
    /// Makes one.
    public init() {}
    /// `null`.
    public var name: String { "null" }
    /// Nothing.
    public func attach(injector: any InputInjector) async throws {}
    /// Nothing.
    public func handle(_ event: SessionEvent) async throws {}
}

/// Checks a frontend against the `Frontend` contract.
public enum FrontendContract {
    private struct NoInput: InputInjector { func inject(_ bytes: [UInt8]) async {} }

    /// Feeds a whole session's worth of events (odd sizes, resizes, joins, a long burst, the end).
    public static func check(_ frontend: any Frontend) async throws {
        try await frontend.attach(injector: NoInput())
        try await frontend.handle(.start(SessionInfo(sessionID: "contract", cols: 80, rows: 24, command: ["sh"],
                                                      environment: ["TERM": "xterm-256color"])))
        var seq: UInt64 = 0
        for chunk in ["", "plain text\r\n", "\u{1b}[1;31mred\u{1b}[0m\r\n", "wide: 漢字 and emoji 🙂\r\n", "\u{1b}[?1049h\u{1b}[2J", "\u{1b}[?1049l"] {
            let bytes = Array(chunk.utf8)
            try await frontend.handle(.output(seq: seq, bytes: bytes))
            seq += UInt64(bytes.count)
        }
        try await frontend.handle(.output(seq: seq, bytes: [0xff, 0xfe, 0x1b, 0x5b]))
        seq += 4
        try await frontend.handle(.viewerJoined(viewer: 1, readOnly: false, peer: "127.0.0.1:1"))
        try await frontend.handle(.input(viewer: 1, bytes: Array("ls\r".utf8)))
        try await frontend.handle(.resize(cols: 1, rows: 1))
        try await frontend.handle(.resize(cols: 300, rows: 100))
        try await frontend.handle(.marker("contract"))
        let burst = [UInt8](repeating: 0x61, count: 1 << 20)
        try await frontend.handle(.output(seq: seq, bytes: burst))
        try await frontend.handle(.viewerLeft(viewer: 1, reason: "disconnected"))
        try await frontend.handle(.end(exitStatus: 0))
    }
}
