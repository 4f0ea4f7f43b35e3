// What the relay holds for connections that have not finished their handshake: bounded in total and per address.
import Synchronization

/// Memory and connection counts for the time before a connection's `hello` is complete, shared by every
/// listener of one relay. Each connection may hold a small allowance (a real hello is a few hundred bytes,
/// so a join always gets through); above it, bytes count against one total, and a connection that would
/// pass it is refused. One address may hold only so many unfinished handshakes.
///
/// Threading: any thread; every call is short and takes one lock.
public final class HandshakeBudget: Sendable {
    private struct State {
        var heldBytes = 0
        var perAddress: [String: Int] = [:]
        /// The most held since memory was last given back.
        var peakSinceReturn = 0
    }

    private let state = Mutex(State())
    /// Bytes above the allowance all unfinished handshakes together may hold (`relay.limits.handshake_bytes`).
    public let totalBytes: Int
    /// Unfinished handshakes one address may have (`relay.limits.handshakes_per_address`).
    public let perAddress: Int
    /// Bytes each connection may hold without counting against `totalBytes`.
    public let allowanceBytes: Int
    /// Called (off the lock) when a burst of held handshakes is over: at least 8 MiB were held and now less
    /// than 1 MiB is. The relay's process then hands freed memory back to the system (see `RelayOptions`).
    private let afterBurst: (@Sendable () -> Void)?

    /// A budget.
    public init(totalBytes: Int, perAddress: Int, allowanceBytes: Int = 4096, afterBurst: (@Sendable () -> Void)? = nil) {
        self.totalBytes = totalBytes
        self.perAddress = perAddress
        self.allowanceBytes = allowanceBytes
        self.afterBurst = afterBurst
    }

    /// Bytes counted against the total now (for tests and metrics).
    public var heldBytes: Int { state.withLock { $0.heldBytes } }

    /// Unfinished handshakes from `address` now.
    public func handshakes(from address: String) -> Int { state.withLock { $0.perAddress[address] ?? 0 } }

    /// A new connection from `peer` (`HOST:PORT`) starts its handshake; nil when its address already has
    /// `perAddress` unfinished ones.
    public func admit(peer: String) -> Ticket? {
        let address = Self.address(of: peer)
        let admitted = state.withLock { s -> Bool in
            let n = s.perAddress[address] ?? 0
            guard n < perAddress else { return false }
            s.perAddress[address] = n + 1
            return true
        }
        return admitted ? Ticket(budget: self, address: address) : nil
    }

    /// The address part of `HOST:PORT` (`[V6]:PORT` too); the whole string when there is no port.
    static func address(of peer: String) -> String {
        if peer.hasPrefix("["), let close = peer.firstIndex(of: "]") { return String(peer[peer.index(after: peer.startIndex)..<close]) }
        guard let colon = peer.lastIndex(of: ":"), peer.firstIndex(of: ":") == colon else { return peer }
        return String(peer[..<colon])
    }

    fileprivate func change(heldBy old: Int, to new: Int) -> Bool {
        state.withLock { s in
            let delta = new - old
            if delta > 0 && s.heldBytes + delta > totalBytes { return false }
            s.heldBytes += delta
            s.peakSinceReturn = max(s.peakSinceReturn, s.heldBytes)
            return true
        }
    }

    fileprivate func finish(_ address: String, held: Int) {
        let burstOver = state.withLock { s -> Bool in
            s.heldBytes -= held
            let n = (s.perAddress[address] ?? 1) - 1
            s.perAddress[address] = n > 0 ? n : nil
            guard s.peakSinceReturn >= 8 << 20, s.heldBytes < 1 << 20 else { return false }
            s.peakSinceReturn = s.heldBytes
            return true
        }
        if burstOver { afterBurst?() }
    }

    /// One connection's share, until its handshake is over or it closes (whichever comes first; `deinit` too).
    ///
    /// Threading: any thread (one connection's reader holds it; an ssh session's thread releases it).
    public final class Ticket: Sendable {
        private let budget: HandshakeBudget
        private let address: String
        private let state = Mutex((held: 0, done: false))

        fileprivate init(budget: HandshakeBudget, address: String) {
            self.budget = budget
            self.address = address
        }

        /// The connection now holds `bytes` (unread input): counts what is above the allowance. Throws
        /// `overloaded` when that would pass the relay's total.
        public func hold(_ bytes: Int) throws {
            let charged = max(0, bytes - budget.allowanceBytes)
            let fits = state.withLock { s -> Bool in
                guard !s.done else { return true }
                guard budget.change(heldBy: s.held, to: charged) else { return false }
                s.held = charged
                return true
            }
            guard fits else {
                throw SwiftMateError(.overloaded,
                    "the relay is holding the most it allows for connections still in their handshake; try again in a moment")
            }
        }

        /// The handshake is over (or failed): nothing is counted for this connection any more.
        public func release() {
            let held = state.withLock { s -> Int? in
                guard !s.done else { return nil }
                s.done = true
                return s.held
            }
            if let held { budget.finish(address, held: held) }
        }

        deinit { release() }
    }
}
