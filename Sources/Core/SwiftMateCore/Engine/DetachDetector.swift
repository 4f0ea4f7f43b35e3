// The join client's detach key sequence, as in ssh: Enter, then `~.` (`~~` sends one `~`).

/// Finds the detach sequence in typed bytes. Pure: feed it input, forward what it returns.
public struct DetachDetector: Sendable {
    private var atLineStart = true
    private var pendingTilde = false

    /// A detector at the start of a line.
    public init() {}

    /// The bytes to forward, and whether the person asked to detach (the bytes before it are forwarded).
    public mutating func feed(_ bytes: [UInt8]) -> (forward: [UInt8], detach: Bool) {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            if pendingTilde {
                pendingTilde = false
                switch b {
                case UInt8(ascii: "."): return (out, true)
                case UInt8(ascii: "~"):
                    out.append(b)
                    atLineStart = false
                    continue
                default:
                    out.append(UInt8(ascii: "~"))
                }
            } else if atLineStart && b == UInt8(ascii: "~") {
                pendingTilde = true
                continue
            }
            out.append(b)
            atLineStart = b == 0x0d || b == 0x0a
        }
        return (out, false)
    }
}
