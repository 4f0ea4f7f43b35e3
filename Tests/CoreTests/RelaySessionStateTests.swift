// The relay session's state machine without queues or sockets: joins, fan-out, input, overflow, keyframes, the end.
import Testing
@testable import SwiftMateCore

private typealias Action = RelaySessionState.Action

private func session(tailBytes: Int = 1 << 16, maxViewers: Int = 10) -> RelaySessionState {
    RelaySessionState(id: "S", cols: 80, rows: 24, tailBytes: tailBytes, maxViewers: maxViewers)
}

/// A viewer joins; fails the test if it may not.
private func join(_ s: inout RelaySessionState, readOnly: Bool, peer: String, cols: UInt16 = 80, rows: UInt16 = 24,
                  link: ViewerLink = .framed) throws -> (RelaySessionState.Member, [Action]) {
    let joined = s.join(readOnly: readOnly, peer: peer, cols: cols, rows: rows, link: link)
    return try #require(joined)
}

private func toViewer(_ actions: [Action], _ id: UInt32) -> [Message] {
    actions.compactMap {
        switch $0 {
        case .toViewer(id, let m), .output(viewer: id, let m): m
        default: nil
        }
    }
}

@Test func aJoinerIsCaughtUpAndTheHostHearsOfItAndOfItsSizeIfItMayType() throws {
    var s = session()
    _ = try s.hostOutput(seq: 0, bytes: Array("hello".utf8))
    let (rw, joined) = try join(&s, readOnly: false, peer: "a", cols: 100, rows: 30, link: .framed)
    #expect(toViewer(joined, rw.id) == [.resize(viewer: 0, cols: 80, rows: 24), .keyframe(Keyframe(seq: 0, cols: 80, rows: 24, bytes: [0x1b, 0x63])),
                                        .output(seq: 0, bytes: Array("hello".utf8))],
            "the session's size, a reset, then everything since the start (no keyframe yet)")
    #expect(joined.contains(.toHost(.viewerJoined(ViewerDescription(id: rw.id, readOnly: false, peer: "a"), count: 1))))
    #expect(joined.contains(.toHost(.resize(viewer: rw.id, cols: 100, rows: 30))), "a read-write viewer's size counts")
    let (ro, roJoined) = try join(&s, readOnly: true, peer: "b", cols: 90, rows: 20, link: .terminal)
    #expect(!roJoined.contains { if case .toHost(.resize) = $0 { true } else { false } }, "a read-only viewer never resizes the session")
    #expect(ro.id == rw.id + 1)
}

@Test func outputGoesToEveryViewerInOrderAndToTheFrontends() throws {
    var s = session()
    let (a, _) = try join(&s, readOnly: false, peer: "a", cols: 80, rows: 24, link: .framed)
    let (b, _) = try join(&s, readOnly: true, peer: "b", cols: 80, rows: 24, link: .terminal)
    let actions = try s.hostOutput(seq: 0, bytes: [1, 2, 3])
    #expect(actions == [.publish(.output(seq: 0, bytes: [1, 2, 3])), .output(viewer: a.id, .output(seq: 0, bytes: [1, 2, 3])),
                        .output(viewer: b.id, .output(seq: 0, bytes: [1, 2, 3]))])
    #expect(s.seq == 3)
    #expect(throws: SwiftMateError.self, "an offset that goes back is a broken host") { try s.hostOutput(seq: 1, bytes: [9]) }
    #expect(throws: SwiftMateError.self) { try s.hostResized(cols: 0, rows: 24) }
    #expect(throws: SwiftMateError.self) { try s.hostKeyframe(Keyframe(seq: 3, cols: 80, rows: 0, bytes: [])) }
}

@Test func onlyReadWriteViewersTypeAndTerminalViewersHearTheirOwnSize() throws {
    var s = session()
    let (rw, _) = try join(&s, readOnly: false, peer: "a", cols: 80, rows: 24, link: .terminal)
    let (ro, _) = try join(&s, readOnly: true, peer: "b", cols: 80, rows: 24, link: .framed)
    #expect(s.input(from: rw.id, bytes: [0x61]) == [.publish(.input(viewer: rw.id, bytes: [0x61])), .inputToHost(viewer: rw.id, bytes: [0x61])])
    #expect(s.input(from: ro.id, bytes: [0x61]).isEmpty)
    #expect(s.input(from: 99, bytes: [0x61]).isEmpty, "a viewer that left types no more")
    #expect(s.viewerResized(rw.id, cols: 70, rows: 20) == [.toViewer(rw.id, .resize(viewer: rw.id, cols: 70, rows: 20)),
                                                          .toHost(.resize(viewer: rw.id, cols: 70, rows: 20))])
    #expect(s.viewerResized(ro.id, cols: 70, rows: 20).isEmpty, "a read-only join client's size is its own affair")
}

