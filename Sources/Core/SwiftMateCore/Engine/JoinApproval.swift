// Joiners the host approves: the hello option, the question the host sees, and its answer keys (a pure state machine).

/// Approval of joiners (`session.approve_joiners`, `--approve`): the relay holds each new viewer back with a line
/// saying it waits and asks the host (`joinRequest`); the host answers `admit` or `kick`, from its terminal (these
/// keys) or its control socket (`swiftmate approve|deny|kick ID`).
public enum JoinApproval {
    /// The hello option a host asks for approval with (`true`).
    public static let option = "approve_joiners"
    /// The `notice` a waiting viewer gets (a join client keeps it shown until the session's first bytes come).
    public static let waitingLine = "swiftmate: waiting for the host to let you in"
    /// The key that comes before the host's answer: Ctrl-] (telnet's escape; rarely typed to a shell).
    public static let prefix: UInt8 = 0x1d

    /// What the host's terminal says about a waiting viewer.
    public static func question(_ viewer: ViewerDescription) -> String {
        // The keys first: a narrow terminal cuts the end of the line.
        "mate #\(viewer.id) asks to join: Ctrl-] y lets in, Ctrl-] n turns away -- \(viewer.summary) "
            + "(or swiftmate approve \(viewer.id) / deny \(viewer.id))"
    }
}

/// The host's answer keys while viewers wait, as a pure state machine over its keystrokes. Ctrl-] then `y` lets the
/// longest-waiting viewer in, Ctrl-] then `n` turns it away; Ctrl-] twice types one Ctrl-]; Ctrl-] then any other
/// key types both. With no one waiting every keystroke goes to the command untouched.
public struct ApprovalKeys: Sendable, Equatable {
    /// An answer the host gave.
    public enum Answer: Sendable, Equatable {
        /// Let the viewer in.
        case admit(UInt32)
        /// Turn it away.
        case deny(UInt32)
    }

    /// The waiting viewers' ids, longest-waiting first.
    public private(set) var waiting: [UInt32] = []
    /// Whether the last key was the prefix.
    private var armed = false

    /// No one waiting.
    public init() {}

    /// The relay's list of waiting viewers changed.
    public mutating func waitingChanged(_ ids: [UInt32]) {
        waiting = ids
    }

    /// Keystrokes from the host's terminal: what goes on to the command, and the answers they gave.
    public mutating func typed(_ bytes: [UInt8]) -> (pass: [UInt8], answers: [Answer]) {
        guard !waiting.isEmpty || armed else { return (bytes, []) }
        var pass: [UInt8] = [], answers: [Answer] = []
        pass.reserveCapacity(bytes.count)
        for byte in bytes {
            if armed {
                armed = false
                switch byte {
                case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"):
                    guard let first = waiting.first else { pass += [JoinApproval.prefix, byte]; continue }
                    // Answered here: a second answer goes to the next in line, not the same one again.
                    waiting.removeFirst()
                    answers.append(byte == UInt8(ascii: "y") || byte == UInt8(ascii: "Y") ? .admit(first) : .deny(first))
                case JoinApproval.prefix:
                    pass.append(byte)
                default:
                    pass += [JoinApproval.prefix, byte]
                }
            } else if byte == JoinApproval.prefix && !waiting.isEmpty {
                armed = true
            } else {
                pass.append(byte)
            }
        }
        return (pass, answers)
    }
}
