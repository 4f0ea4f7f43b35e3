// The libssh callbacks of a relay SSH session: logins, the channel and its requests, bytes from the client.
import CLibSSH
import Foundation
import SwiftMateCore

extension SSHServerSession {
    // MARK: Callbacks (run on the loop's thread, inside libssh calls)

    static func from(_ userdata: UnsafeMutableRawPointer?) -> SSHServerSession? {
        userdata.map { Unmanaged<SSHServerSession>.fromOpaque($0).takeUnretainedValue() }
    }

    func installServerCallbacks() {
        let cb = serverCallbacks
        cb.pointee.size = MemoryLayout<ssh_server_callbacks_struct>.size
        cb.pointee.userdata = Unmanaged.passUnretained(self).toOpaque()
        cb.pointee.auth_none_function = { _, user, userdata in
            guard let s = SSHServerSession.from(userdata) else { return Int32(SSH_AUTH_DENIED.rawValue) }
            s.user = user.map { String(cString: $0) } ?? ""
            // A session limited to listed keys refuses "none", so the client offers its keys.
            if s.access?.requiresPublicKey(token: s.user) == true { return Int32(SSH_AUTH_DENIED.rawValue) }
            return Int32(SSH_AUTH_SUCCESS.rawValue)
        }
        cb.pointee.auth_pubkey_function = { _, user, key, signatureState, userdata in
            guard let s = SSHServerSession.from(userdata), let key else { return Int32(SSH_AUTH_DENIED.rawValue) }
            s.user = user.map { String(cString: $0) } ?? ""
            let state = Int32(signatureState)
            let probe = state == Int32(SSH_PUBLICKEY_STATE_NONE.rawValue), proven = state == Int32(SSH_PUBLICKEY_STATE_VALID.rawValue)
            guard probe || proven, let text = SSHServerSession.authorizedKeyText(key) else { return Int32(SSH_AUTH_DENIED.rawValue) }
            if let access = s.access, access.requiresPublicKey(token: s.user), !access.admits(token: s.user, key: text) {
                return Int32(SSH_AUTH_DENIED.rawValue)
            }
            if proven { s.publicKey = text } // a probe only asks whether the key would do
            return Int32(SSH_AUTH_SUCCESS.rawValue)
        }
        cb.pointee.channel_open_request_session_function = { session, userdata in
            guard let s = SSHServerSession.from(userdata), s.channel == nil, let channel = ssh_channel_new(session) else { return nil }
            s.channel = channel
            s.installChannelCallbacks(channel)
            return channel
        }
        ssh_set_server_callbacks(session, cb)
        ssh_set_auth_methods(session, Int32(SSH_AUTH_METHOD_NONE | SSH_AUTH_METHOD_PUBLICKEY))
    }

    func installChannelCallbacks(_ channel: ssh_channel) {
        let cb = channelCallbacks
        cb.pointee.size = MemoryLayout<ssh_channel_callbacks_struct>.size
        cb.pointee.userdata = Unmanaged.passUnretained(self).toOpaque()
        cb.pointee.channel_pty_request_function = { _, _, _, width, height, _, _, userdata in
            guard let s = SSHServerSession.from(userdata) else { return -1 }
            (s.cols, s.rows) = (SSHServerSession.clamp(width, default: 80), SSHServerSession.clamp(height, default: 24))
            return 0
        }
        cb.pointee.channel_shell_request_function = { _, _, userdata in
            guard let s = SSHServerSession.from(userdata), s.request == nil else { return -1 }
            s.accept(.shell)
            return 0
        }
        cb.pointee.channel_subsystem_request_function = { _, _, name, userdata in
            guard let s = SSHServerSession.from(userdata), s.request == nil, let name, String(cString: name) == "swiftmate" else { return -1 }
            s.accept(.subsystem)
            return 0
        }
        cb.pointee.channel_exec_request_function = { _, _, command, userdata in
            guard let s = SSHServerSession.from(userdata), s.request == nil else { return -1 }
            s.request = .exec(command.map { String(cString: $0) } ?? "")
            return 0
        }
        cb.pointee.channel_env_request_function = { _, _, _, _, _ in 0 } // LANG and friends: accepted, unused
        cb.pointee.channel_pty_window_change_function = { _, _, width, height, _, _, userdata in
            guard let s = SSHServerSession.from(userdata) else { return -1 }
            (s.cols, s.rows) = (SSHServerSession.clamp(width, default: s.cols), SSHServerSession.clamp(height, default: s.rows))
            s.windowFeed.yield((s.cols, s.rows))
            return 0
        }
        cb.pointee.channel_data_function = { _, _, data, length, isStderr, userdata in
            guard let s = SSHServerSession.from(userdata), let data, isStderr == 0, length > 0 else { return Int32(length) }
            return Int32(s.received(data, length: Int(length)))
        }
        // No EOF callback: a client that will type no more (`ssh -tt … < /dev/null`) still watches until it closes.
        cb.pointee.channel_close_function = { _, _, userdata in
            guard let s = SSHServerSession.from(userdata) else { return }
            s.peerClosed = true
            s.inbound?.finish()
        }
        ssh_set_channel_callbacks(channel, cb)
    }

    /// `TYPE BASE64` of a public key, as an authorized_keys line has it.
    static func authorizedKeyText(_ key: ssh_key) -> String? {
        var base64: UnsafeMutablePointer<CChar>?
        guard ssh_pki_export_pubkey_base64(key, &base64) == SSH_OK, let base64, let type = ssh_key_type_to_char(ssh_key_type(key)) else {
            return nil
        }
        defer { ssh_string_free_char(base64) }
        return String(cString: type) + " " + String(cString: base64)
    }

    /// Accepts the channel's request and opens the inbound side, bounded in bytes: past `inboundBytes` unread,
    /// the rest stays in libssh's buffer, whose SSH window then stays shut, so the client waits (a keystroke
    /// flood or a host's bulk output alike) and no byte is lost.
    func accept(_ accepted: SSHChannelRequest) {
        request = accepted
        inbound = BoundedInbound(limitBytes: inboundBytes) { [outbox] in outbox.wake() }
    }

    static func clamp(_ value: Int32, default fallback: UInt16) -> UInt16 {
        value > 0 && value <= 10_000 ? UInt16(value) : fallback
    }
}
