// Bounds on the numbers a peer sends, and the one checked way to do arithmetic on stream offsets.

/// What a number from the network may be. Every size and offset a peer sends is checked against these
/// before any arithmetic, so a hostile value closes that connection instead of trapping the process.
public enum WireLimits {
    /// The largest terminal side (columns or rows) on the wire and in any session: a keyframe of a
    /// 1000x1000 screen still fits in a frame, and a screen model of it is 16 MB.
    public static let maxTerminalSide: UInt16 = 1000

    /// The largest output stream offset (2^62, about 4.6 exabytes of output): an offset plus any length a
    /// frame can carry stays far from `UInt64`'s end and converts to `Int` without trapping.
    public static let maxStreamOffset: UInt64 = 1 << 62

    /// The offset just after `count` bytes at `seq`, or nil when it would pass `maxStreamOffset`.
    /// (Overflow-reporting: the one place stream offsets and lengths are added.)
    public static func streamEnd(seq: UInt64, count: Int) -> UInt64? {
        guard count >= 0, seq <= maxStreamOffset else { return nil }
        let (end, overflow) = seq.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= maxStreamOffset else { return nil }
        return end
    }

    /// `side` limited to `1...maxTerminalSide` for a size this side measured itself (its own terminal, an
    /// ssh client's pty request); 0 stays 0 ("no size").
    public static func clampSide(_ side: UInt16) -> UInt16 { min(side, maxTerminalSide) }
}
