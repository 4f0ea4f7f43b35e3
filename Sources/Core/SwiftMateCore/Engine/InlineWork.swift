// Lets an I/O thread that hands work to a session run that work itself, instead of waking the session's thread.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An executor whose queued jobs a handing-off thread may run itself (see `InlineWork`).
public protocol InlineDrainable: AnyObject, Sendable {
    /// Runs the queued jobs on the calling thread unless another thread is already running them.
    func drainInline()
}

/// A keystroke arrives on a transport's thread and its echo on the PTY reader's thread; each then resumes a
/// task of the session. Waking the session's own thread for that costs a context switch (tens of microseconds
/// on a small machine, most of a keystroke's latency). Inside `perform`, an executor that supports it only
/// queues the jobs `body` makes, and this thread runs them right after `body`, then goes back to its I/O.
///
/// Threading: for plain threads (transport I/O threads, PTY readers), never from tasks. Jobs must not block,
/// which is the rule for every task anyway.
public enum InlineWork {
    private final class Claims {
        var executors: [any InlineDrainable] = []
    }

    /// This thread's claims while inside `perform` (a pthread key: no Foundation dictionary, no bridging).
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    private static var current: Claims? {
        pthread_getspecific(key).map { Unmanaged<Claims>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Runs `body`, then the jobs it queued on `InlineDrainable` executors.
    public static func perform(_ body: () -> Void) {
        guard current == nil else { return body() } // nested: the outer call drains
        let claims = Claims()
        pthread_setspecific(key, Unmanaged.passUnretained(claims).toOpaque())
        body()
        pthread_setspecific(key, nil)
        for executor in claims.executors { executor.drainInline() }
    }

    /// For executors' `enqueue`: true when the calling thread will run the job (inside `perform`); the
    /// executor then need not wake its own thread.
    public static func claim(_ executor: any InlineDrainable) -> Bool {
        guard let claims = current else { return false }
        if !claims.executors.contains(where: { $0 === executor }) { claims.executors.append(executor) }
        return true
    }
}
