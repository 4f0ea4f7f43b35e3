// A task executor with one thread of its own: a session's tasks hand work to each other without waking threads.
import Foundation
import Synchronization

/// Runs the jobs of tasks that prefer it (`withTaskExecutorPreference`) on one dedicated thread, in order.
///
/// A keystroke crosses several tasks between the SSH thread and the PTY (viewer link, session, host link,
/// host engine); on the shared pool each hand-off can wake another parked thread, which costs tens of
/// microseconds on a small machine. On one thread those hand-offs are queue pushes, and only the hops
/// to and from the I/O threads remain. Jobs must not block: blocking C calls stay on their own threads.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `idle` are guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var idle = false
    /// Jobs enqueued so far (read without the lock while spinning).
    private let enqueued = Atomic<Int>(0)
    /// How long the thread keeps looking for work before it sleeps.
    private let spin: Duration

    /// Starts the thread (named `name`); it lives as long as the process. After running out of work it
    /// looks for more for `spin` before sleeping: a reply that comes back within that time (a keystroke's
    /// echo from the PTY) then costs no wake-up.
    public init(name: String, spin: Duration = .microseconds(0)) {
        self.spin = spin
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Queues a job; wakes the thread only if it is waiting.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        enqueued.add(1, ordering: .releasing)
        if idle { condition.signal() }
        condition.unlock()
    }

    private func loop() {
        var batch: [UnownedJob] = []
        while true {
            if spin > .zero {
                let seen = enqueued.load(ordering: .acquiring)
                let clock = ContinuousClock()
                let deadline = clock.now + spin
                while enqueued.load(ordering: .acquiring) == seen && clock.now < deadline {}
            }
            condition.lock()
            while jobs.isEmpty {
                idle = true
                condition.wait()
            }
            idle = false
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
