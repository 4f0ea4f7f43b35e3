// The wire protocol's messages: one enum, every field documented (docs/PROTOCOL.md mirrors it).

/// Which side a `Hello` comes from.
public enum PeerRole: Int, Sendable, Equatable {
    /// A host publishing a new session.
    case host = 0
    /// A viewer joining a session by token.
    case viewer = 1
}

/// Why a relay refuses a connection (`Refused.code`).
public enum RefusalCode: Int, Sendable, Equatable {
    /// The token names no live session (or never did: the answer is the same).
    case invalidToken = 1
    /// The peer's protocol version is not supported.
    case protocolVersion = 2
    /// No codec offered by the peer is enabled on the relay.
    case noCommonCodec = 3
    /// The relay is at a configured limit (sessions or viewers).
    case overloaded = 4
    /// The peer's `Hello` is not acceptable (bad size, bad option).
    case badRequest = 5
    /// The relay admits only listed hosts (`relay.hosts`) and this one proved no listed key.
    case notAllowed = 6
    /// The host's resume ticket cannot bring its session back (forged, expired, ended, not this host's):
    /// `reason` says which; the host starts a new session (new tokens) instead.
    case cannotResume = 7
    /// Anything else; `reason` says what.
    case other = 99
}

/// Everything host, relay and join client say to each other.
///
/// A frame body is one msgpack array `[type, fields…]`. Types and fields:
///
/// | type | message | fields |
/// |---|---|---|
/// | 0 | `hello` | protocol version (uint), software version (str), role (0 host, 1 viewer), codecs offered (array of str, preferred first), token (str, viewers; empty for hosts), cols (uint), rows (uint), options (map str→str; hosts: `headless`, `term`, `command`, `record`, `authorized_keys`, `api_key`: see docs/PROTOCOL.md) |
/// | 1 | `welcome` | codec chosen (str), session id (str), read-only (bool), read-write token (str, hosts only), read-only token (str, hosts only), connection strings (array of str; hosts: read-write then read-only, each `label=string`) |
/// | 2 | `refused` | code (uint, `RefusalCode`), reason (str, for people) |
/// | 3 | `output` | seq (uint: offset of the first byte in the session's output stream), bytes (bin) |
/// | 4 | `input` | viewer id (uint; 0 from a viewer, filled in by the relay), bytes (bin) |
/// | 5 | `resize` | viewer id (uint; 0 means the session itself), cols (uint), rows (uint) |
/// | 6 | `viewerJoined` | viewer id (uint), read-only (bool), peer (str: its address), viewers now (uint), transport (str: `ssh`, `tcp`, …; may be absent), key (str: the `SHA256:…` fingerprint of the key it proved, or empty; may be absent) |
/// | 7 | `viewerLeft` | viewer id (uint), reason (str), viewers now (uint) |
/// | 8 | `keepalive` | sender's clock in milliseconds (uint) |
/// | 9 | `goodbye` | reason (str), exit status (int; -1 when not a command exit; -2 to a viewer the host turned away or removed while the session goes on) |
/// | 10 | `notice` | text (str): a line to show the person at the other end |
/// | 11 | `keyframe` | seq (uint: the output offset it stands for; every byte before it is in it), cols (uint), rows (uint), bytes (bin: ANSI that repaints a fresh terminal of that size) |
/// | 12 | `keyframeRequest` | (none): relay → host, "send a keyframe of the current screen" |
/// | 13 | `ack` | offset (uint): relay → host, the relay has the session's output up to there |
/// | 14 | `joinRequest` | viewer id (uint), read-only (bool), peer (str), transport (str), key (str): relay → host, a viewer waits for the host's answer (a session with `approve_joiners`) |
/// | 15 | `admit` | viewer id (uint): host → relay, let that waiting viewer in |
/// | 16 | `kick` | viewer id (uint), reason (str): host → relay, turn that waiting viewer away, or remove that viewer |
///
/// A decoder skips types it does not know (a newer peer's additions) and extra trailing fields. Numbers are
/// bounded before use (`WireLimits`): cols and rows 0...1000, stream offsets at most 2^62.
public enum Message: Sendable, Equatable {
    /// First frame of a connection from a host or viewer (uncompressed).
    case hello(Hello)
    /// The relay's acceptance (uncompressed); every later frame goes through `codec`.
    case welcome(Welcome)
    /// The relay's refusal (uncompressed); the connection closes after it.
    case refused(code: RefusalCode, reason: String)
    /// Terminal output of the session, host → relay → viewers.
    case output(seq: UInt64, bytes: [UInt8])
    /// Keystrokes, viewer → relay → host. Read-only viewers' input stops at the relay.
    case input(viewer: UInt32, bytes: [UInt8])
    /// A window size: the session's (viewer 0, host → relay → viewers) or a viewer's (viewer → relay → host).
    case resize(viewer: UInt32, cols: UInt16, rows: UInt16)
    /// Relay → host: a viewer joined (`count` viewers now).
    case viewerJoined(ViewerDescription, count: UInt32)
    /// Relay → host: a viewer left.
    case viewerLeft(viewer: UInt32, reason: String, count: UInt32)
    /// Either way, to keep idle links open and detect dead ones.
    case keepalive(millis: UInt64)
    /// Either way, before closing: why, and the command's exit status when it is one (`Message.removedStatus`: this
    /// viewer was turned away or removed by the host; the session goes on).
    case goodbye(reason: String, exitStatus: Int32)
    /// Relay → viewer or host, or host → relay → viewers: a line to show a person (e.g. "output skipped").
    case notice(String)
    /// Host → relay → viewer: the screen as of output offset `seq`, as ANSI bytes (late joins, resyncs).
    case keyframe(Keyframe)
    /// Relay → host: send a fresh keyframe (the output since the last one has grown past the relay's bound).
    case keyframeRequest
    /// Relay → host: the relay has the session's output up to stream offset `offset` (the host may forget what it
    /// kept to send again after a lost link).
    case ack(offset: UInt64)
    /// Relay → host: a viewer waits for the host to let it in (`approve_joiners`); it gets no byte of the session
    /// until the host sends `admit`.
    case joinRequest(ViewerDescription)
    /// Host → relay: let the waiting viewer in.
    case admit(viewer: UInt32)
    /// Host → relay: turn the waiting viewer away, or remove the viewer; it is told `reason`.
    case kick(viewer: UInt32, reason: String)
}

