// Joiners the host approves: the relay holds a viewer back until the host answers; the host's answer keys; a whole
// host ⇄ relay ⇄ viewers run in memory.
import Testing
@testable import SwiftMateCore
import SwiftMateTestSupport

private typealias Action = RelaySessionState.Action

private func viewerMessages(_ actions: [Action], _ id: UInt32) -> [Message] {
    actions.compactMap {
        switch $0 {
        case .toViewer(id, let m), .output(viewer: id, let m): m
        default: nil
        }
    }
}

/// What `join` gives; fails the test when the session takes no more viewers.
private func joined(_ s: inout RelaySessionState,
                    _ join: (inout RelaySessionState) -> (RelaySessionState.Member, [Action])?) throws -> (RelaySessionState.Member, [Action]) {
    try #require(join(&s))
}

private func hostMessages(_ actions: [Action]) -> [Message] {
    actions.compactMap { if case .toHost(let m) = $0 { m } else { nil } }
}

@Test func aWaitingViewerGetsNoByteOfTheSessionUntilTheHostLetsItIn() throws {
    var s = RelaySessionState(id: "S", cols: 80, rows: 24, tailBytes: 1 << 16, maxViewers: 3, approveJoiners: true)
    _ = try s.hostOutput(seq: 0, bytes: Array("secret".utf8))
    let (v, joined) = try joined(&s) {
        $0.join(readOnly: true, peer: "10.0.0.5:4000", transport: "ssh", key: "SHA256:k", cols: 100, rows: 30, link: .terminal)
    }
    #expect(viewerMessages(joined, v.id) == [.notice(JoinApproval.waitingLine)], "only the line saying it waits")
    let described = ViewerDescription(id: v.id, readOnly: true, peer: "10.0.0.5:4000", transport: "ssh", key: "SHA256:k")
    #expect(hostMessages(joined) == [.joinRequest(described)], "the host is asked, and hears of no join yet")
    // Output, sizes and typing pass it by.
    #expect(viewerMessages(try s.hostOutput(seq: 6, bytes: Array(" more".utf8)), v.id).isEmpty)
    #expect(viewerMessages(try s.hostResized(cols: 90, rows: 20), v.id).isEmpty)
    #expect(s.input(from: v.id, bytes: [0x61]).isEmpty)
    #expect(s.viewerResized(v.id, cols: 120, rows: 40).isEmpty)
    // A resumed host is asked again.
    #expect(hostMessages(s.hostBack()).contains(.joinRequest(described)))
    // Let in: caught up as any joiner, and now the host hears of the join.
    let admitted = try s.host(.admit(viewer: v.id)) ?? []
    let shown = viewerMessages(admitted, v.id)
    #expect(shown.first == .resize(viewer: 0, cols: 90, rows: 20))
    #expect(shown.contains(.output(seq: 0, bytes: Array("secret more".utf8))), "\(shown)")
    #expect(hostMessages(admitted).contains(.viewerJoined(described, count: 1)))
    #expect(viewerMessages(try s.hostOutput(seq: 11, bytes: [0x21]), v.id) == [.output(seq: 11, bytes: [0x21])])
    #expect(try s.host(.admit(viewer: v.id)) == [], "a second answer changes nothing")
}

@Test func theHostTurnsAWaitingViewerAwayOrRemovesOneThatJoined() throws {
    var s = RelaySessionState(id: "S", cols: 80, rows: 24, tailBytes: 1 << 16, maxViewers: 2, approveJoiners: true)
    let (a, _) = try joined(&s) { $0.join(readOnly: false, peer: "a", cols: 80, rows: 24, link: .framed) }
    let (b, _) = try joined(&s) { $0.join(readOnly: false, peer: "b", cols: 80, rows: 24, link: .framed) }
    #expect(s.join(readOnly: false, peer: "c", cols: 80, rows: 24, link: .framed) == nil, "waiting viewers count towards the limit")
    let denied = try s.host(.kick(viewer: a.id, reason: "not today")) ?? []
    #expect(viewerMessages(denied, a.id) == [.goodbye(reason: "the host did not let you in: not today", exitStatus: Message.removedStatus)])
    #expect(denied.contains(.closeViewer(a.id)))
    #expect(!denied.contains { if case .publish = $0 { true } else { false } }, "the recording never saw it join")
    _ = try s.host(.admit(viewer: b.id))
    let removed = try s.host(.kick(viewer: b.id, reason: "")) ?? []
    #expect(viewerMessages(removed, b.id) == [.goodbye(reason: "the host removed you from the session", exitStatus: Message.removedStatus)])
    #expect(removed.contains(.closeViewer(b.id)) && removed.contains(.publish(.viewerLeft(viewer: b.id, reason: "removed by the host"))))
    #expect(hostMessages(removed) == [.viewerLeft(viewer: b.id, reason: "removed by the host", count: 0)])
    #expect(s.members.isEmpty && s.waiting.isEmpty)
    // One that gives up waiting: the host drops its question.
    let (c, _) = try joined(&s) { $0.join(readOnly: true, peer: "c", cols: 80, rows: 24, link: .terminal) }
    #expect(hostMessages(s.leave(c.id, reason: "disconnected")) == [.viewerLeft(viewer: c.id, reason: "disconnected", count: 0)])
    // Without approval nobody waits.
    var open = RelaySessionState(id: "T", cols: 80, rows: 24, tailBytes: 1 << 16, maxViewers: 2)
    let (d, joined) = try joined(&open) { $0.join(readOnly: true, peer: "d", cols: 80, rows: 24, link: .framed) }
    #expect(!viewerMessages(joined, d.id).contains(.notice(JoinApproval.waitingLine)) && open.members[d.id] != nil)
}

