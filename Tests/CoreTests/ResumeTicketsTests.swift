// Resume tickets: only the host they were given to gets its session back, with the same tokens; forged, expired,
// another host's and ended sessions' tickets are refused with the reason; the key and the ended list survive restarts.
import Foundation
import Testing
@testable import SwiftMateCore
import SwiftMateTestSupport

private func sample(_ issued: UInt64 = UInt64(Date().timeIntervalSince1970)) -> ResumeTicket {
    ResumeTicket(sessionID: "S1d0000000001", readWriteToken: "RwToken0123456789abcdef", readOnlyToken: "RoToken0123456789abcdef",
                 keysDigest: ResumeTickets.digest(""), hostDigest: ResumeTickets.digest("host-secret"), generation: 3, issued: issued)
}

private func reason(_ result: Result<ResumeTicket, SwiftMateError>) -> String? {
    if case .failure(let error) = result { return error.code == .cannotResume ? error.message : "wrong code \(error.code)" }
    return nil
}

@Test func aTicketBringsBackWhatItSaysOnlyForItsHost() throws {
    let book = ResumeTickets()
    let text = book.issue(sample())
    #expect(!text.contains("RwToken"), "the ticket is opaque enough not to show the tokens in plain text")
    #expect(try book.check(text, secret: "host-secret", keys: nil).get() == sample(sample().issued))
    #expect(reason(book.check(text, secret: "another-secret", keys: nil)) == "the resume ticket was given to another host")
    #expect(reason(book.check(text, secret: nil, keys: nil)) == "the resume ticket was given to another host")
    #expect(reason(book.check(text, secret: "host-secret", keys: "ssh-ed25519 AAAA")) == "the session's authorized keys have changed since the ticket was given")
    // Altered anywhere, or signed by another relay: not ours.
    var altered = Array(text)
    altered[10] = altered[10] == "A" ? "B" : "A"
    for forged in [String(altered), ResumeTickets().issue(sample()), "v1.abc.def", "", String(repeating: "x", count: 5000)] {
        #expect(reason(book.check(forged, secret: "host-secret", keys: nil)) == "the resume ticket is not one this relay gave (another relay's, or altered)", "\(forged.prefix(40))")
    }
    // Expired.
    let old = book.issue(sample(1_000))
    #expect(reason(book.check(old, secret: "host-secret", keys: nil)) == "the resume ticket has expired")
    // Ended: no ticket brings the session back.
    book.ended("S1d0000000001")
    #expect(reason(book.check(text, secret: "host-secret", keys: nil)) == "the session has ended")
}

@Test func theKeyAndTheEndedSessionsSurviveARestart() throws {
    let dir = NSTemporaryDirectory() + "swiftmate-tickets-" + UUID().uuidString.prefix(8)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let first = try ResumeTickets(stateDirectory: dir)
    let text = first.issue(sample())
    let mode = try FileManager.default.attributesOfItem(atPath: dir + "/resume.key")[.posixPermissions] as? Int
    #expect(mode == 0o600)
    first.ended("Ended0000001")
    let again = try ResumeTickets(stateDirectory: dir)
    #expect(try again.check(text, secret: "host-secret", keys: nil).get().generation == 3)
    #expect(again.hasEnded("Ended0000001"))
    // A damaged key file is named, with what to do.
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: dir + "/resume.key"))
    #expect(throws: SwiftMateError.self) { try ResumeTickets(stateDirectory: dir) }
}

/// A raw host link saying hello with `options`; the relay's answer.
private func hello(_ h: Harness, _ options: [String: String]) async throws -> (Message?, MessageSender, MessageReceiver) {
    let connection = try await h.transport.connect(to: h.endpoint)
    let sender = MessageSender(connection.outbound), receiver = MessageReceiver(connection)
    try await sender.send(.hello(Hello(role: .host, codecs: ["none"], cols: 80, rows: 24, options: options)))
    return (try await receiver.next(), sender, receiver)
}

