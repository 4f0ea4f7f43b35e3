// The handshake state machines without sockets: every way a hello is answered, and what a client makes of the answer.
import Testing
@testable import SwiftMateCore

private func relayHandshake() -> RelayHandshake {
    RelayHandshake(protocolVersion: 1, codecs: ["lz4", "none"], handshakesPerAddress: 32)
}

private func refusal(_ action: RelayHandshake.Action) -> (RefusalCode, String, Bool)? {
    if case .refuse(let code, let reason, let delay, _) = action { return (code, reason, delay) }
    return nil
}

@Test func aHostWithACommonCodecIsCheckedThenOpensASession() {
    var h = relayHandshake()
    let hello = Hello(role: .host, codecs: ["zlib", "none", "lz4"], cols: 80, rows: 24)
    #expect(h.received(.hello(hello)) == .checkHost(hello))
    #expect(h.hostChecked(admitted: true) == .openSession(hello, codec: "none"), "the host's order wins among the relay's codecs")
    #expect(h.hostChecked(admitted: true) == .close(log: "handshake: a host check in the wrong state"), "one answer per question")
}

@Test func anUnlistedHostIsRefusedAfterTheDelayWithWhatToDo() throws {
    var h = relayHandshake()
    _ = h.received(.hello(Hello(role: .host, codecs: ["none"], cols: 80, rows: 24)))
    let (code, reason, delay) = try #require(refusal(h.hostChecked(admitted: false)))
    #expect(code == .notAllowed && delay)
    #expect(reason.contains("relay.hosts.authorized_keys") && reason.contains("-k KEY"))
}

@Test func aViewersTokenIsLookedUpAndItsKeyChecked() throws {
    let hello = Hello(role: .viewer, codecs: ["lz4"], token: "TOKEN", cols: 100, rows: 30)
    var joining = relayHandshake()
    #expect(joining.received(.hello(hello)) == .lookUpToken("TOKEN"))
    #expect(joining.tokenLookedUp(found: true, keyAdmitted: true) == .join(hello, codec: "lz4"))

    var unknown = relayHandshake()
    _ = unknown.received(.hello(hello))
    let (code, reason, delay) = try #require(refusal(unknown.tokenLookedUp(found: false, keyAdmitted: true)))
    #expect(code == .invalidToken && delay && reason == "Invalid or expired session token", "a wrong token learns nothing more")

    var keyless = relayHandshake()
    _ = keyless.received(.hello(hello))
    let (keyCode, keyReason, keyDelay) = try #require(refusal(keyless.tokenLookedUp(found: true, keyAdmitted: false)))
    #expect(keyCode == .invalidToken && keyDelay && keyReason.contains("listed SSH keys"))
}

@Test func badFirstFramesAreRefusedAtOnceSayingWhy() throws {
    var version = relayHandshake()
    let (vCode, vReason, vDelay) = try #require(refusal(version.received(.hello(Hello(protocolVersion: 9, role: .host, codecs: ["none"], cols: 80, rows: 24)))))
    #expect(vCode == .protocolVersion && !vDelay && vReason.contains("protocol version 9") && vReason.contains("upgrade"))

    var codec = relayHandshake()
    let (cCode, cReason, _) = try #require(refusal(codec.received(.hello(Hello(role: .viewer, codecs: ["lz5"], token: "T", cols: 80, rows: 24)))))
    #expect(cCode == .noCommonCodec && cReason == "no common codec: offered lz5; this relay allows lz4, none")

    var notHello = relayHandshake()
    #expect(refusal(notHello.received(.keepalive(millis: 1)))?.0 == .badRequest)

    var closed = relayHandshake()
    #expect(closed.received(nil) == .close(log: "closed before its hello"))

    var big = relayHandshake()
    let (bCode, bReason, _) = try #require(refusal(big.failed(SwiftMateError(.frameTooLarge, "frame of 9999999 bytes"))))
    #expect(bCode == .badRequest && bReason == "bad hello: frame of 9999999 bytes")

    var flood = relayHandshake()
    #expect(refusal(flood.failed(SwiftMateError(.overloaded, "the relay holds too much")))?.0 == .overloaded)
    var crowd = relayHandshake()
    let (crowdCode, crowdReason, _) = try #require(refusal(crowd.tooManyFromAddress()))
    #expect(crowdCode == .overloaded && crowdReason.contains("limit 32"))
    #expect(crowd.received(.hello(Hello(role: .host, codecs: ["none"], cols: 80, rows: 24))) == .close(log: "handshake: a second hello in the wrong state"))
}

@Test func aClientReadsTheRelaysAnswer() throws {
    let handshake = ClientHandshake(hello: Hello(role: .viewer, codecs: ["none"], token: "T", cols: 80, rows: 24))
    let welcome = Welcome(codec: "none", sessionID: "S", readOnly: true)
    #expect(try handshake.answer(.welcome(welcome)) == welcome)
    #expect(throws: SwiftMateError(.refused, "Invalid or expired session token")) {
        try handshake.answer(.refused(code: .invalidToken, reason: "Invalid or expired session token"))
    }
    #expect(throws: SwiftMateError(.connectionLost, "the relay closed the connection during the handshake")) { try handshake.answer(nil) }
    #expect(throws: SwiftMateError(.protocolViolation, "the relay answered hello with something other than welcome")) {
        try handshake.answer(.keepalive(millis: 5))
    }
}
