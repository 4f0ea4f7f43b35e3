// The session's window size from the host's terminal and the read-write viewers' windows: the size policy.
import Foundation

/// How a session's size follows its participants (`session.size_policy`, `--size-policy`).
public enum SizePolicy: Sendable, Equatable, CustomStringConvertible {
    /// The smallest of the host's terminal and every read-write viewer's window, in each direction (tmate's rule):
    /// everyone sees the whole screen.
    case smallest
    /// The host's terminal (a headless host: its configured size, until a read-write viewer sets one).
    case host
    /// The largest of them: smaller windows see part of the screen.
    case largest
    /// Always this size.
    case fixed(cols: UInt16, rows: UInt16)

    /// Parses `smallest`, `host`, `largest`, `fixed COLSxROWS` or `COLSxROWS`.
    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch t {
        case "smallest": self = .smallest
        case "host": self = .host
        case "largest": self = .largest
        default:
            let size = t.hasPrefix("fixed") ? t.dropFirst(5).trimmingCharacters(in: CharacterSet(charactersIn: " :=")) : t
            let parts = size.split(separator: "x")
            guard parts.count == 2, let c = UInt16(parts[0]), let r = UInt16(parts[1]), (1...WireLimits.maxTerminalSide).contains(c), (1...WireLimits.maxTerminalSide).contains(r)
            else { return nil }
            self = .fixed(cols: c, rows: r)
        }
    }

    /// What a person writes for it.
    public var description: String {
        switch self {
        case .smallest: "smallest"
        case .host: "host"
        case .largest: "largest"
        case .fixed(let c, let r): "fixed \(c)x\(r)"
        }
    }

    /// The words accepted, for error messages.
    public static let help = "smallest, host, largest or fixed COLSxROWS"
}

/// Works out the session size from the participants' sizes under a policy. A value without I/O: the host
/// feeds it events and applies the size it returns.
public struct SessionSizer: Sendable {
    /// The policy.
    public let policy: SizePolicy
    /// The host's terminal size; nil when headless (a headless host takes no part).
    public private(set) var hostSize: (cols: UInt16, rows: UInt16)?
    /// Read-write viewers' window sizes (read-only viewers never count; the relay does not send theirs).
    private var viewers: [UInt32: (cols: UInt16, rows: UInt16)] = [:]
    /// A headless session's size while no viewer has set one.
    private let headlessSize: (cols: UInt16, rows: UInt16)
    /// The read-write viewer that set a size last (a headless host under `host` follows it).
    private var lastViewer: UInt32?

    /// A sizer for a host with a terminal of `hostSize` (nil: headless, `headlessSize` until a viewer sets one).
    public init(policy: SizePolicy, hostSize: (cols: UInt16, rows: UInt16)?, headlessSize: (cols: UInt16, rows: UInt16)) {
        self.policy = policy
        self.hostSize = hostSize.map { (Self.clamp($0.cols), Self.clamp($0.rows)) }
        self.headlessSize = (Self.clamp(headlessSize.cols), Self.clamp(headlessSize.rows))
    }

    /// The session size now.
    public var size: (cols: UInt16, rows: UInt16) {
        switch policy {
        case .fixed(let c, let r):
            return (c, r)
        case .host:
            if let hostSize { return hostSize }
            if let last = lastViewer, let s = viewers[last] { return s }
            return headlessSize
        case .smallest, .largest:
            var sizes = Array(viewers.values)
            if let hostSize { sizes.append(hostSize) }
            guard !sizes.isEmpty else { return headlessSize }
            let smallest = policy == .smallest
            var result = sizes[0]
            for s in sizes.dropFirst() {
                result = smallest ? (min(result.cols, s.cols), min(result.rows, s.rows)) : (max(result.cols, s.cols), max(result.rows, s.rows))
            }
            return result
        }
    }

    /// The host's terminal changed size.
    public mutating func hostResized(cols: UInt16, rows: UInt16) {
        guard hostSize != nil, cols > 0, rows > 0 else { return }
        hostSize = (Self.clamp(cols), Self.clamp(rows))
    }

    /// The largest session side (a keyframe of it must fit in a frame; the wire refuses larger sizes).
    public static let maxSide: UInt16 = WireLimits.maxTerminalSide

    private static func clamp(_ side: UInt16) -> UInt16 { Swift.max(1, WireLimits.clampSide(side)) }

    /// A read-write viewer's window changed size (or it joined with one).
    public mutating func viewerResized(_ id: UInt32, cols: UInt16, rows: UInt16) {
        guard cols > 0, rows > 0 else { return }
        // A relay has at most `HostStatus.maxViewers` viewers; ids past that many are not kept.
        guard viewers[id] != nil || viewers.count < HostStatus.maxViewers else { return }
        viewers[id] = (Self.clamp(cols), Self.clamp(rows))
        lastViewer = id
    }

    /// A viewer left.
    public mutating func viewerLeft(_ id: UInt32) {
        viewers[id] = nil
        if lastViewer == id { lastViewer = nil }
    }
}
