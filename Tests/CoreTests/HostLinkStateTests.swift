// The host link's state machine without sockets: what relay messages ask of the host, and retrying with backoff.
import Testing
@testable import SwiftMateCore

@Test func relayMessagesBecomeTheHostsActions() {
    #expect(HostLinkState.received(.input(viewer: 2, bytes: [0x6c])) == [.writeToCommand(viewer: 2, bytes: [0x6c])])
    let viewer = ViewerDescription(id: 3, readOnly: true, peer: "10.0.0.9:5000", transport: "ssh", key: "SHA256:abc")
    #expect(HostLinkState.received(.viewerJoined(viewer, count: 2))
            == [.viewerJoined(viewer, count: 2)])
    #expect(HostLinkState.joinedLine(viewer, count: 2) == "a mate has joined (10.0.0.9:5000, read-only) -- 2 connected")
    #expect(HostLinkState.received(.joinRequest(viewer))
            == [.joinRequested(viewer), .say("mate #3 asks to join: Ctrl-] y lets in, Ctrl-] n turns away -- ssh 10.0.0.9:5000, "
                                             + "read-only, key SHA256:abc (or swiftmate approve 3 / deny 3)")])
    #expect(HostLinkState.received(.viewerLeft(viewer: 3, reason: "disconnected", count: 1))
            == [.viewerLeft(viewer: 3, reason: "disconnected"), .say("a mate has left -- 1 connected")])
    #expect(HostLinkState.received(.keyframeRequest) == [.sendKeyframe])
    #expect(HostLinkState.received(.goodbye(reason: "relay shutting down", exitStatus: -1)) == [.lost("the relay closed the session: relay shutting down")])
    #expect(HostLinkState.received(.keepalive(millis: 1)).isEmpty)
}

@Test func aLostLinkIsRetriedWithADoublingDelayThatResetsOnceTheRelayWasReached() {
    var link = HostLinkState(relay: "tcp://r:7022", reconnect: true, initialDelay: 0.5)
    let unreachable = HostLinkState.Attempt.failed("cannot reach relay r:7022: connection refused")
    #expect(link.ended(unreachable, reached: false, finished: false, cancelled: false)
            == .retry(seconds: 0.5, line: "cannot reach relay r:7022: connection refused; retrying in 0.5 s"))
    #expect(link.ended(unreachable, reached: false, finished: false, cancelled: false) == .retry(seconds: 1, line: "cannot reach relay r:7022: connection refused; retrying in 1 s"))
    for _ in 0..<6 { _ = link.ended(unreachable, reached: false, finished: false, cancelled: false) }
    #expect(link.delay == 10, "the delay stops doubling at 10 s")
    #expect(link.ended(.closed, reached: true, finished: false, cancelled: false)
            == .retry(seconds: 0.5, line: "lost the relay tcp://r:7022: the relay closed the link; reconnecting in 0.5 s (the shell goes on)"),
            "a link that was made starts the backoff again")
}

@Test func refusalsTheEndAndNoReconnectStopTheLink() {
    var link = HostLinkState(relay: "ssh://r:22", reconnect: true, initialDelay: 1)
    #expect(link.ended(.delivered, reached: true, finished: true, cancelled: false) == .done)
    #expect(link.ended(.refused("Invalid"), reached: true, finished: false, cancelled: false)
            == .refused(reason: "Invalid", text: "the relay refused the session: Invalid"))
    #expect(link.ended(.refused("the relay's key is not pinned"), reached: false, finished: false, cancelled: false)
            == .refused(reason: "the relay's key is not pinned", text: "the relay's key is not pinned"))
    #expect(link.ended(.closed, reached: true, finished: true, cancelled: false) == .stop(note: nil), "at the session's end a closing relay is no news")
    var once = HostLinkState(relay: "ssh://r:22", reconnect: false, initialDelay: 1)
    #expect(once.ended(.failed("broken pipe"), reached: true, finished: false, cancelled: false) == .stop(note: "lost the relay ssh://r:22: broken pipe"))
    #expect(link.ended(.closed, reached: true, finished: false, cancelled: true) == .stop(note: "lost the relay ssh://r:22: the relay closed the link"))
}

@Test func aRelayThatCannotBeReachedIsFollowedAtOnceByTheNextAndTheWaitComesAfterAll() {
    var link = HostLinkState(relay: "tcp://a:1", fallbacks: ["tcp://b:1", "tcp://c:1"], reconnect: true, initialDelay: 0.5)
    let refused = HostLinkState.Attempt.failed("cannot reach relay: connection refused")
    #expect(link.ended(refused, reached: false, finished: false, cancelled: false)
            == .retry(seconds: 0, line: "cannot reach relay: connection refused; trying tcp://b:1"))
    #expect(link.current == 1)
    #expect(link.ended(refused, reached: false, finished: false, cancelled: false)
            == .retry(seconds: 0, line: "cannot reach relay: connection refused; trying tcp://c:1"))
    #expect(link.ended(refused, reached: false, finished: false, cancelled: false)
            == .retry(seconds: 0.5, line: "cannot reach relay: connection refused; retrying in 0.5 s"), "all three tried: now the wait")
    #expect(link.current == 0)
    #expect(link.ended(refused, reached: false, finished: false, cancelled: false).isImmediate)
    // b took the session and lost it: b again first (after the wait), then the others at once.
    #expect(link.ended(.closed, reached: true, finished: false, cancelled: false)
            == .retry(seconds: 0.5, line: "lost the relay tcp://b:1: the relay closed the link; reconnecting in 0.5 s (the shell goes on)"))
    #expect(link.current == 1)
    #expect(link.ended(refused, reached: false, finished: false, cancelled: false).isImmediate && link.current == 2)
    #expect(link.ended(refused, reached: false, finished: false, cancelled: false).isImmediate && link.current == 0)
    #expect(!link.ended(refused, reached: false, finished: false, cancelled: false).isImmediate && link.current == 1)
}

extension HostLinkState.Next {
    fileprivate var isImmediate: Bool { if case .retry(0, _) = self { true } else { false } }
}
