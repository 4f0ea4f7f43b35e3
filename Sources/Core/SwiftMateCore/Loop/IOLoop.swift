// One event loop: a thread that waits on file descriptors (epoll), runs jobs and timers, and is a task executor.
import CLoop
import Glibc
import Synchronization

/// What a watched file descriptor is ready for (or is asked to be watched for).
public struct IOEvents: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    /// Makes a set from its raw value.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Bytes can be read (also reported on hang-up and error, so the reader sees the end).
    public static let readable = IOEvents(rawValue: 1)
    /// Bytes can be written (also reported on hang-up and error, so the writer sees its write fail).
    public static let writable = IOEvents(rawValue: 2)
}

/// One thread that owns some file descriptors and the state that goes with them, as a libevent loop does for tmux
/// and an event loop does for a swift-nio channel. It waits for readiness with epoll (only the descriptors that are
/// ready cost anything, however many are watched), then runs what became due: readiness handlers, timers, and the
/// jobs other threads (or tasks preferring this loop, `withTaskExecutorPreference`) queued.
///
/// Threading: `execute`, `enqueue`, `stop` and `inLoop` from any thread; `watch`, `change`, `unwatch`,
/// `schedule` and `cancel` only on the loop's thread ("called on the loop"), checked in debug builds. Nothing
/// that runs on the loop may block: it stalls everything the loop serves.
public final class IOLoop: TaskExecutor, @unchecked Sendable {
    // @unchecked: `watches` and `timers` are touched only on the loop's thread; `queue` is under its lock.
    /// The thread's name (`swiftmate-loop-N`).
    public let name: String
    private let epoll: Int32
    private let wakeFD: Int32
    private enum Job {
        case closure(@Sendable () -> Void)
        case task(UnownedJob)
    }
    private struct Queue {
        var jobs: [Job] = []
        /// The thread is in (or about to enter) `epoll_wait` with a timeout: a new job must write the eventfd.
        var sleeping = false
        var stopping = false
        /// The thread has returned: jobs go to the global executor instead.
        var ended = false
    }
    private let queue = Mutex(Queue())
    private let thread = Mutex<pthread_t?>(nil)
    private let pins = Atomic<Int>(0)
    private var watches: [Int32: (events: IOEvents, handler: (IOEvents) -> Void)] = [:]
    private var timers = TimerHeap()
    /// What `afterJobs` deferred, run once the jobs have run.
    private var deferred: [() -> Void] = []
    /// How many rounds of queued jobs one pass runs before it waits on the descriptors again.
    private static let jobRounds = 16

    /// Starts the loop's thread.
    public init(name: String) throws {
        self.name = name
        epoll = swiftmate_epoll_create()
        guard epoll >= 0 else { throw SwiftMateError(.system, "epoll_create1: \(String(cString: strerror(errno)))") }
        wakeFD = swiftmate_loop_eventfd()
        guard wakeFD >= 0 else {
            Glibc.close(epoll)
            throw SwiftMateError(.system, "eventfd: \(String(cString: strerror(errno)))")
        }
        swiftmate_epoll_ctl(epoll, 0, wakeFD, swiftmate_epoll_in)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        let box = Unmanaged.passRetained(LoopStart(loop: self)).toOpaque()
        var id = pthread_t()
        guard pthread_create(&id, &attributes, { raw in
            let start = Unmanaged<LoopStart>.fromOpaque(raw!).takeRetainedValue()
            start.loop.run()
            return nil
        }, box) == 0 else {
            Unmanaged<LoopStart>.fromOpaque(box).release()
            Glibc.close(epoll)
            Glibc.close(wakeFD)
            throw SwiftMateError(.system, "pthread_create: \(String(cString: strerror(errno)))")
        }
        pthread_detach(id)
        thread.withLock { $0 = id }
    }

    /// Whether the caller runs on the loop's thread.
    public var inLoop: Bool {
        guard let id = thread.withLock({ $0 }) else { return false }
        return pthread_equal(id, pthread_self()) != 0
    }

