// The frontend fan-out: order, isolation of a slow or failing frontend, overflow markers, finish.
import Testing
import Synchronization
import SwiftMateCore
import SwiftMateTestSupport

/// A frontend that fails on its `n`th event.
private final class FailingFrontend: Frontend {
    init(failAt: Int) { self.failAt = failAt }
    let failAt: Int
    let seen = Mutex(0)
    var name: String { "failing" }
    func attach(injector: any InputInjector) async throws {}
    func handle(_ event: SessionEvent) async throws {
        let n = seen.withLock { $0 += 1; return $0 }
        if n >= failAt { throw SwiftMateError(.system, "disk full") }
    }
}

/// A frontend that blocks in `handle` until released.
private final class StuckFrontend: Frontend {
    let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
    let released = Mutex(false)
    let store = Mutex<[SessionEvent]>([])
    var events: [SessionEvent] { store.withLock { $0 } }
    var name: String { "stuck" }
    func attach(injector: any InputInjector) async throws {}
    func handle(_ event: SessionEvent) async throws {
        if !released.withLock({ $0 }) {
            await withCheckedContinuation { c in gate.withLock { $0 = c } }
        }
        store.withLock { $0.append(event) }
    }
    func release() {
        released.withLock { $0 = true }
        gate.withLock { $0.take() }?.resume()
    }
}

private func output(_ seq: UInt64, _ text: String) -> SessionEvent { .output(seq: seq, bytes: Array(text.utf8)) }

@Test func everyFrontendGetsEveryEventInOrderAndAFailingOneIsDetached() async throws {
    let reports = Mutex<[String]>([])
    let hub = FrontendHub(report: { text in reports.withLock { $0.append(text) } })
    let a = MemoryFrontend(), b = MemoryFrontend()
    hub.start([a, FailingFrontend(failAt: 2), b], injector: ClosureInjector { _ in })
    let events: [SessionEvent] = [
        .start(SessionInfo(sessionID: "s", cols: 80, rows: 24, command: ["sh"])),
        output(0, "hello "), .resize(cols: 100, rows: 30), output(6, "world"),
        .viewerJoined(viewer: 1, readOnly: true, peer: "p"), .input(viewer: 1, bytes: [0x61]),
    ]
    for event in events { hub.publish(event) }
    await hub.finish(exitStatus: 3)
    #expect(a.events == events + [.end(exitStatus: 3)])
    #expect(b.events == a.events)
    #expect(hub.detached == ["failing"])
    #expect(reports.withLock { $0 }.contains { $0.contains("frontend 'failing' failed and was detached") && $0.contains("disk full") })
}

@Test func aStuckFrontendNeitherBlocksPublishNorOthersAndLearnsWhatWasDropped() async throws {
    let hub = FrontendHub(queueBytes: 256 << 10)
    let stuck = StuckFrontend(), memory = MemoryFrontend()
    hub.start([stuck, memory], injector: ClosureInjector { _ in })
    let chunk = [UInt8](repeating: 0x41, count: 4096)
    var seq: UInt64 = 0
    for _ in 0..<256 { // 1 MiB through 256 KiB queues: publish must not wait for the stuck frontend
        hub.publish(.output(seq: seq, bytes: chunk))
        seq += UInt64(chunk.count)
        // 32 KiB per 2 ms: a frontend that reads keeps up; the stuck one overflows.
        if seq % (32 << 10) == 0 { try? await Task.sleep(for: .milliseconds(2)) }
    }
    #expect(await eventually(30) { memory.events.count == 256 })
    stuck.release()
    await hub.finish(exitStatus: 0)
    let markers = stuck.events.compactMap { if case .marker(let m) = $0 { m } else { nil } }
    #expect(markers.contains { $0.contains("fell behind") && $0.contains("bytes of events were dropped") })
    #expect(stuck.events.last == .end(exitStatus: 0))
    #expect(memory.events.count == 257)
}

@Test(.timeLimit(.minutes(1))) func finishGivesUpOnAFrontendThatNeverReturns() async throws {
    let hub = FrontendHub()
    let stuck = StuckFrontend()
    hub.start([stuck], injector: ClosureInjector { _ in })
    hub.publish(output(0, "x"))
    await hub.finish(exitStatus: nil, timeout: .milliseconds(200)) // returns although the frontend never does
    stuck.release()
}

@Test func frontendsInjectInputAndHearViewersJoinAndLeave() async throws {
    let h = try await Harness()
    let hostTerminal = FakeHostTerminal()
    let status = HostStatus()
    let hub = FrontendHub()
    let memory = MemoryFrontend()
    hub.start([memory], injector: ClosureInjector { hostTerminal.writeToCommand($0, viewer: 0) })
    _ = h.startHost(hostTerminal, status: status, frontends: hub)
    #expect(await status.waitReady(timeout: .seconds(5)))
    let viewer = FakeViewerTerminal()
    let (input, feed) = AsyncStream<[UInt8]>.makeStream()
    let join = h.join(token: await h.token(status, readOnly: true), terminal: viewer, input: input)
    #expect(await eventually { memory.events.contains { if case .viewerJoined(_, true, _) = $0 { true } else { false } } })
    await memory.type(Array("typed by a frontend".utf8))
    #expect(String(decoding: hostTerminal.typed.withLock { $0 }, as: UTF8.self) == "typed by a frontend")
    feed.finish()
    _ = try? await join.value
    #expect(await eventually { memory.events.contains { if case .viewerLeft = $0 { true } else { false } } })
}
