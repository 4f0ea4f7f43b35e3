// The relay's SSH loops: a few threads, each driving many non-blocking libssh sessions with one ssh_event.
import CLibSSH
import Foundation
import Glibc
import Logging
import SwiftMateCore
import Synchronization

/// One thread serving many SSH connections, as tmux and tmate serve theirs from one libevent loop: every session
/// is non-blocking and driven by socket readiness (`ssh_event`), so a slow or hostile client stalls no one else.
///
/// Threading: `adopt` from any thread; everything else on the loop's thread.
final class SSHServerLoop: @unchecked Sendable {
    private let name: String
    private let logger: Logger
    private let wakeFD: Int32
    private let incoming = Mutex<(sessions: [SSHServerSession], stopped: Bool)>(([], false))
    /// Sessions this loop serves (a count other threads read to pick the least loaded loop).
    private let load = Atomic<Int>(0)
    // Loop-thread state.
    private var sessions: [SSHServerSession] = []

    init(name: String, logger: Logger) throws {
        self.name = name
        self.logger = logger
        wakeFD = swiftmate_eventfd()
        guard wakeFD >= 0 else { throw SwiftMateError(.system, "eventfd: \(String(cString: strerror(errno)))") }
        let thread = Thread { self.run() }
        thread.name = name
        thread.start()
    }

    /// How many sessions the loop has.
    var count: Int { load.load(ordering: .relaxed) }

    /// Hands `session` to the loop, which serves it from now on.
    func adopt(_ session: SSHServerSession) {
        load.add(1, ordering: .relaxed)
        incoming.withLock { $0.sessions.append(session) }
        wake()
    }

    /// Stops the loop once its sessions have ended.
    func stop() {
        incoming.withLock { $0.stopped = true }
        wake()
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: The loop's thread

    private func run() {
        guard let event = ssh_event_new() else {
            logger.error("\(name): libssh cannot make an event loop")
            return
        }
        defer {
            ssh_event_free(event)
            Glibc.close(wakeFD)
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        ssh_event_add_fd(event, wakeFD, Int16(POLLIN), { fd, _, _ in
            var value: UInt64 = 0
            _ = Glibc.read(fd, &value, 8)
            return 0
        }, me)
        defer { ssh_event_remove_fd(event, wakeFD) }
        while true {
            let (new, stopped) = incoming.withLock { s -> ([SSHServerSession], Bool) in
                defer { s.sessions = [] }
                return (s.sessions, s.stopped)
            }
            for session in new {
                if session.attach(to: event) { sessions.append(session) } else { load.subtract(1, ordering: .relaxed) }
            }
            if stopped && sessions.isEmpty { return }
            let now = ContinuousClock.now
            var wait = Duration.seconds(1)
            sessions.removeAll { session in
                switch session.step(now: now) {
                case .wait(let next):
                    wait = min(wait, next)
                    return false
                case .done:
                    session.detach()
                    load.subtract(1, ordering: .relaxed)
                    return true
                }
            }
            let ms = max(0, Int32(wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000))
            if ssh_event_dopoll(event, ms) == SSH_ERROR && errno != EINTR && errno != 0 {
                // A session whose socket failed shows it in its own status at the next step.
                errno = 0
            }
        }
    }
}

/// The relay's loops: by default one per core; each new connection goes to the least loaded one.
final class SSHServerLoops: Sendable {
    private let loops: [SSHServerLoop]

    init(count: Int, name: String, logger: Logger) throws {
        loops = try (0..<max(1, count)).map { try SSHServerLoop(name: "\(name)-\($0)", logger: logger) }
    }

    func adopt(_ session: SSHServerSession) {
        guard let loop = loops.min(by: { $0.count < $1.count }) else { return }
        loop.adopt(session)
    }

    func stop() {
        loops.forEach { $0.stop() }
    }
}
