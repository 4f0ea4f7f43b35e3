// Whether a command can start, checked before anything is shared (as a shell finds it: PATH, execute permission).
import Foundation
import Glibc
import SwiftMateCore

/// Finds a command's program the way `execvp` will, so that a command that cannot run fails before the relay is
/// contacted and before any connection string is printed.
public enum CommandLookup {
    /// The program `command[0]` names, found on `PATH` (from `environment`) unless it has a `/`; throws a message that
    /// says what is wrong and what to do.
    @discardableResult
    public static func check(_ command: [String], environment: [String: String]) throws -> String {
        guard let program = command.first, !program.isEmpty else {
            throw SwiftMateError(.badConfig, "no command to share; give a program and its arguments, e.g. swiftmate new-session bash -l")
        }
        if program.hasPrefix("-") {
            throw SwiftMateError(.badConfig, """
                '\(program)' is not a command: new-session takes the command to share, not tmux's options \
                (to run without a terminal, use swiftmate -F new-session CMD)
                """)
        }
        if program.contains("/") {
            guard runnable(program) else {
                throw SwiftMateError(.badConfig, "cannot run '\(program)': \(why(program)); give a program that exists and is executable")
            }
            return program
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + program
            if runnable(candidate) { return candidate }
        }
        throw SwiftMateError(.badConfig, "cannot run '\(program)': no such command on PATH (\(path)); give a program that exists")
    }

    private static func runnable(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }

    private static func why(_ path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { return String(cString: strerror(errno)).lowercased() }
        if (info.st_mode & S_IFMT) == S_IFDIR { return "it is a directory" }
        return "it is not executable"
    }
}
