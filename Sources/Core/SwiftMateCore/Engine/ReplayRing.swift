// The host's replay ring: output sent to the relay and not yet acknowledged, resent after a lost link.

/// Output the host has sent and the relay has not acknowledged (`ack`), from stream offset `start` to `end`, at most
/// `capacity` bytes: after a lost link the host sends it again, so what was in flight when a relay died is not lost.
/// Past its capacity the oldest bytes go: they are lost only if the link dies before the relay acknowledges them, so
/// they are counted when the ring is resent (`take`). A jump ahead in the stream (the host's queue dropped output) is
/// lost at once (`takeSkipped`).
///
/// A value type with no I/O: the host link keeps it under its lock.
public struct ReplayRing: Sendable {
    /// The most bytes kept (`host.replay_bytes`).
    public let capacity: Int
    /// The offset of the first byte kept.
    public private(set) var start: UInt64 = 0
    private var storage: [UInt8] = []
    private var head = 0
    /// Bytes the stream jumped over since the last `takeSkipped`.
    private var skipped: UInt64 = 0
    /// The highest offset the relay acknowledged (or that nothing before will ever be sent again).
    private var acknowledged: UInt64 = 0

    /// An empty ring holding up to `capacity` bytes.
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// The offset after the last byte kept.
    public var end: UInt64 { start + UInt64(count) }
    /// How many bytes are kept.
    public var count: Int { storage.count - head }

    /// Keeps `bytes`, sent at stream offset `seq`. A jump ahead (the host's queue dropped output) leaves a gap that
    /// counts as skipped; the oldest bytes go when the ring is full.
    public mutating func sent(seq: UInt64, bytes: [UInt8]) {
        if seq != end {
            if seq > end { skipped += seq - end }
            // What came before the jump is never sent again: for the ring's accounting it is as good as acknowledged.
            acknowledged = max(acknowledged, seq)
            storage.removeAll(keepingCapacity: true)
            head = 0
            start = seq
        }
        storage.append(contentsOf: bytes)
        if count > capacity {
            let over = count - capacity
            head += over
            start += UInt64(over)
        }
        compact()
    }

    /// The relay has everything before `offset`.
    public mutating func ack(_ offset: UInt64) {
        acknowledged = max(acknowledged, offset)
        guard offset > start else { return }
        let n = Int(min(offset, end) - start)
        head += n
        start += UInt64(n)
        compact()
    }

    /// What to send again on a new link, in chunks of at most `chunk` bytes, and how many bytes before it the ring
    /// had to let go without their acknowledgement (lost with the last link; counted once).
    public mutating func take(chunk: Int = 64 << 10) -> (chunks: [(seq: UInt64, bytes: [UInt8])], lost: UInt64) {
        var chunks: [(seq: UInt64, bytes: [UInt8])] = []
        var at = head
        while at < storage.count {
            let n = min(chunk, storage.count - at)
            chunks.append((start + UInt64(at - head), Array(storage[at..<(at + n)])))
            at += n
        }
        let lost = start > acknowledged ? start - acknowledged : 0
        acknowledged = max(acknowledged, start)
        return (chunks, lost)
    }

    /// The bytes skipped since the last call (reset).
    public mutating func takeSkipped() -> UInt64 {
        defer { skipped = 0 }
        return skipped
    }

    private mutating func compact() {
        if head > 0 && head >= storage.count / 2 {
            storage.removeFirst(head)
            head = 0
        }
    }
}