@Test func theHostsAnswerKeysAreCtrlBracketThenYOrN() {
    var keys = ApprovalKeys()
    #expect(keys.typed([0x1d, 0x79]) == ([0x1d, 0x79], []), "with no one waiting every key goes to the command")
    keys.waitingChanged([4, 7])
    #expect(keys.typed(Array("ls\r".utf8)) == (Array("ls\r".utf8), []))
    #expect(keys.typed([0x61, 0x1d, 0x79, 0x62]) == ([0x61, 0x62], [.admit(4)]))
    #expect(keys.typed([0x1d]) == ([], []), "the prefix alone waits for the next key")
    #expect(keys.typed([0x4e]) == ([], [.deny(7)]), "split across reads; the next in line")
    keys.waitingChanged([9])
    #expect(keys.typed([0x1d, 0x1d]) == ([0x1d], []), "Ctrl-] twice types one")
    #expect(keys.typed([0x1d, 0x71]) == ([0x1d, 0x71], []), "Ctrl-] then another key types both")
    #expect(keys.waiting == [9])
}

@Test func aHostThatApprovesJoinersLetsOneInAndTurnsAnotherAway() async throws {
    let h = try await Harness()
    let hostTerminal = RecordingHostTerminal(), status = HostStatus()
    var options = HostOptions(relay: h.endpoint)
    options.codecs = ["none"]
    options.reconnect = false
    options.sessionOptions[JoinApproval.option] = "true"
    let host = HostClient(transport: h.transport, registry: h.registry, options: options, terminal: hostTerminal, status: status)
    Task { await host.run(size: { (80, 24) }) }
    #expect(await status.waitReady(timeout: .seconds(10)))
    host.upstream.push(.output(seq: 0, bytes: Array("shared-screen\r\n".utf8)))
    let ro = await h.token(status, readOnly: true)

    let first = RecordingViewerTerminal(), second = RecordingViewerTerminal()
    let (input, typing) = AsyncStream<[UInt8]>.makeStream()
    let firstTask = h.join(token: ro, terminal: first, input: input)
    let secondTask = h.join(token: ro, terminal: second, input: AsyncStream { _ in })
    #expect(await eventually { hostTerminal.waiting.withLock { $0.count } == 2 }, "the host's terminal is asked about both")
    let waiting = await status.waitingViewers()
    #expect(waiting.count == 2 && waiting.allSatisfy { $0.readOnly && $0.waiting })
    #expect(hostTerminal.messages.withLock { $0 }.contains { $0.contains("asks to join: Ctrl-] y lets in") })
    try await Task.sleep(for: .milliseconds(100))
    #expect(!first.text.contains("shared-screen") && !second.text.contains("shared-screen"), "no byte before the answer")

    host.upstream.pushAlways(.admit(viewer: waiting[0].id))
    host.upstream.pushAlways(.kick(viewer: waiting[1].id, reason: "who are you?"))
    #expect(await eventually { first.text.contains("shared-screen") }, "\(first.text)")
    #expect(first.standing.withLock { $0 } == [JoinApproval.waitingLine, nil], "the waiting line stays until the session comes")
    let turnedAway = try await secondTask.value
    #expect(turnedAway.removed && turnedAway.reason == "the host did not let you in: who are you?", "\(turnedAway)")
    #expect(!second.text.contains("shared-screen"))
    #expect(await eventually { await status.current().viewers.map(\.waiting) == [false] }, "one viewer, watching")
    #expect(hostTerminal.waiting.withLock { $0.isEmpty })

    // Removing the one let in: it is told, and the session goes on.
    host.upstream.pushAlways(.kick(viewer: waiting[0].id, reason: ""))
    let removed = try await firstTask.value
    #expect(removed.removed && removed.reason == "the host removed you from the session")
    #expect(await eventually { await status.current().viewers.isEmpty })
    #expect(await h.relay.sessionCount == 1)
    typing.finish()
    host.finish(exitStatus: 0)
    await h.stop()
}

@Test func anOlderRelaysViewerJoinedWithoutTransportAndKeyStillDecodes() throws {
    // [6, 3, true, "p", 2]: the five fields relays sent before transport and key.
    let older: [UInt8] = [0x95, 0x06, 0x03, 0xc3, 0xa1, UInt8(ascii: "p"), 0x02]
    #expect(try Message.decode(older) == .viewerJoined(ViewerDescription(id: 3, readOnly: true, peer: "p"), count: 2))
}
