// A few event loops (one per core by default) and the rule that places work on them.

/// The loops of a process: a relay runs one per core and pins each session to one of them; a host runs one.
///
/// Threading: any thread.
public final class IOLoopGroup: Sendable {
    /// The loops, in order.
    public let loops: [IOLoop]

    /// `count` loops (at least one) named `NAME-0`, `NAME-1`, ….
    public init(count: Int, name: String = "swiftmate-loop") throws {
        loops = try (0..<max(1, count)).map { try IOLoop(name: "\(name)-\($0)") }
    }

    /// A group of loops made elsewhere (a host's embedded relay serves on the host's one loop).
    public init(loops: [IOLoop]) {
        precondition(!loops.isEmpty, "a loop group needs a loop")
        self.loops = loops
    }

    /// The loop with the least pinned to it (the first of those, for a stable choice).
    public func leastLoaded() -> IOLoop {
        var best = loops[0]
        for loop in loops.dropFirst() where loop.pinned < best.pinned { best = loop }
        return best
    }

    /// Stops every loop once it has nothing left to watch.
    public func stop() {
        loops.forEach { $0.stop() }
    }
}
