// Playback timing: how long to wait before each event at a given speed and idle-time limit (no I/O).

/// Turns event times into waits: `(Δt capped at idleTimeLimit) / speed`, as `asciinema play` does.
public struct PlaybackTiming: Sendable {
    /// Playback speed (2 = twice as fast).
    public let speed: Double
    /// Longest pause kept between two events, in recording seconds; nil keeps every pause.
    public let idleTimeLimit: Double?
    private var last: Double = 0

    /// Timing for `speed` (> 0) and an optional idle limit (> 0).
    public init(speed: Double = 1, idleTimeLimit: Double? = nil) {
        self.speed = speed > 0 && speed.isFinite ? speed : 1
        self.idleTimeLimit = idleTimeLimit.flatMap { $0 > 0 ? $0 : nil }
    }

    /// The wait before an event recorded at `time` seconds, in seconds.
    public mutating func wait(before time: Double) -> Double {
        var gap = max(0, time - last)
        last = max(last, time)
        if let limit = idleTimeLimit { gap = min(gap, limit) }
        return gap / speed
    }
}
