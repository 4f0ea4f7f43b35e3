// The links the bench's load hosts and load viewers run on: a tcp socket, or an SSH channel through libssh (the
// `swiftmate` subsystem for a host, a shell on a PTY for a viewer, as OpenSSH asks for one), all driven from one
// thread with poll(2).
import CLibSSH
import Foundation
import Glibc
import SwiftMateCore
import SwiftMateSystem

/// One link of the load: its socket, and reads that never wait.
protocol LoadLink: AnyObject {
    /// The socket to poll.
    var fd: Int32 { get }
    /// Everything that has arrived (empty: nothing yet); nil once the link has closed.
    func receive() -> [UInt8]?
    /// Sends all of `bytes` (waiting if the link is full: lines and echoes are small); false when the link failed.
    func send(_ bytes: [UInt8]) -> Bool
    /// Closes the link.
    func close()
}

/// A plain tcp link (the framed protocol over `tcp://`).
final class TCPLoadLink: LoadLink {
    let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        guard let fd = tcpConnect(port: port) else { throw BenchError(description: "cannot connect to the relay's tcp port \(port)") }
        var one: Int32 = 1 // as the host's tcp transport does: an echo must not wait for the last line's ACK
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        self.fd = fd
    }

    func receive() -> [UInt8]? {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 { return Array(buffer[0..<n]) }
        return n < 0 && (errno == EAGAIN || errno == EINTR) ? [] : nil
    }

    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                offset += n
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 100)
            } else {
                return false
            }
        }
        return true
    }

    func close() { _ = Glibc.close(fd) }
}

/// An SSH client link through libssh: auth none, then the `swiftmate` subsystem (a host) or a shell on an
/// 80x24 PTY as user `token` (a viewer, as `ssh TOKEN@relay` asks).
final class SSHLoadLink: LoadLink {
    private let session: ssh_session
    private let channel: ssh_channel
    let fd: Int32
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// What the link is opened for.
    enum Purpose {
        /// The framed protocol, as a host's ssh link opens it.
        case host
        /// A terminal, as `ssh TOKEN@relay` opens it.
        case viewer(token: String)
    }

    /// Connects to 127.0.0.1:`port` and opens the channel (blocking: call it on a setup thread).
    init(port: Int, purpose: Purpose) throws {
        guard let session = ssh_new() else { throw BenchError(description: "libssh cannot make a session") }
        var ok = false
        var channel: ssh_channel?
        defer {
            if !ok {
                if let channel { ssh_channel_free(channel) }
                ssh_disconnect(session)
                ssh_free(session)
            }
        }
        func failure(_ what: String) -> BenchError {
            BenchError(description: "ssh 127.0.0.1:\(port): \(what): \(String(cString: ssh_get_error(UnsafeMutableRawPointer(session))))")
        }
        var no: Int32 = 0, yes: Int32 = 1
        var portNumber = Int32(port)
        var timeout = 60
        ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no)
        ssh_options_set(session, SSH_OPTIONS_HOST, "127.0.0.1")
        ssh_options_set(session, SSH_OPTIONS_PORT, &portNumber)
        switch purpose {
        case .host: ssh_options_set(session, SSH_OPTIONS_USER, "swiftmate")
        case .viewer(let token): ssh_options_set(session, SSH_OPTIONS_USER, token)
        }
        ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout)
        ssh_options_set(session, SSH_OPTIONS_NODELAY, &yes)
        ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null")
        ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null")
        guard ssh_connect(session) == SSH_OK else { throw failure("connect") }
        guard ssh_userauth_none(session, nil) == SSH_AUTH_SUCCESS.rawValue else { throw failure("login (auth none)") }
        channel = ssh_channel_new(session)
        guard let channel, ssh_channel_open_session(channel) == SSH_OK else { throw failure("open a channel") }
        switch purpose {
        case .host:
            guard ssh_channel_request_subsystem(channel, "swiftmate") == SSH_OK else { throw failure("open the swiftmate subsystem") }
        case .viewer:
            guard ssh_channel_request_pty_size(channel, "xterm", 80, 24) == SSH_OK, ssh_channel_request_shell(channel) == SSH_OK else {
                throw failure("open a shell")
            }
        }
        self.session = session
        self.channel = channel
        fd = ssh_get_fd(session)
        ok = true
    }

    func receive() -> [UInt8]? {
        var got: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { ssh_channel_read_nonblocking(channel, $0.baseAddress, UInt32($0.count), 0) }
            if n > 0 {
                got += buffer[0..<Int(n)]
                continue
            }
            if n == 0 { return got }
            return got.isEmpty ? nil : got // SSH_EOF or an error: the next call says closed
        }
    }

    func send(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { ssh_channel_write(channel, $0.baseAddress, UInt32($0.count)) } == Int32(bytes.count)
    }

    func close() {
        ssh_channel_close(channel)
        ssh_channel_free(channel)
        ssh_disconnect(session)
        ssh_free(session)
    }
}

/// Raises this process's open-file limit to its hard limit (thousands of links; the relay, started from here,
/// inherits it).
func raiseFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
