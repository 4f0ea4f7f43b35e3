// The event loop: jobs, tasks that prefer it, descriptors' readiness and timers all run on its one thread, in order.
import Glibc
import Synchronization
import Testing
@testable import SwiftMateCore

@Test func jobsAndPreferringTasksRunOnTheLoopsThreadInOrder() async throws {
    let loop = try IOLoop(name: "test-loop")
    defer { loop.stop() }
    let seen = Mutex<[Int]>([])
    let done = WaitGroup(count: 1)
    for i in 0..<100 {
        loop.execute {
            precondition(loop.inLoop)
            seen.withLock { $0.append(i) }
            if i == 99 { done.leave() }
        }
    }
    await done.wait(atMost: .seconds(5))
    #expect(seen.withLock { $0 } == Array(0..<100))
    #expect(!loop.inLoop)
    let onLoop = await withTaskExecutorPreference(loop) { () async -> Bool in
        await Task.yield()
        return loop.inLoop
    }
    #expect(onLoop, "a task that prefers the loop runs its nonisolated code there")
}

@Test func deferredWorkRunsAfterTheJobsAndTheJobsTheyQueueInOrder() async throws {
    let loop = try IOLoop(name: "test-loop")
    defer { loop.stop() }
    let seen = Mutex<[String]>([])
    let done = WaitGroup(count: 1)
    loop.execute {
        loop.afterJobs { seen.withLock { $0.append("deferred 1") } }
        loop.afterJobs {
            seen.withLock { $0.append("deferred 2") }
            // Deferred from deferred work: after the jobs that work queued.
            loop.execute { seen.withLock { $0.append("job 3") } }
            loop.afterJobs {
                seen.withLock { $0.append("deferred 3") }
                done.leave()
            }
        }
        // A chain of jobs, each queueing the next (a keystroke crossing tasks): all of it before the deferred work.
        loop.execute { seen.withLock { $0.append("job 1") }; loop.execute { seen.withLock { $0.append("job 2") } } }
    }
    await done.wait(atMost: .seconds(5))
    #expect(seen.withLock { $0 } == ["job 1", "job 2", "deferred 1", "deferred 2", "job 3", "deferred 3"])
}

@Test func aWatchedDescriptorIsReportedWhileReadyAndNotOnceUnwatched() async throws {
    let loop = try IOLoop(name: "test-loop")
    defer { loop.stop() }
    var fds: [Int32] = [0, 0]
    #expect(pipe(&fds) == 0)
    defer { close(fds[0]); close(fds[1]) }
    let got = Mutex<[UInt8]>([])
    let read = WaitGroup(count: 1)
    let (r, w) = (fds[0], fds[1])
    loop.execute {
        loop.watch(r, for: .readable) { events in
            precondition(events.contains(.readable))
            var byte: UInt8 = 0
            guard Glibc.read(r, &byte, 1) == 1 else { return }
            got.withLock { $0.append(byte) }
            if byte == 3 {
                loop.unwatch(r)
                read.leave()
            }
        }
    }
    var bytes: [UInt8] = [1, 2, 3, 4]
    #expect(write(w, &bytes, 4) == 4)
    await read.wait(atMost: .seconds(5))
    try await Task.sleep(for: .milliseconds(50))
    #expect(got.withLock { $0 } == [1, 2, 3], "level-triggered: each byte read in its own call, none after unwatch")
}

@Test func timersFireByDeadlineAndACancelledOneNever() async throws {
    let loop = try IOLoop(name: "test-loop")
    defer { loop.stop() }
    let fired = Mutex<[String]>([])
    let done = WaitGroup(count: 1)
    loop.execute {
        loop.schedule(in: .milliseconds(60)) {
            fired.withLock { $0.append("late") }
            done.leave()
        }
        let cancelled = loop.schedule(in: .milliseconds(30)) { fired.withLock { $0.append("cancelled") } }
        loop.schedule(in: .milliseconds(10)) {
            fired.withLock { $0.append("early") }
            loop.schedule(in: .milliseconds(5)) { fired.withLock { $0.append("added by a timer") } }
        }
        loop.cancel(cancelled)
    }
    await done.wait(atMost: .seconds(5))
    #expect(fired.withLock { $0 } == ["early", "added by a timer", "late"])
}

@Test func aStoppedLoopHandsLaterWorkToThePool() async throws {
    let loop = try IOLoop(name: "test-loop")
    loop.stop()
    try await Task.sleep(for: .milliseconds(50))
    let done = WaitGroup(count: 1)
    loop.execute { done.leave() }
    await done.wait(atMost: .seconds(5))
    let ran = await withTaskExecutorPreference(loop) { () async -> Bool in true }
    #expect(ran, "a task that prefers an ended loop still finishes")
}

@Test func aGroupPlacesWorkOnItsLeastLoadedLoop() throws {
    let group = try IOLoopGroup(count: 3, name: "test-group")
    defer { group.stop() }
    let first = group.leastLoaded()
    first.pin()
    let second = group.leastLoaded()
    #expect(second !== first)
    second.pin()
    let third = group.leastLoaded()
    #expect(third !== first && third !== second)
    first.unpin()
    #expect(group.leastLoaded() === first)
}
