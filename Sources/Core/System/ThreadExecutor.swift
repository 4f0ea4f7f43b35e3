// A task executor with one thread of its own: a session's tasks hand work to each other without waking threads.
import Foundation
import SwiftMateCore

/// Runs the jobs of tasks that prefer it (`withTaskExecutorPreference`) on one dedicated thread, one at a time.
///
/// A keystroke crosses several tasks between the SSH thread and the PTY (viewer link, session, host link,
/// host engine); on the shared pool each hand-off can wake another parked thread, which costs tens of
/// microseconds on a small machine. Here those hand-offs are queue pushes. An I/O thread that resumes a task
/// inside `InlineWork.perform` runs the jobs itself, so a keystroke or its echo wakes no thread at all
/// until it reaches the other side's I/O. Only one thread runs jobs at a time. Jobs must not block.
public final class ThreadExecutor: TaskExecutor, InlineDrainable, @unchecked Sendable {
    // @unchecked: `jobs`, `idle` and `running` are guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    /// The dedicated thread is waiting for work.
    private var idle = false
    /// Some thread (the dedicated one or an inline drainer) is running jobs.
    private var running = false

    /// Starts the thread (named `name`); it lives as long as the process.
    public init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Queues a job; wakes the thread only if nobody else will run it.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let inline = InlineWork.claim(self)
        condition.lock()
        jobs.append(unowned)
        if idle && !running && !inline { condition.signal() }
        condition.unlock()
    }

    /// Runs the queued jobs on this thread, unless another thread is running them (it will run these too).
    public func drainInline() {
        condition.lock()
        guard !running else {
            condition.unlock()
            return
        }
        running = true
        runAll() // returns with the queue empty and the lock held: nothing is left for the dedicated thread
        running = false
        condition.unlock()
    }

    /// With the lock held: runs jobs (unlocked) until the queue is empty; returns with the lock held.
    private func runAll() {
        var batch: [UnownedJob] = []
        while !jobs.isEmpty {
            swap(&batch, &jobs)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
            condition.lock()
        }
    }

    private func loop() {
        condition.lock()
        while true {
            while jobs.isEmpty || running {
                idle = true
                condition.wait()
            }
            idle = false
            running = true
            runAll()
            running = false
        }
    }
}
