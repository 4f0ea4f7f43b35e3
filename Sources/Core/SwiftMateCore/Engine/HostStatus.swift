// What a running host knows about itself: messages, connection strings, viewers. Read by the control socket.
import Foundation

/// The host's observable state, shared by the relay link, the terminal side and the control socket.
public actor HostStatus {
    /// A viewer as the host knows it.
    public struct ViewerInfo: Codable, Sendable, Equatable {
        /// Relay-assigned id (what `approve`, `deny` and `kick` take).
        public var id: UInt32
        /// Whether the viewer joined with the read-only token.
        public var readOnly: Bool
        /// Where it came from (its address).
        public var peer: String
        /// The transport it came over (`ssh`, `tcp`; empty when the relay did not say).
        public var transport: String
        /// The fingerprint (`SHA256:…`) of the key it proved, or empty.
        public var key: String
        /// Whether it waits for the host to let it in (`approve_joiners`) rather than watching.
        public var waiting: Bool

        /// A viewer.
        public init(id: UInt32, readOnly: Bool, peer: String, transport: String = "", key: String = "", waiting: Bool = false) {
            self.id = id
            self.readOnly = readOnly
            self.peer = peer
            self.transport = transport
            self.key = key
            self.waiting = waiting
        }

        /// The viewer the relay described.
        public init(_ d: ViewerDescription, waiting: Bool = false) {
            self.init(id: d.id, readOnly: d.readOnly, peer: d.peer, transport: d.transport, key: d.key, waiting: waiting)
        }

        /// As the relay described it.
        public var described: ViewerDescription {
            ViewerDescription(id: id, readOnly: readOnly, peer: peer, transport: transport, key: key)
        }
    }

    /// The JSON document of `status --json`.
    public struct Snapshot: Codable, Sendable {
        /// Whether the host is connected and has its connection strings.
        public var ready: Bool
        /// Session id at the relay.
        public var sessionID: String
        /// The relay's URL.
        public var relay: String
        /// Codec in use.
        public var codec: String
        /// Connection strings by label (`tcp session`, `tcp session read only`, `ssh session`, …).
        public var connectionStrings: [String: String]
        /// Connected viewers, and those waiting for the host to let them in (`waiting`).
        public var viewers: [ViewerInfo]
    }

    private var messages: [String] = []
    private var snapshot = Snapshot(ready: false, sessionID: "", relay: "", codec: "", connectionStrings: [:], viewers: [])
    /// The viewers by id (the snapshot lists them in order when asked), and the waiting ones' ids, longest-waiting first.
    private var viewers: [UInt32: ViewerInfo] = [:]
    private var waiting: [UInt32] = []
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0
    private let maxMessages = 1000

    /// A fresh status.
    public init() {}

    /// Appends a line to the message log (what `show-messages` prints).
    public func log(_ line: String) {
        let stamp = Date().formatted(.iso8601.time(includingFractionalSeconds: false))
        messages.append("\(stamp) \(line)")
        if messages.count > maxMessages { messages.removeFirst(messages.count - maxMessages) }
    }

    /// The message log, oldest first.
    public func allMessages() -> [String] { messages }

    /// Connected: records the session and wakes `waitReady` callers.
    public func connected(relay: String, welcome: Welcome) {
        snapshot.ready = true
        snapshot.relay = relay
        snapshot.sessionID = welcome.sessionID
        snapshot.codec = welcome.codec
        snapshot.connectionStrings = Dictionary(welcome.connectionStrings.map(JoinStrings.split), uniquingKeysWith: { a, _ in a })
        viewers = [:]
        waiting = []
        wakeWaiters()
    }

    /// Why the relay (or the transport, e.g. a host-key mismatch) refused the session, if it did.
    public private(set) var refusal: String?

    /// The relay refused the session: wakes `waitReady` callers (they find `refusal` set).
    public func refused(_ reason: String) {
        refusal = reason
        wakeWaiters()
    }

    private func wakeWaiters() {
        let woken = waiters
        waiters = [:]
        woken.values.forEach { $0.resume() }
    }

    /// Disconnected from the relay; returns the viewers that were connected (not those that were waiting).
    @discardableResult
    public func disconnected() -> [ViewerInfo] {
        let gone = viewers.values.filter { !$0.waiting }.sorted { $0.id < $1.id }
        snapshot.ready = false
        viewers = [:]
        waiting = []
        return gone
    }

    /// A viewer joined (one that waited is watching now), or waits (`viewer.waiting`); returns whether the list of
    /// those waiting changed.
    @discardableResult
    public func viewerJoined(_ viewer: ViewerInfo) -> Bool {
        // A relay reports at most its own viewer limit; past the largest one it can have, the list stops growing.
        guard viewers[viewer.id] != nil || viewers.count < Self.maxViewers else { return false }
        var changed = false
        if viewer.waiting {
            // As many as a host can answer; more (from a relay inventing them) are not listed.
            guard viewers[viewer.id] == nil, waiting.count < Self.maxWaiting else { return false }
            waiting.append(viewer.id)
            changed = true
        } else if viewers[viewer.id]?.waiting == true {
            waiting.removeAll { $0 == viewer.id }
            changed = true
        }
        viewers[viewer.id] = viewer
        return changed
    }

    /// The most viewers listed as waiting for the host's answer.
    public static let maxWaiting = 1000

    /// The viewers waiting for the host to let them in, longest-waiting first.
    public func waitingViewers() -> [ViewerInfo] { waiting.compactMap { viewers[$0] } }

    /// The viewer `id`, if the relay told of it.
    public func viewer(_ id: UInt32) -> ViewerInfo? { viewers[id] }

    /// The most viewers a host keeps track of (`relay.limits.max_viewers` goes up to this).
    public static let maxViewers = 100_000
    /// A viewer left (or stopped waiting); returns it, if the relay had told of it.
    @discardableResult
    public func viewerLeft(_ id: UInt32) -> ViewerInfo? {
        guard let gone = viewers.removeValue(forKey: id) else { return nil }
        if gone.waiting { waiting.removeAll { $0 == id } }
        return gone
    }

    /// The current state.
    public func current() -> Snapshot {
        var s = snapshot
        s.viewers = viewers.values.sorted { $0.id < $1.id }
        return s
    }

    /// Returns once the host is connected (or refused), or when the calling task is cancelled.
    public func waitReady() async {
        if snapshot.ready || refusal != nil { return }
        let id = nextWaiter
        nextWaiter += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume() } else { waiters[id] = continuation }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Waits until connected or `timeout` has passed; returns whether connected.
    @discardableResult
    public func waitReady(timeout: Duration) async -> Bool {
        let waiter = Task { await self.waitReady() }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            waiter.cancel()
        }
        await waiter.value
        timer.cancel()
        return snapshot.ready
    }

    private func cancelWaiter(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume()
    }

    /// The state as pretty JSON.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(current()) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

extension HostStatus.Snapshot {
    /// `swiftmate status` as people read it: the link, the connection strings (in tmate's order), the viewers.
    public var summary: [String] {
        var lines = [ready ? "connected to \(relay) (session \(sessionID), codec \(codec))" : "not connected to \(relay.isEmpty ? "a relay" : relay) yet; swiftmate show-messages says why"]
        let order = ["ssh session", "ssh session read only", "tcp session", "tcp session read only"]
        let labels = order.filter { connectionStrings[$0] != nil } + connectionStrings.keys.filter { !order.contains($0) }.sorted()
        lines += labels.map { "\($0): \(connectionStrings[$0]!)" }
        if viewers.isEmpty {
            lines.append("no viewers")
        } else {
            lines.append("\(viewers.count) viewer\(viewers.count == 1 ? "" : "s"):")
            lines += viewers.map { v in
                "  #\(v.id) \(v.readOnly ? "read-only " : "read-write") \(v.transport.isEmpty ? "" : v.transport + " ")\(v.peer)"
                    + (v.key.isEmpty ? "" : " key \(v.key)") + (v.waiting ? " (waiting: swiftmate approve \(v.id) / deny \(v.id))" : "")
            }
        }
        return lines
    }
}
