// A host that sends impossible numbers loses its own link with a clear reason; the relay and other sessions go on.
import Testing
import SwiftMateCore
import SwiftMateTestSupport

/// A raw host link: hello, welcome, then whatever the test sends.
private struct RawHost {
    let sender: MessageSender
    let receiver: MessageReceiver
    let welcome: Welcome

    init(_ h: Harness) async throws {
        let connection = try await h.transport.connect(to: h.endpoint)
        sender = MessageSender(connection.outbound)
        receiver = MessageReceiver(connection)
        try await sender.send(.hello(Hello(role: .host, codecs: ["none"], cols: 80, rows: 24)))
        guard case .welcome(let w)? = try await receiver.next() else { throw SwiftMateError(.refused, "no welcome") }
        welcome = w
    }

    /// What the relay sends until it closes the link (keyframe requests and the like skipped).
    func goodbye() async throws -> String? {
        while let message = try await receiver.next() {
            if case .goodbye(let reason, _) = message { return reason }
        }
        return nil
    }
}

/// Each hostile message, and a word the relay's reason must contain.
private let hostileMessages: [(String, Message, String)] = [
    ("offset near 2^64", .output(seq: UInt64.max - 5, bytes: Array("boom".utf8)), "stream offset"),
    ("offset past the limit after its bytes", .output(seq: WireLimits.maxStreamOffset - 2, bytes: Array("boom".utf8)), "offset limit"),
    ("offset going back", .output(seq: 0, bytes: Array("x".utf8)), "goes back"),
    ("zero size", .resize(viewer: 0, cols: 0, rows: 24), "size of 0x24"),
    ("huge size", .resize(viewer: 0, cols: 65535, rows: 65535), "more than 1000"),
    ("zero-size keyframe", .keyframe(Keyframe(seq: 0, cols: 0, rows: 0, bytes: [])), "keyframe of 0x0"),
]

@Test(arguments: 0..<hostileMessages.count)
func aHostSendingImpossibleNumbersIsClosedAndOtherSessionsGoOn(_ index: Int) async throws {
    let (label, hostile, expected) = hostileMessages[index]
    let h = try await Harness()
    // A healthy session with a viewer, on the same relay.
    let status = HostStatus()
    let healthy = h.startHost(FakeHostTerminal(), status: status)
    await status.waitReady()
    let view = FakeViewerTerminal()
    let (input, typing) = AsyncStream<[UInt8]>.makeStream()
    let viewer = h.join(token: await h.token(status, readOnly: false), terminal: view, input: input)
    #expect(await eventually { await status.current().viewers.count == 1 })

    let raw = try await RawHost(h)
    try await raw.sender.send(.output(seq: 0, bytes: Array("0123456789".utf8)))
    try await raw.sender.send(hostile)
    let reason = try await raw.goodbye()
    #expect(reason?.contains(expected) == true, "\(label): \(reason ?? "no goodbye")")
    #expect(await eventually { await h.relay.sessionCount == 1 }, "\(label): the hostile session is gone, the healthy one stays")

    healthy.upstream.push(.output(seq: 0, bytes: Array("still-alive\r\n".utf8)))
    #expect(await eventually { view.text.contains("still-alive") }, "\(label)")
    healthy.finish(exitStatus: 0)
    _ = try await viewer.value
    typing.finish()
    await h.stop()
}

@Test func streamEndsAreCheckedAdditions() {
    #expect(WireLimits.streamEnd(seq: 10, count: 5) == 15)
    #expect(WireLimits.streamEnd(seq: WireLimits.maxStreamOffset, count: 0) == WireLimits.maxStreamOffset)
    #expect(WireLimits.streamEnd(seq: WireLimits.maxStreamOffset, count: 1) == nil)
    #expect(WireLimits.streamEnd(seq: UInt64.max, count: 1) == nil)
    #expect(WireLimits.streamEnd(seq: 0, count: -1) == nil)
}