    /// Stops the program in debug builds when not called on the loop (swift-nio's `preconditionInEventLoop`).
    @inlinable
    public func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(inLoop, "called off its loop (\(name))", file: file, line: line)
    }

    // MARK: Any thread

    /// Runs `body` on the loop, after what is queued already.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        push(.closure(body))
    }

    /// Runs the job of a task that prefers this loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        push(.task(UnownedJob(job)))
    }

    private func push(_ job: Job) {
        enum After { case none, wake, elsewhere }
        let after = queue.withLock { q -> After in
            if q.ended { return .elsewhere }
            q.jobs.append(job)
            guard q.sleeping else { return .none }
            q.sleeping = false // one wake-up is enough until the thread looks again
            return .wake
        }
        switch after {
        case .none: break
        case .wake:
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, 8)
        case .elsewhere:
            Self.runElsewhere(job)
        }
    }

    /// Runs a job of a loop that has ended on the shared pool: a task whose loop is gone still finishes, rather than
    /// hanging.
    private static func runElsewhere(_ job: Job) {
        switch job {
        case .closure(let body): Task.detached { body() }
        case .task(let task): globalConcurrentExecutor.enqueue(ExecutorJob(task))
        }
    }

    /// Ends the loop once nothing is watched any more and its queue is empty (jobs queued later run on the shared
    /// pool). Whoever watches descriptors unwatches them as its connections end.
    public func stop() {
        queue.withLock { $0.stopping = true }
        execute {}
    }

    /// How many things (sessions, connections) are pinned to the loop: a group places new ones on the least loaded.
    public var pinned: Int { pins.load(ordering: .relaxed) }

    /// One more thing pinned to the loop (`unpin` when it goes).
    public func pin() { pins.add(1, ordering: .relaxed) }

    /// One thing fewer pinned to the loop.
    public func unpin() { pins.subtract(1, ordering: .relaxed) }

    // MARK: On the loop

    /// Calls `handler` on the loop whenever `fd` is ready for some of `events` (level-triggered: again while it
    /// stays ready). The fd stays the caller's: `unwatch` it before closing it.
    public func watch(_ fd: Int32, for events: IOEvents, _ handler: @escaping (IOEvents) -> Void) {
        assertInLoop()
        let op: Int32 = watches[fd] == nil ? 0 : 1
        watches[fd] = (events, handler)
        swiftmate_epoll_ctl(epoll, op, fd, Self.mask(events))
    }

    /// Watches `fd` for `events` from now on (none: it stays registered but is not reported).
    public func change(_ fd: Int32, to events: IOEvents) {
        assertInLoop()
        guard let current = watches[fd], current.events != events else { return }
        watches[fd]?.events = events
        swiftmate_epoll_ctl(epoll, 1, fd, Self.mask(events))
    }

    /// Stops watching `fd`.
    public func unwatch(_ fd: Int32) {
        assertInLoop()
        guard watches.removeValue(forKey: fd) != nil else { return }
        swiftmate_epoll_ctl(epoll, 2, fd, 0)
    }

    /// Runs `body` on the loop once `delay` has passed, unless cancelled.
    @discardableResult
    public func schedule(in delay: Duration, _ body: @escaping () -> Void) -> IOLoopTimer {
        assertInLoop()
        return timers.add(at: .now + delay, body)
    }

    /// Runs `body` on the loop once the jobs queued so far, and those they queue in turn, have run, before the loop
    /// waits again: work that must not delay what is on its way (a keystroke's echo drawn on the host's own terminal
    /// after it went to the relay, and with an embedded relay after it reached the viewers).
    public func afterJobs(_ body: @escaping () -> Void) {
        assertInLoop()
        deferred.append(body)
    }

    /// Cancels a timer (nothing happens if it ran already).
    public func cancel(_ timer: IOLoopTimer) {
        assertInLoop()
        timers.cancel(timer)
    }

    private static func mask(_ events: IOEvents) -> UInt32 {
        (events.contains(.readable) ? swiftmate_epoll_in : 0) | (events.contains(.writable) ? swiftmate_epoll_out : 0)
    }

    // MARK: The thread

    private func run() {
        thread.withLock { $0 = pthread_self() }
        swiftmate_name_thread(name)
        let capacity = 256
        let readyFDs = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
        let readyEvents = UnsafeMutablePointer<UInt32>.allocate(capacity: capacity)
        defer {
            readyFDs.deallocate()
            readyEvents.deallocate()
        }
        var batch: [Job] = []
        while true {
            // Sleep only with nothing queued; a timer bounds the sleep (rounded up, so it is due on waking).
            let (pending, stopping) = queue.withLock { q -> (Bool, Bool) in
                q.sleeping = q.jobs.isEmpty && deferred.isEmpty
                return (!q.jobs.isEmpty || !deferred.isEmpty, q.stopping)
            }
            if stopping && !pending && watches.isEmpty { break }
            var timeout: Int32 = pending ? 0 : -1
            if !pending, let next = timers.next {
                let left = next - .now
                timeout = left <= .zero ? 0 : Int32(clamping: (left.components.seconds * 1000) + (left.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
            }
            let n = swiftmate_epoll_wait(epoll, readyFDs, readyEvents, Int32(capacity), timeout)
            queue.withLock { $0.sleeping = false }
            for i in 0..<max(0, Int(n)) {
                let fd = readyFDs[i]
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = Glibc.read(wakeFD, &value, 8)
                    continue
                }
                guard let watch = watches[fd] else { continue }
                var events: IOEvents = []
                let bits = readyEvents[i]
                if bits & swiftmate_epoll_readable_bits != 0 { events.insert(.readable) }
                if bits & swiftmate_epoll_writable_bits != 0 { events.insert(.writable) }
                events.formIntersection(watch.events)
                if !events.isEmpty { watch.handler(events) }
            }
            for body in timers.takeDue(now: .now) { body() }
            // Jobs, and the jobs they queue (a task resuming the next: a keystroke goes from socket to PTY through a
            // few), a bounded number of rounds before the descriptors are looked at again.
            for _ in 0..<Self.jobRounds {
                batch = queue.withLock { q in
                    defer { q.jobs.removeAll(keepingCapacity: true) }
                    return q.jobs
                }
                if batch.isEmpty { break }
                for job in batch {
                    switch job {
                    case .closure(let body): body()
                    case .task(let task): task.runSynchronously(on: asUnownedTaskExecutor())
                    }
                }
                batch.removeAll(keepingCapacity: true)
            }
            // What they deferred; jobs that queues run on the next pass, which does not wait.
            if !deferred.isEmpty {
                let bodies = deferred
                deferred.removeAll(keepingCapacity: true)
                for body in bodies { body() }
            }
        }
        let left = queue.withLock { q -> [Job] in
            q.ended = true
            return q.jobs
        }
        Glibc.close(epoll)
        Glibc.close(wakeFD)
        left.forEach(Self.runElsewhere)
    }
}

