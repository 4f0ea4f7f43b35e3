// The relay's SSH listener: a socket of our own, accepted on a thread, each connection handed to libssh.
import CLibSSH
import Foundation
import Glibc
import Logging
import SwiftMateCore
import Synchronization

/// Accepts SSH connections on one of its loops and hands each to the least loaded loop (`IOLoop`), where it is
/// served non-blocking beside the others, so one slow or hostile client stalls no one else.
final class SSHListener: Listener, @unchecked Sendable {
    let localEndpoint: Endpoint
    private let socket: Int32
    private let bind: ssh_bind // used on the accepting loop only, after init
    private let options: SSHTransport.Options
    private let context: ListenContext
    private let logger: Logger
    private let state = Mutex<(stopped: Bool, done: CheckedContinuation<Void, Never>?, live: Int)>((false, nil, 0))
    /// Connections per client address still in key exchange or login (bounded by `maxSetupsPerAddress`): the
    /// relay's own per-address count, holding no bytes.
    private let settingUp: HandshakeBudget
    /// The loops that serve the connections: the relay's (`ListenContext.loops`), or its own (one per core unless
    /// `transports.ssh.loops` says otherwise), stopped with the listener.
    private let loops: IOLoopGroup
    private let ownsLoops: Bool
    /// The loop that accepts (the first).
    private var acceptor: IOLoop { loops.loops[0] }

    init(endpoint: Endpoint, keys: SSHHostKeys, options: SSHTransport.Options, context: ListenContext, logger: Logger) throws {
        self.options = options
        settingUp = HandshakeBudget(totalBytes: 0, perAddress: options.maxSetupsPerAddress)
        if let given = context.loops {
            (loops, ownsLoops) = (given, false)
        } else {
            (loops, ownsLoops) = (try IOLoopGroup(count: options.loops ?? ProcessInfo.processInfo.activeProcessorCount, name: "swiftmate-ssh"), true)
        }
        self.context = context
        self.logger = logger
        (socket, localEndpoint) = try Self.listen(endpoint)
        let fail = { [socket, loops, ownsLoops] (error: SwiftMateError) -> SwiftMateError in
            Glibc.close(socket)
            if ownsLoops { loops.stop() }
            return error
        }
        guard let bind = ssh_bind_new() else { throw fail(SwiftMateError(.system, "libssh: cannot create a server")) }
        self.bind = bind
        var no: Int32 = 0 // never read /etc/ssh/libssh_server_config
        ssh_bind_options_set(bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no)
        for key in keys.keys {
            guard ssh_bind_options_set(bind, SSH_BIND_OPTIONS_HOSTKEY, key.path) == SSH_OK else {
                ssh_bind_free(bind)
                throw fail(SwiftMateError(.system, "libssh cannot use the host key \(key.path)"))
            }
        }
    }

    /// Binds and listens on `endpoint` (port 0: a free port) and returns the socket and the real address.
    private static func listen(_ endpoint: Endpoint) throws -> (Int32, Endpoint) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard rc == 0, let first = list else {
            throw SwiftMateError(.system, "cannot listen on \(endpoint): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let fd = Glibc.socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SwiftMateError(.system, "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard Glibc.bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, Glibc.listen(fd, 128) == 0 else {
            let why = String(cString: strerror(errno))
            Glibc.close(fd)
            throw SwiftMateError(.system, "cannot listen on \(endpoint): \(why)")
        }
        var bound = endpoint
        bound.port = localPort(fd) ?? endpoint.port
        return (fd, bound)
    }

    private static func localPort(_ fd: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        return Self.address(storage).port
    }

    /// `host` and `port` of a socket address.
    static func address(_ storage: sockaddr_storage) -> (host: String, port: Int) {
        var storage = storage
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var service = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        _ = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, socklen_t(MemoryLayout<sockaddr_storage>.size), &host, socklen_t(host.count),
                            &service, socklen_t(service.count), NI_NUMERICHOST | NI_NUMERICSERV)
            }
        }
        func text(_ chars: [CChar]) -> String {
            String(decoding: chars.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return (text(host), Int(text(service)) ?? 0)
    }

    func run(handler: @escaping @Sendable (Connection) async -> Void) async throws {
        acceptor.execute {
            self.acceptor.watch(self.socket, for: .readable) { _ in self.acceptAll(handler: handler) }
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let stopped = state.withLock { s -> Bool in
                    if s.stopped { return true }
                    s.done = c
                    return false
                }
                if stopped { c.resume() }
            }
        } onCancel: {
            self.stop()
        }
    }

    func close() async { stop() }

    private func stop() {
        let done = state.withLock { s -> CheckedContinuation<Void, Never>?? in
            guard !s.stopped else { return nil }
            s.stopped = true
            let d = s.done
            s.done = nil
            return .some(d)
        }
        guard let done else { return }
        acceptor.execute {
            self.acceptor.unwatch(self.socket)
            Glibc.close(self.socket)
            ssh_bind_free(self.bind)
            if self.ownsLoops { self.loops.stop() }
        }
        done?.resume()
    }

    /// On the accepting loop: takes every connection waiting (the socket is non-blocking).
    private func acceptAll(handler: @escaping @Sendable (Connection) async -> Void) {
        while !state.withLock({ $0.stopped }) {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { swiftmate_accept(socket, $0, &length) }
            }
            guard client >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno != EAGAIN && errno != EWOULDBLOCK {
                    // Out of descriptors, say: stop accepting for a moment rather than spin on the ready socket.
                    logger.error("ssh listener \(localEndpoint): accept failed: \(String(cString: strerror(errno))); pausing accepts for 100 ms")
                    acceptor.change(socket, to: [])
                    acceptor.schedule(in: .milliseconds(100)) { self.acceptor.change(self.socket, to: .readable) }
                }
                return
            }
            let (host, port) = Self.address(storage)
            let peer = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            let admitted = state.withLock { s -> Bool in
                guard s.live < options.maxConnections else { return false }
                s.live += 1
                return true
            }
            guard admitted else {
                logger.warning("ssh listener \(localEndpoint): \(options.maxConnections) connections already; closing a new one")
                Glibc.close(client)
                continue
            }
            let release: @Sendable () -> Void = { [weak self] in self?.state.withLock { $0.live -= 1 } }
            // One address may have only so many connections before their login is done (a slow or hostile
            // client holding many half-open sessions), the rest of the relay's capacity staying for others.
            guard let setUp = settingUp.admit(peer: peer) else {
                logger.warning("ssh \(peer): refused: \(options.maxSetupsPerAddress) connections from this address are still logging in")
                Glibc.close(client)
                release()
                continue
            }
            var one: Int32 = 1 // keystrokes and echoes are tiny packets: no Nagle delay
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            guard let session = ssh_new() else {
                Glibc.close(client)
                setUp.release()
                release()
                continue
            }
            var no: Int32 = 0
            ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no)
            guard ssh_bind_accept_fd(bind, session, client) == SSH_OK else {
                logger.info("ssh \(peer): refused: \(String(cString: ssh_get_error(UnsafeMutableRawPointer(bind))))")
                ssh_free(session)
                Glibc.close(client)
                setUp.release()
                release()
                continue
            }
            let s = SSHServerSession(session: session, peer: peer, listenPort: localEndpoint.port == 22 ? nil : localEndpoint.port,
                                     setupSeconds: options.setupSeconds, context: context, loop: loops.leastLoaded(), logger: logger)
            s.start(handler: handler, onSetUp: setUp.release, onEnd: { setUp.release(); release() })
        }
    }
}