extension Message {
    /// The `goodbye` exit status that tells a viewer the host turned it away or removed it (no point coming back).
    public static let removedStatus: Int32 = -2
}

/// A viewer as the relay describes it to the host (joins and join requests).
public struct ViewerDescription: Sendable, Equatable, Codable {
    /// The relay's id for it within the session.
    public var id: UInt32
    /// Whether it came with the read-only token.
    public var readOnly: Bool
    /// Its address.
    public var peer: String
    /// The transport it came over (`ssh`, `tcp`; empty when unknown).
    public var transport: String
    /// The fingerprint (`SHA256:…`) of the public key it proved, or empty.
    public var key: String

    /// A description.
    public init(id: UInt32, readOnly: Bool, peer: String, transport: String = "", key: String = "") {
        self.id = id
        self.readOnly = readOnly
        self.peer = peer
        self.transport = transport
        self.key = key
    }

    /// `ssh 10.0.0.5:51234, read-only, key SHA256:…` (for people).
    public var summary: String {
        [transport.isEmpty ? peer : transport + " " + peer, readOnly ? "read-only" : "read-write", key.isEmpty ? "no key" : "key " + key]
            .joined(separator: ", ")
    }
}

/// A repaint of the whole screen as it was after the output before `seq`.
public struct Keyframe: Sendable, Equatable {
    /// The output offset it stands for: the screen after every byte before `seq`.
    public var seq: UInt64
    /// The session size it was drawn for.
    public var cols: UInt16
    /// The session size it was drawn for.
    public var rows: UInt16
    /// ANSI bytes that rebuild the screen on a fresh terminal of that size (they start with a reset).
    public var bytes: [UInt8]

    /// Makes a keyframe.
    public init(seq: UInt64, cols: UInt16, rows: UInt16, bytes: [UInt8]) {
        self.seq = seq
        self.cols = cols
        self.rows = rows
        self.bytes = bytes
    }
}

/// The `Hello` message's fields.
public struct Hello: Sendable, Equatable {
    /// The wire protocol version this build speaks.
    public static let currentProtocolVersion: UInt32 = 1
    /// Protocol version of the sender.
    public var protocolVersion: UInt32
    /// Software version of the sender, for logs.
    public var software: String
    /// Host or viewer.
    public var role: PeerRole
    /// Codec names, preferred first.
    public var codecs: [String]
    /// The session token a viewer joins with; empty for hosts.
    public var token: String
    /// The sender's terminal width (0 when it has none).
    public var cols: UInt16
    /// The sender's terminal height (0 when it has none).
    public var rows: UInt16
    /// Session options (hosts): `name`, `headless`, … Unknown keys are ignored.
    public var options: [String: String]

    /// Makes a `Hello`.
    public init(protocolVersion: UInt32 = Hello.currentProtocolVersion, software: String = SwiftMateVersion.string,
                role: PeerRole, codecs: [String], token: String = "", cols: UInt16 = 0, rows: UInt16 = 0,
                options: [String: String] = [:]) {
        self.protocolVersion = protocolVersion
        self.software = software
        self.role = role
        self.codecs = codecs
        self.token = token
        self.cols = cols
        self.rows = rows
        self.options = options
    }
}

/// The `Welcome` message's fields.
public struct Welcome: Sendable, Equatable {
    /// The codec every later frame uses, both ways.
    public var codec: String
    /// The session's id (not a secret; for logs and file names).
    public var sessionID: String
    /// Whether this connection may send input (viewers).
    public var readOnly: Bool
    /// The read-write token (hosts only).
    public var readWriteToken: String
    /// The read-only token (hosts only).
    public var readOnlyToken: String
    /// Connection strings, `label=string` (hosts only), e.g. `tcp session=swiftmate join tcp://…`.
    public var connectionStrings: [String]
    /// The resume ticket (hosts only; empty when the relay gives none): the host sends it back in the `hello` of its
    /// next link to get the same session back (`ResumeTicket`).
    public var ticket: String
    /// Hosts: the output offset the relay has for the session (0 for a new one): the host sends what follows.
    public var streamOffset: UInt64

    /// Makes a `Welcome`.
    public init(codec: String, sessionID: String, readOnly: Bool = false, readWriteToken: String = "",
                readOnlyToken: String = "", connectionStrings: [String] = [], ticket: String = "", streamOffset: UInt64 = 0) {
        self.codec = codec
        self.sessionID = sessionID
        self.readOnly = readOnly
        self.readWriteToken = readWriteToken
        self.readOnlyToken = readOnlyToken
        self.connectionStrings = connectionStrings
        self.ticket = ticket
        self.streamOffset = streamOffset
    }
}

/// This build's version.
public enum SwiftMateVersion {
    /// The version string printed by `-V` and sent in `Hello`.
    public static let string = "0.1.0"
}
