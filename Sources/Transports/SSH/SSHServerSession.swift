// One SSH connection at the relay, driven by its loop: key exchange, auth, one session channel, bytes both ways.
import CLibSSH
import Foundation
import Glibc
import Logging
import SwiftMateCore
import Synchronization

/// What the client asked its channel for.
enum SSHChannelRequest: Equatable {
    /// An interactive shell (a viewer).
    case shell
    /// The `swiftmate` subsystem (a host or join client speaking the framed protocol).
    case subsystem
    /// A command (`ssh TOKEN@relay ls`): refused with a message.
    case exec(String)
}

/// A libssh server session, non-blocking, on one `IOLoop`: the loop watches its socket (epoll) and steps it when
/// the socket is ready, when a timer is due, or when a writer queued output. Every libssh call happens on that
/// loop's thread (libssh objects are not thread-safe); other threads only touch the outbox, under its lock, and
/// wake the session with a job for its loop. Once the login names a token whose session lives on another loop, the
/// connection moves there before the relay gets it, so one session's connections share one thread.
final class SSHServerSession: @unchecked Sendable {
    let session: ssh_session
    private let peer: String
    /// The port the relay listens on (for the hint to a client that sent a command).
    private let listenPort: Int?
    private let logger: Logger
    private let setupSeconds: Int
    let access: (any AccessPolicy)?
    /// Most unread bytes from the client (`ListenContext.inboundBytes`).
    let inboundBytes: Int
    let outbox: SSHOutbox
    /// The relay turned the viewer away (`SSHChannelWriter.refuse`): the channel ends with exit status 1.
    fileprivate let refused = Mutex(false)
    /// Made when the client's shell or subsystem request is accepted (on the loop's thread, in the
    /// callback, so bytes that arrive in the same read are kept): what the client sends.
    var inbound: BoundedInbound?
    private let windows: AsyncStream<(cols: UInt16, rows: UInt16)>
    let windowFeed: AsyncStream<(cols: UInt16, rows: UInt16)>.Continuation