@Test func aHostResumesItsSessionWithTheSameTokensAndOnlyThatHostCan() async throws {
    var options = RelayOptions()
    options.resumeTickets = ResumeTickets()
    let h = try await Harness(options: options)
    let (answer, sender, _) = try await hello(h, [ResumeTickets.secretOption: "secret-of-host-a"])
    guard case .welcome(let first)? = answer else { Issue.record("\(String(describing: answer))"); return }
    #expect(!first.ticket.isEmpty)
    // A viewer is there; the host's output reaches it.
    let view = FakeViewerTerminal()
    let (input, typing) = AsyncStream<[UInt8]>.makeStream()
    let viewer = h.join(token: first.readWriteToken, terminal: view, input: input)
    try await sender.send([.output(seq: 0, bytes: Array("before\r\n".utf8))])
    #expect(await eventually { view.text.contains("before") }, "\(view.text)")
    // The link is lost: the session waits for its host, the viewer stays.
    await sender.close()
    try await Task.sleep(for: .milliseconds(100))
    #expect(await h.relay.sessionCount == 1)
    // The host comes back with its ticket: the same session, the same tokens, a new ticket, and where the relay
    // stands; what it sends from there reaches the viewer that stayed.
    let (again, sender2, _) = try await hello(h, [ResumeTickets.secretOption: "secret-of-host-a", ResumeTickets.ticketOption: first.ticket])
    guard case .welcome(let second)? = again else { Issue.record("\(String(describing: again))"); return }
    #expect(second.sessionID == first.sessionID && second.readWriteToken == first.readWriteToken && second.readOnlyToken == first.readOnlyToken)
    #expect(!second.ticket.isEmpty && second.ticket != first.ticket)
    #expect(second.streamOffset == 8)
    try await sender2.send([.output(seq: 8, bytes: Array("resumed-output\r\n".utf8))])
    #expect(await eventually { view.text.contains("resumed-output") }, "\(view.text)")
    #expect(view.text.components(separatedBy: "before").count == 2, "nothing shown twice: \(view.text.debugDescription)")
    typing.finish()
    viewer.cancel()

    // Someone else with the ticket but not the secret, or a forged ticket: refused, the session untouched.
    for (label, secret, text) in [("no secret", "secret-of-host-b", second.ticket), ("forged", "secret-of-host-a", "v1.Zm9v.YmFy")] {
        let (refused, _, _) = try await hello(h, [ResumeTickets.secretOption: secret, ResumeTickets.ticketOption: text])
        guard case .refused(let code, let reason)? = refused else { Issue.record("\(label): \(String(describing: refused))"); continue }
        #expect(code == .cannotResume, "\(label)")
        #expect(reason.contains("another host") || reason.contains("not one this relay gave"), "\(label): \(reason)")
    }
    #expect(await h.relay.sessionCount == 1)

    // The session ends (the command exited): its ticket no longer brings it back.
    try await sender2.send([.goodbye(reason: "exit", exitStatus: 0)])
    #expect(await eventually { await h.relay.sessionCount == 0 })
    let (ended, _, _) = try await hello(h, [ResumeTickets.secretOption: "secret-of-host-a", ResumeTickets.ticketOption: second.ticket])
    guard case .refused(.cannotResume, let reason)? = ended else { Issue.record("\(String(describing: ended))"); return }
    #expect(reason == "the session has ended")
    await h.stop()
}

@Test func aWelcomeCarriesItsTicketAndAnOlderRelaysWelcomeStillReads() throws {
    let welcome = Welcome(codec: "lz4", sessionID: "id", readWriteToken: "rw", readOnlyToken: "ro", connectionStrings: ["a=b"], ticket: "v1.x.y")
    #expect(try Message.decode(Message.welcome(welcome).encoded()) == .welcome(welcome))
    // A relay from before tickets sends seven fields: no ticket.
    let older: [UInt8] = [0x97, 0x01, 0xa3] + Array("lz4".utf8) + [0xa2] + Array("id".utf8) + [0xc2, 0xa2] + Array("rw".utf8)
        + [0xa2] + Array("ro".utf8) + [0x90]
    #expect(try Message.decode(older) == .welcome(Welcome(codec: "lz4", sessionID: "id", readWriteToken: "rw", readOnlyToken: "ro")))
}

@Test func whileTheHostIsAwayViewersStayTheirTypingIsDroppedAndTheHostHearsOfThemWhenBack() throws {
    var state = RelaySessionState(id: "s", cols: 80, rows: 24, tailBytes: 1 << 16, maxViewers: 10)
    _ = try state.hostOutput(seq: 0, bytes: Array("x\r\n".utf8))
    let joined = state.join(readOnly: false, peer: "v", cols: 90, rows: 30, link: .framed)
    let (viewer, _) = try #require(joined)
    let away = state.hostAway()
    #expect(away.contains(.toViewer(viewer.id, .notice("swiftmate: the host's link is lost; waiting for it to come back"))))
    #expect(state.hostAway().isEmpty, "told once")
    #expect(!state.input(from: viewer.id, bytes: [0x61]).contains { if case .inputToHost = $0 { true } else { false } })
    let back = state.hostBack()
    #expect(back.contains(.toHost(.viewerJoined(ViewerDescription(id: viewer.id, readOnly: false, peer: "v"), count: 1))))
    #expect(back.contains(.toHost(.resize(viewer: viewer.id, cols: 90, rows: 30))))
    #expect(back.contains(.toHost(.keyframeRequest)), "the new link is asked for the keyframe the relay lacks")
    #expect(back.contains(.toViewer(viewer.id, .notice("swiftmate: the host is back"))))
    #expect(state.input(from: viewer.id, bytes: [0x61]).contains(.inputToHost(viewer: viewer.id, bytes: [0x61])))
}

@Test func aSessionWhoseHostDoesNotComeBackEndsAfterTheGrace() async throws {
    var options = RelayOptions()
    options.resumeTickets = ResumeTickets()
    options.resumeGraceSeconds = 1
    let h = try await Harness(options: options)
    let (answer, sender, _) = try await hello(h, [ResumeTickets.secretOption: "secret"])
    guard case .welcome(let w)? = answer else { Issue.record("\(String(describing: answer))"); return }
    let view = FakeViewerTerminal()
    let viewer = h.join(token: w.readOnlyToken, terminal: view, input: AsyncStream { _ in })
    #expect(await eventually { await h.relay.sessionCount == 1 })
    await sender.close()
    let outcome = try await viewer.value
    #expect(outcome.reason.contains("the host did not come back within 1 s"), "\(outcome)")
    #expect(await h.relay.sessionCount == 0)
    await h.stop()
}