@Test func aViewerThatFellBehindIsRepaintedFromTheKeyframeAndTheOutputSince() throws {
    var s = session()
    let (v, _) = try join(&s, readOnly: true, peer: "a", cols: 80, rows: 24, link: .framed)
    _ = try s.hostOutput(seq: 0, bytes: Array("old".utf8))
    let frame = Keyframe(seq: 3, cols: 80, rows: 24, bytes: Array("\u{1b}cold".utf8))
    _ = try s.hostKeyframe(frame)
    _ = try s.hostOutput(seq: 3, bytes: Array("new".utf8))
    let repaint = s.viewerOverflowed(v.id, dropped: 1000)
    #expect(toViewer(repaint, v.id) == [.resize(viewer: 0, cols: 80, rows: 24), .keyframe(frame), .output(seq: 3, bytes: Array("new".utf8))])
    #expect(s.viewerOverflowed(42, dropped: 1).isEmpty)
}

@Test func aJoinerWithOnlyRecentOutputAsksForAKeyframeAndIsRepaintedWhenItComes() throws {
    var s = session(tailBytes: 8)
    // Past the tail without a keyframe: the relay asks the host, and keeps only recent output.
    var asked = false
    var seq: UInt64 = 0
    for _ in 0..<40 {
        let actions = try s.hostOutput(seq: seq, bytes: Array("line\r\n".utf8))
        asked = asked || actions.contains(.toHost(.keyframeRequest))
        seq += 6
    }
    #expect(asked)
    let (v, _) = try join(&s, readOnly: true, peer: "a", cols: 80, rows: 24, link: .framed)
    let frame = Keyframe(seq: seq, cols: 80, rows: 24, bytes: Array("\u{1b}cscreen".utf8))
    #expect(toViewer(try s.hostKeyframe(frame), v.id).contains(.keyframe(frame)), "the waiting joiner is repainted")
}

@Test func theEndSaysGoodbyeToEveryViewerOnceAndAdmitsNoOneAfter() throws {
    var s = session(maxViewers: 2)
    let (a, _) = try join(&s, readOnly: false, peer: "a", cols: 80, rows: 24, link: .framed)
    let (b, _) = try join(&s, readOnly: true, peer: "b", cols: 80, rows: 24, link: .framed)
    #expect(s.join(readOnly: true, peer: "c", cols: 80, rows: 24, link: .framed) == nil, "past the viewer limit")
    #expect(s.leave(b.id, reason: "bye") == [.closeViewer(b.id), .toHost(.viewerLeft(viewer: b.id, reason: "bye", count: 1)),
                                             .publish(.viewerLeft(viewer: b.id, reason: "bye")), .log("viewer \(b.id) left session S: bye")])
    #expect(s.leave(b.id, reason: "again").isEmpty)
    #expect(s.end(reason: "done", exitStatus: 0) == [.toViewer(a.id, .goodbye(reason: "done", exitStatus: 0)), .closeViewer(a.id)])
    #expect(s.end(reason: "done", exitStatus: 0) == nil)
    #expect(s.join(readOnly: false, peer: "d", cols: 80, rows: 24, link: .framed) == nil)
}

@Test func viewersThatMissedOutputTheHostSkippedAreRepaintedFromTheNextKeyframe() throws {
    var s = session()
    let (v, _) = try join(&s, readOnly: true, peer: "v")
    _ = try s.hostOutput(seq: 0, bytes: Array("abc".utf8))
    // The host skipped 97 bytes (its ring or queue overflowed while the relay was away).
    let after = try s.hostOutput(seq: 100, bytes: Array("xyz".utf8))
    #expect(toViewer(after, v.id) == [.output(seq: 100, bytes: Array("xyz".utf8))])
    #expect(after.contains(.toHost(.keyframeRequest)), "the host is asked for a keyframe")
    let k = Keyframe(seq: 103, cols: 80, rows: 24, bytes: Array("\u{1b}cSCREEN".utf8))
    let repaint = try s.hostKeyframe(k)
    #expect(toViewer(repaint, v.id) == [.resize(viewer: 0, cols: 80, rows: 24), .keyframe(k)], "\(repaint)")
    // Output without a gap repaints nobody.
    _ = try s.hostOutput(seq: 103, bytes: [0x21])
    #expect(toViewer(try s.hostKeyframe(Keyframe(seq: 104, cols: 80, rows: 24, bytes: [0x1b, 0x63])), v.id).isEmpty)
}

@Test func aViewerThatCameBackAheadOfARestartedRelayIsNotRepaintedForOutputItHas() throws {
    // A restarted relay (nothing yet); a join client comes back having shown output up to 500.
    var s = session()
    let cameBack = s.join(readOnly: true, peer: "back", cols: 80, rows: 24, link: .framed, resumeFrom: 500)
    let (back, _) = try #require(cameBack)
    let (fresh, _) = try join(&s, readOnly: true, peer: "fresh")
    // The host sends again from 400 (what the old relay had not acknowledged): no loss to the one that has it all,
    // a loss to the one that joined with nothing.
    let again = try s.hostOutput(seq: 400, bytes: [UInt8](repeating: 0x61, count: 200))
    #expect(again.contains(.toHost(.keyframeRequest)))
    let repaint = try s.hostKeyframe(Keyframe(seq: 600, cols: 80, rows: 24, bytes: [0x1b, 0x63]))
    #expect(toViewer(repaint, back.id).isEmpty, "it has everything: its bytes stay the host's own")
    #expect(toViewer(repaint, fresh.id).contains(.keyframe(Keyframe(seq: 600, cols: 80, rows: 24, bytes: [0x1b, 0x63]))))
}
