// A host's SSH link to its relay, once set up: a non-blocking libssh client stepped on an `IOLoop`.
import CLibSSH
import Logging
import SwiftMateCore

/// The client side of an SSH link, on one `IOLoop` (the host's session loop, or one of its own): the loop watches
/// the socket and steps the link when it is ready, when a writer queued bytes, or when the reader made room. Every
/// libssh call happens on that loop's thread; other threads only touch the outbox (under its lock) and wake the link
/// with a job for its loop. Set-up (connect, key exchange, auth) blocks, so it runs first on a thread of its own
/// (`SSHClientSetup`).
final class SSHClientConnection: @unchecked Sendable {
    // @unchecked: the libssh state below is touched only on `loop`'s thread.
    private let setup: SSHClientSetup
    fileprivate let outbox: SSHOutbox
    /// What the relay sent, bounded in bytes: with no room the link leaves the socket unread.
    private let inbound: BoundedInbound
    /// Left when the link is done with libssh (the session freed).
    private let running = WaitGroup(count: 1)
    private let loop: IOLoop
    /// The loop was made for this link alone: it ends with the link.
    private let ownsLoop: Bool

    // Loop-thread state.
    private let session: ssh_session
    private let channel: ssh_channel
    private var event: ssh_event?
    private let socket: Int32
    private var output = SSHChannelOutput()
    /// The loop watches the socket (not while the reader has no room: epoll would report a hang-up on every pass).
    private var watched = false
    /// `waitForSocket` is asking libssh about a writable socket (once per step).
    private var askedWritable = false
    private var over = false
    /// The channel is closed from this side: libssh is sending what it holds, until this deadline.
    private var closingDeadline: ContinuousClock.Instant?
    private var timer: IOLoopTimer?
    private let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: 64 << 10, alignment: 16)

    private init(setup: SSHClientSetup, handles: SSHClientHandles, loop: IOLoop, ownsLoop: Bool) {
        self.setup = setup
        self.loop = loop
        self.ownsLoop = ownsLoop
        session = handles.session
        channel = handles.channel
        socket = ssh_get_fd(handles.session)
        let waker = SSHWaker()
        let outbox = SSHOutbox(name: "\(setup.endpoint.host):\(setup.endpoint.port)", wake: { waker.fire() })
        self.outbox = outbox
        inbound = BoundedInbound(limitBytes: setup.options.inboundBytes) { outbox.wake() }
        waker.target = { [weak self] in self?.wake() }
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Connects, checks the relay's host key against `options.fingerprints`, authenticates and opens the
    /// `swiftmate` subsystem; the link then runs on `loop` (nil: a loop of its own).
    static func open(_ endpoint: Endpoint, options: SSHTransport.Options, context: ConnectContext) async throws -> Connection {
        let loop = context.loop
        let setup = SSHClientSetup(endpoint: endpoint, options: options, proveKey: context.proveKey)
        let handles = try await SSHClientSetup.onThread("swiftmate-ssh-connect") { try setup.establish() }
        let home: IOLoop
        do {
            home = try loop ?? IOLoop(name: "swiftmate-ssh-client")
        } catch {
            ssh_channel_free(handles.channel)
            ssh_disconnect(handles.session)
            ssh_free(handles.session)
            throw error
        }
        let link = SSHClientConnection(setup: setup, handles: handles, loop: home, ownsLoop: loop == nil)
        home.execute { link.attach() }
        return Connection(inbound: link.inbound, outbound: SSHClientWriter(link: link), peer: "\(endpoint.host):\(endpoint.port)",
                          loop: home)
    }

    /// From any thread: the link has something to do (queued output, room to read again, a close). A caller on the loop (a writer
    /// task) steps it at once, with no job in between: libssh is never on the stack then (its callbacks only resume
    /// tasks, which run later).
    private func wake() {
        if loop.inLoop { advance() } else { loop.execute { self.advance() } }
    }

    // MARK: The loop's thread

    /// Non-blocking from here on; the loop watches the socket.
    private func attach() {
        ssh_set_blocking(session, 0)
        guard let event = ssh_event_new() else {
            inbound.finish(throwing: setup.fail(session, "libssh cannot make an event"))
            return detach()
        }
        self.event = event
        ssh_event_add_session(event, session)
        advance()
    }

    /// Lets libssh read and write what the socket allows now, then steps the link.
    private func poll() {
        if let event { ssh_event_dopoll(event, 0) }
        advance()
    }

    /// Writes what the relay's window takes, hands the reader what it has room for, and sets what the loop waits
    /// for next: the socket (read while the reader has room; write while libssh holds output).
    private func advance() {
        guard !over else { return }
        outbox.woke()
        if let timer { loop.cancel(timer) }
        timer = nil
        if let deadline = closingDeadline {
            if !hasQueuedOutput || closed || .now > deadline { return detach() }
            return waitForSocket(reading: true, delay: .milliseconds(20))
        }
        guard output.write(to: channel, from: outbox) else {
            inbound.finish(throwing: setup.fail(session, "writing to the relay failed"))
            return detach()
        }
        if output.readyToClose {
            ssh_channel_send_eof(channel)
            ssh_channel_close(channel)
            closingDeadline = .now + .seconds(2)
            return advance()
        }
        var room = inbound.room
        while room > 0 {
            let n = ssh_channel_read_nonblocking(channel, readBuffer, UInt32(min(room, 64 << 10)), 0)
            if n > 0 {
                inbound.deliver([UInt8](UnsafeRawBufferPointer(start: readBuffer, count: Int(n))))
                room = inbound.room
                continue
            }
            if n < 0 || ssh_channel_is_eof(channel) != 0 || ssh_channel_is_closed(channel) != 0 || closed {
                if n == SSH_ERROR || closed {
                    inbound.finish(throwing: setup.fail(session, "the connection failed"))
                } else {
                    inbound.finish()
                }
                return detach()
            }
            break
        }
        // With no room (the host is behind) the socket is left unread until the reader makes room and wakes the link.
        waitForSocket(reading: room > 0, delay: nil)
    }

    private func waitForSocket(reading: Bool, delay: Duration?) {
        if reading, hasQueuedOutput, !askedWritable, let event {
            // libssh asks for a writable socket after every send before it sends straight away again; the socket
            // nearly always is, so libssh is asked now (and the link stepped again) rather than after a turn of the
            // loop.
            askedWritable = true
            defer { askedWritable = false }
            ssh_event_dopoll(event, 0)
            return advance()
        }
        if reading {
            if !watched { loop.watch(socket, for: .readable) { _ in self.poll() } } // held until `detach`
            watched = true
            loop.change(socket, to: hasQueuedOutput ? [.readable, .writable] : .readable)
        } else if watched {
            loop.unwatch(socket)
            watched = false
        }
        if let delay {
            timer = loop.schedule(in: delay) {
                self.timer = nil
                self.poll()
            }
        }
    }

    /// Whether libssh still holds output for the socket.
    private var hasQueuedOutput: Bool { ssh_get_poll_flags(session) & Int32(SSH_WRITE_PENDING) != 0 }

    private var closed: Bool { ssh_get_status(session) & (SSH_CLOSED | SSH_CLOSED_ERROR) != 0 }

    /// Leaves the loop and frees the session.
    private func detach() {
        over = true
        if watched { loop.unwatch(socket) }
        watched = false
        if let event {
            ssh_event_remove_session(event, session)
            ssh_event_free(event)
        }
        event = nil
        ssh_channel_free(channel)
        ssh_disconnect(session)
        ssh_free(session)
        inbound.finish()
        outbox.finish()
        if ownsLoop { loop.stop() }
        running.leave()
    }

    // MARK: Any thread

    /// Asks the loop to close the channel after what is queued and waits (at most `limit`) until it has freed the
    /// libssh session: a process that exits while libssh is still in libcrypto can crash in OpenSSL's exit handlers.
    fileprivate func close(within limit: Duration) async {
        outbox.requestClose()
        await running.wait(atMost: limit)
    }
}

/// The `ByteWriter` of a host's SSH link.
struct SSHClientWriter: ByteWriter {
    let link: SSHClientConnection
    func write(_ bytes: [UInt8]) async throws { try await link.outbox.send(bytes) }
    func close() async { await link.close(within: .seconds(3)) }
}
