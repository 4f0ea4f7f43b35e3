// Where hosts put their control sockets when not given -S, and how a command finds the one it means.
import Foundation
import Glibc
import SwiftMateCore

/// The per-user directory of control sockets (tmate's `/tmp/tmate-UID/`, tmux's `/tmp/tmux-UID/`) and the
/// environment variable a host sets in its command (as tmux sets `$TMUX`): `show-messages`, `status`,
/// `wait-ready` and `marker` need no `-S` inside the shared shell, nor outside it when one host is running.
public enum ControlSockets {
    /// The variable a host sets in its command's environment to its control socket's path.
    public static let environmentVariable = "SWIFTMATE_SOCKET"

    /// `$TMPDIR/swiftmate-UID` (TMPDIR defaulting to /tmp).
    public static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var base = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        return "\(base)/swiftmate-\(getuid())"
    }

    /// Makes the directory (0700) if it is not there, and checks that it is this user's and closed to others, as
    /// tmux does: a socket in a directory someone else controls could be answered by them.
    public static func prepareDirectory(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw SwiftMateError(.system, "cannot make the control socket directory \(path): \(String(cString: strerror(errno))); give -S SOCKET")
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw SwiftMateError(.system, "\(path) is not a directory; remove it, or give -S SOCKET")
        }
        guard info.st_uid == getuid() else {
            throw SwiftMateError(.system, "\(path) belongs to another user; remove it, or give -S SOCKET")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw SwiftMateError(.system, "\(path) is open to other users (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 700 it, or give -S SOCKET")
        }
    }

    /// The socket a host with no -S listens on: `DIR/host-PID.sock` (the directory is made).
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let dir = directory(environment: environment)
        try prepareDirectory(dir)
        return "\(dir)/host-\(getpid()).sock"
    }

    /// The sockets in the directory that a host answers on, oldest first. Sockets nobody listens on (a host that
    /// was killed) are removed.
    public static func live(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let dir = directory(environment: environment)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        let sockets = names.filter { $0.hasSuffix(".sock") }.map { "\(dir)/\($0)" }
        var found: [(path: String, time: Int)] = []
        for path in sockets {
            switch ControlClient.probe(path) {
            case .listening:
                var info = stat()
                found.append((path, lstat(path, &info) == 0 ? info.st_mtim.tv_sec : 0))
            case .stale: unlink(path)
            case .other: break
            }
        }
        return found.sorted { $0.time < $1.time }.map(\.path)
    }

    /// The socket a control command means: `explicit` (-S), else `$SWIFTMATE_SOCKET` (inside a shared shell), else
    /// the only host running for this user. None, or more than one, is an error that says what to do; with more
    /// than one it lists them, each with `describe`'s line.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               describe: (String) -> String = { _ in "" }) throws -> String {
        if let explicit { return explicit }
        if let inside = environment[environmentVariable], !inside.isEmpty { return inside }
        let dir = directory(environment: environment)
        let sockets = live(environment: environment)
        switch sockets.count {
        case 0:
            throw SwiftMateError(.system, "no SwiftMate host is running for this user (none in \(dir)); start one with swiftmate, or give -S SOCKET")
        case 1:
            return sockets[0]
        default:
            let list = sockets.map { "  swiftmate -S \($0) …" + describe($0) }.joined(separator: "\n")
            throw SwiftMateError(.system, "\(sockets.count) SwiftMate hosts are running; say which with -S:\n\(list)")
        }
    }
}