/// What the new thread is handed.
private final class LoopStart {
    let loop: IOLoop
    init(loop: IOLoop) { self.loop = loop }
}

/// A timer of an `IOLoop`, to cancel it.
public struct IOLoopTimer: Hashable, Sendable {
    let id: UInt64
}

/// The loop's timers: a binary min-heap by deadline; cancelled ones are skipped when they come up.
struct TimerHeap {
    private var heap: [(at: ContinuousClock.Instant, id: UInt64)] = []
    private var bodies: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 0

    /// The earliest deadline still live.
    var next: ContinuousClock.Instant? {
        mutating get {
            while let top = heap.first, bodies[top.id] == nil { popTop() }
            return heap.first?.at
        }
    }

    mutating func add(at deadline: ContinuousClock.Instant, _ body: @escaping () -> Void) -> IOLoopTimer {
        nextID += 1
        bodies[nextID] = body
        heap.append((deadline, nextID))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].at < heap[parent].at else { break }
            heap.swapAt(i, parent)
            i = parent
        }
        return IOLoopTimer(id: nextID)
    }

    mutating func cancel(_ timer: IOLoopTimer) {
        bodies[timer.id] = nil
    }

    /// Takes every timer due by `now`, to be run by the caller (outside the heap: a body may add or cancel timers).
    mutating func takeDue(now: ContinuousClock.Instant) -> [() -> Void] {
        var due: [() -> Void] = []
        while let top = heap.first, top.at <= now {
            popTop()
            if let body = bodies.removeValue(forKey: top.id) { due.append(body) }
        }
        return due
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count && heap[l].at < heap[smallest].at { smallest = l }
            if r < heap.count && heap[r].at < heap[smallest].at { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}