    // Loop-thread state.
    var channel: ssh_channel?
    var serverCallbacks: UnsafeMutablePointer<ssh_server_callbacks_struct>
    var channelCallbacks: UnsafeMutablePointer<ssh_channel_callbacks_struct>
    var user = ""
    var publicKey: String?
    var cols: UInt16 = 80
    var rows: UInt16 = 24
    var request: SSHChannelRequest?
    var peerClosed = false
    /// The data callback left bytes in libssh's channel buffer for want of room: read them once there is room.
    private var leftUnread = false
    /// The client sent past its SSH window (libssh buffers such data anyway): the connection closes.
    private var overran = false
    private var phase = Phase.settingUp(deadline: .now)
    /// The loop that serves the session now (read by a waking writer too; changed only by `move`, on the loop).
    private let home: Mutex<IOLoop>
    private var loop: IOLoop { home.withLock { $0 } }
    /// Which loop a token's connections belong on (`ListenContext.loopForLogin`).
    private let loopForLogin: @Sendable (String) -> IOLoop?
    /// libssh's event holding only this session: the loop calls it, without waiting, when the socket is ready.
    private var event: ssh_event?
    private var socket: Int32 = -1
    private var timer: IOLoopTimer?
    /// The loop watches the socket (not while paused: epoll would still report a hang-up on every pass).
    private var watched = false
    private var over = false
    /// The session's socket is not read for want of room (see `serve`).
    private var paused = false
    /// Output taken from the outbox that the client's SSH window did not take yet; once the relay closed the link,
    /// the channel closes after it.
    private var output = SSHChannelOutput()
    private let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)
    private var handler: @Sendable (Connection) async -> Void = { _ in }
    private var onSetUp: @Sendable () -> Void = {}
    private var onEnd: @Sendable () -> Void = {}

    /// A session for an accepted socket that `ssh_bind_accept_fd` has already taken.
    init(session: ssh_session, peer: String, listenPort: Int?, setupSeconds: Int, context: ListenContext, loop firstLoop: IOLoop,
         logger: Logger) {
        self.session = session
        self.listenPort = listenPort
        self.access = context.access
        self.inboundBytes = context.inboundBytes
        self.peer = peer
        self.setupSeconds = setupSeconds
        self.logger = logger
        let waker = SSHWaker()
        outbox = SSHOutbox(name: peer, wake: { waker.fire() })
        home = Mutex(firstLoop)
        loopForLogin = context.loopForLogin
        (windows, windowFeed) = AsyncStream.makeStream(of: (cols: UInt16, rows: UInt16).self, bufferingPolicy: .bufferingNewest(8))
        serverCallbacks = .allocate(capacity: 1)
        serverCallbacks.initialize(to: ssh_server_callbacks_struct())
        channelCallbacks = .allocate(capacity: 1)
        channelCallbacks.initialize(to: ssh_channel_callbacks_struct())
        waker.target = { [weak self] in self?.wake() }
    }

    deinit {
        readBuffer.deallocate()
        serverCallbacks.deallocate()
        channelCallbacks.deallocate()
    }

    /// Starts the session on `loop` (pinned there); `handler` gets the connection once the client asked for a shell
    /// or the `swiftmate` subsystem (`onSetUp` is called just before); `onEnd` once the session is freed.
    func start(handler: @escaping @Sendable (Connection) async -> Void,
               onSetUp: @escaping @Sendable () -> Void, onEnd: @escaping @Sendable () -> Void) {
        self.handler = handler
        self.onSetUp = onSetUp
        self.onEnd = onEnd
        let loop = self.loop
        loop.pin()
        loop.execute { self.attach() }
    }

    /// From any thread: the session has something to do (queued output, room to read again). A caller on the loop (a writer
    /// task) steps it at once, with no job in between: libssh is never on the stack then (its callbacks only resume
    /// tasks, which run later).
    private func wake() {
        if loop.inLoop { advance() } else { loop.execute { self.advance() } }
    }

    // MARK: The loop's thread

    /// What the loop does with the session after a step.
    enum Step {
        /// Step again when the socket is ready or a writer wakes the session, or at the latest after this long.
        case wait(Duration?)
        /// The session moved to another loop, which steps it from now on.
        case moved
        /// The session is over: detach and free it.
        case done
    }

    private enum Phase {
        /// Key exchange, login and the channel request, until the deadline.
        case settingUp(deadline: ContinuousClock.Instant)
        /// Bytes both ways.
        case serving
        /// The channel was closed from this side: sending what is queued, waiting a moment for the client's close.
        case closing(deadline: ContinuousClock.Instant)
    }

    /// Non-blocking from here on; starts the key exchange, then lets the loop watch the socket.
    private func attach() {
        installServerCallbacks()
        ssh_set_blocking(session, 0)
        guard ssh_handle_key_exchange(session) != SSH_ERROR, let event = ssh_event_new() else {
            logger.info("ssh \(peer): key exchange failed: \(String(cString: ssh_get_error(UnsafeMutableRawPointer(session))))")
            detach()
            return
        }
        self.event = event
        ssh_event_add_session(event, session)
        socket = ssh_get_fd(session)
        phase = .settingUp(deadline: .now + .seconds(setupSeconds))
        watchSocket()
        advance()
    }

    private func watchSocket() {
        loop.watch(socket, for: .readable) { _ in self.poll() } // the watch holds the session until `detach`
        watched = true
    }

    /// Lets libssh read and write what the socket allows now (it runs the callbacks), then steps the session.
    private func poll() {
        if let event, !paused { ssh_event_dopoll(event, 0) }
        advance()
    }

    /// Steps the session and sets what the loop waits for next: the socket (read unless paused; write while libssh
    /// holds output) and a timer.
    private func advance() {
        guard !over else { return }
        guard loop.inLoop else { return wake() } // a wake-up sent to the loop it just left
        outbox.woke()
        if let timer { loop.cancel(timer) }
        timer = nil
        var next = step(now: .now)
        if case .wait = next, !paused, hasQueuedOutput, let event {
            // libssh asks for a writable socket after every send before it sends straight away again; the socket
            // nearly always is, so libssh is asked now rather than after a turn of the loop.
            ssh_event_dopoll(event, 0)
            next = step(now: .now)
        }
        switch next {
        case .wait(let delay):
            if paused {
                if watched { loop.unwatch(socket) }
                watched = false
            } else {
                if !watched { watchSocket() }
                loop.change(socket, to: hasQueuedOutput ? [.readable, .writable] : .readable)
            }
            if let delay {
                timer = loop.schedule(in: delay) {
                    self.timer = nil
                    self.poll()
                }
            }
        case .moved:
            break
        case .done:
            detach()
        }
    }

    /// Moves the session to `target` (before the relay has its connection): the old loop lets go of the socket, the
    /// new one watches it and steps the session.
    private func move(to target: IOLoop) {
        loop.unwatch(socket)
        watched = false
        loop.unpin()
        target.pin()
        home.withLock { $0 = target }
        target.execute {
            self.watchSocket()
            self.advance()
        }
    }

    /// Leaves the loop and frees the session.
    private func detach() {
        over = true
        loop.unwatch(socket)
        loop.unpin()
        if let event {
            ssh_event_remove_session(event, session)
            ssh_event_free(event)
        }
        event = nil
        end()
    }

    private var closed: Bool { ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR) != 0 }

    /// Does what the session can do now without blocking.
    func step(now: ContinuousClock.Instant) -> Step {
        switch phase {
        case .settingUp(let deadline):
            if closed {
                logger.info("ssh \(peer): closed during key exchange or login: \(String(cString: ssh_get_error(UnsafeMutableRawPointer(session))))")
                return .done
            }
            guard let channel, let request else {
                if now > deadline {
                    logger.info("ssh \(peer): no shell or subsystem request within \(setupSeconds) s; closing")
                    return .done
                }
                return .wait(deadline - now)
            }
            if case .exec(let command) = request {
                refuseExec(channel, command: command)
                return finishChannel(channel, exitStatus: 1, now: now)
            }
            guard let inbound else { return .done }
            if let target = loopForLogin(user), target !== loop {
                move(to: target)
                return .moved
            }
            let kind: ConnectionKind = request == .subsystem ? .framed : .terminal(token: user, cols: cols, rows: rows)
            var connection = Connection(inbound: inbound, outbound: SSHChannelWriter(session: self), peer: peer,
                                        kind: kind, windowChanges: windows, publicKey: publicKey, loop: loop)
            connection.transport = "ssh"
            phase = .serving
            onSetUp()
            let handler = self.handler
            Task(executorPreference: loop) { await handler(connection) }
            return serve(channel, now: now)
        case .serving:
            guard let channel else { return .done }
            return serve(channel, now: now)
        case .closing(let deadline):
            if closed || now > deadline || (peerClosed && !hasQueuedOutput) { return .done }
            return .wait(.milliseconds(20))
        }
    }

    /// Whether libssh still holds output for the socket.
    private var hasQueuedOutput: Bool { ssh_get_poll_flags(session) & Int32(SSH_WRITE_PENDING) != 0 }

    /// Moves bytes until the relay closes the connection or the client goes away.
    private func serve(_ channel: ssh_channel, now: ContinuousClock.Instant) -> Step {
        if overran { return .done }
        if leftUnread { readUnread(channel) }
        // No room for what the client sent: its socket is left unread (its TCP window then closes) until the
        // relay's reader makes room and wakes this session.
        paused = leftUnread
        // Output: at most what the client's SSH window takes now; the rest waits for its window to reopen.
        guard output.write(to: channel, from: outbox) else {
            inbound?.finish(throwing: SwiftMateError(.connectionLost, "ssh \(peer): the connection failed"))
            return .done
        }
        if output.readyToClose {
            return finishChannel(channel, exitStatus: refused.withLock { $0 } ? 1 : 0, now: now)
        }
        if closed {
            inbound?.finish(throwing: SwiftMateError(.connectionLost, "ssh \(peer): the connection failed"))
            return .done
        }
        if ssh_channel_is_closed(channel) != 0 {
            // Keep serving writes until the relay closes (it does once inbound ends).
            inbound?.finish()
        }
        return .wait(nil)
    }

    /// Ends the channel the way sshd does: exit status, EOF, close; then lets the loop send it and waits a
    /// moment for the client's close, so the client reports a clean end rather than a cut one.
    private func finishChannel(_ channel: ssh_channel, exitStatus: Int32, now: ContinuousClock.Instant) -> Step {
        paused = false
        ssh_channel_request_send_exit_status(channel, exitStatus)
        ssh_channel_send_eof(channel)
        ssh_channel_close(channel)
        phase = .closing(deadline: now + .milliseconds(2500))
        return .wait(.milliseconds(20))
    }

    /// Hands the relay what the data callback left in libssh's channel buffer, as far as there is room (reading it
    /// there reopens the client's SSH window).
    private func readUnread(_ channel: ssh_channel) {
        guard let inbound else { return }
        leftUnread = false
        while true {
            let room = inbound.room
            guard room > 0 else {
                leftUnread = true
                return
            }
            let n = ssh_channel_read_nonblocking(channel, readBuffer, UInt32(min(room, 64 << 10)), 0)
            guard n > 0 else { return }
            let bytes = [UInt8](UnsafeRawBufferPointer(start: readBuffer, count: Int(n)))
            inbound.deliver(bytes)
        }
    }

    /// Takes what the client sent (`length` bytes buffered by libssh) as far as the inbound side has room; returns
    /// how many were taken (libssh keeps the rest).
    func received(_ data: UnsafeMutableRawPointer, length: Int) -> Int {
        guard let inbound else { return length } // before shell/subsystem there is no reader: dropped
        // While the relay has no room the socket is not polled, so libssh's buffer holds at most what came with the
        // last packets read (libssh 0.10 reopens the SSH window even for bytes left in its buffer). More is a
        // client that floods past its window.
        if length > inboundBytes + (8 << 20) {
            overran = true
            logger.warning("ssh \(peer): sent \(length) bytes past its SSH window; closing the connection")
            inbound.finish(throwing: SwiftMateError(.protocolViolation, "ssh \(peer): the client sent past its SSH window"))
            return length
        }
        let taken = min(length, inbound.room)
        if taken < length { leftUnread = true }
        guard taken > 0 else { return 0 }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: data, count: taken))
        inbound.deliver(bytes) // resumes the reading task, which runs after this callback (on this loop)
        return taken
    }

    /// Frees the session and says so.
    private func end() {
        cleanUp()
        onEnd()
    }

    private func refuseExec(_ channel: ssh_channel, command: String) {
        let port = listenPort.map { "-p \($0) " } ?? ""
        let text = "swiftmate: this relay only serves interactive sessions, not commands ('\(command.prefix(60))'); "
            + "connect with: ssh -t \(port)\(user)@HOST\r\n"
        _ = Array(text.utf8).withUnsafeBytes { ssh_channel_write_stderr(channel, $0.baseAddress, UInt32($0.count)) }
    }

    private func cleanUp() {
        inbound?.finish()
        windowFeed.finish()
        outbox.finish()
        if let channel { ssh_channel_free(channel) }
        channel = nil
        ssh_disconnect(session)
        ssh_free(session)
    }

}

/// The `ByteWriter` of an SSH channel.
struct SSHChannelWriter: ByteWriter {
    let session: SSHServerSession
    func write(_ bytes: [UInt8]) async throws { try await session.outbox.send(bytes) }
    func close() async { session.outbox.requestClose() }
    /// The message, then the channel ends with exit status 1 (`ssh` exits 1, as when a command fails).
    func refuse(_ message: [UInt8]) async {
        session.refused.withLock { $0 = true }
        try? await session.outbox.send(message)
        session.outbox.requestClose()
    }
}
