// The core's one error type: a stable code plus a message that says what is wrong and what to do.

/// An error from the core engine, the wire protocol, the registry or the configuration.
public struct SwiftMateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable error codes; scripts and tests may match on them.
    public enum Code: String, Sendable, Equatable {
        /// A frame's declared length exceeds the limit.
        case frameTooLarge = "frame-too-large"
        /// A frame body is not a valid message.
        case malformedMessage = "malformed-message"
        /// The peer broke the protocol (wrong message for the state).
        case protocolViolation = "protocol-violation"
        /// Compressed data is corrupt or would decompress past the limit.
        case codecFailure = "codec-failure"
        /// A plugin name (transport, codec, frontend) is not registered.
        case unknownPlugin = "unknown-plugin"
        /// A configuration file or value is wrong.
        case badConfig = "bad-config"
        /// A URL given on the command line or in the config is wrong.
        case badURL = "bad-url"
        /// The relay refused the connection.
        case refused = "refused"
        /// The connection closed or failed.
        case connectionLost = "connection-lost"
        /// A system call failed.
        case system = "system"
        /// A recording file is not valid asciicast (the message names the line).
        case badRecording = "bad-recording"
        /// A limit shared by many connections is reached (the relay's handshake budget): try again later.
        case overloaded = "overloaded"
        /// A host's resume ticket cannot bring its session back (the relay's `cannotResume`): start a new session.
        case cannotResume = "cannot-resume"
    }

    /// What kind of failure.
    public let code: Code
    /// A human message: what was wrong and what to do.
    public let message: String
    /// What the library underneath said (swift-nio's or libssh's error), for debug logs only.
    public let detail: String?

    /// Makes an error.
    public init(_ code: Code, _ message: String, detail: String? = nil) {
        self.code = code
        self.message = message
        self.detail = detail
    }

    /// The message, as shown to people.
    public var description: String { message }
}
