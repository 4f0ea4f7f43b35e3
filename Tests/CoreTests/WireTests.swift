// Wire protocol: messages round-trip; frames decode the same however the bytes are split; bad input is an error.
import Testing
@testable import SwiftMateCore

let allMessages: [Message] = [
    .hello(Hello(role: .host, codecs: ["lz4", "zlib", "none"], cols: 120, rows: 40, options: ["name": "demo", "headless": "true"])),
    .hello(Hello(role: .viewer, codecs: ["none"], token: "abcDEF0123456789xyzXYZ")),
    .welcome(Welcome(codec: "lz4", sessionID: "s1", readOnly: false, readWriteToken: "rw", readOnlyToken: "ro",
                     connectionStrings: ["tcp session=swiftmate join tcp://h:1/rw"])),
    .refused(code: .invalidToken, reason: "Invalid or expired session token"),
    .output(seq: 1 << 40, bytes: Array("héllo \u{1b}[1mworld\u{1b}[0m".utf8)),
    .output(seq: 0, bytes: []),
    .input(viewer: 7, bytes: [0x03, 0x1b, 0x5b, 0x41]),
    .resize(viewer: 0, cols: 1000, rows: 1),
    .keyframe(Keyframe(seq: WireLimits.maxStreamOffset, cols: 80, rows: 24, bytes: Array("\u{1b}c".utf8))),
    .viewerJoined(ViewerDescription(id: 3, readOnly: true, peer: "127.0.0.1:5555", transport: "ssh", key: "SHA256:x"), count: 2),
    .joinRequest(ViewerDescription(id: 4, readOnly: false, peer: "127.0.0.1:5556", transport: "tcp")),
    .admit(viewer: 4), .kick(viewer: 4, reason: "not now"),
    .viewerLeft(viewer: 3, reason: "disconnected", count: 1),
    .keepalive(millis: 123_456_789),
    .goodbye(reason: "exit", exitStatus: -1),
    .goodbye(reason: "exit", exitStatus: 130),
    .notice("output skipped"),
]

@Test func everyMessageRoundTrips() throws {
    for message in allMessages {
        #expect(try Message.decode(message.encoded()) == message)
    }
}

@Test func framesDecodeTheSameOneByteAtATimeAndAllAtOnce() throws {
    var stream: [UInt8] = []
    for message in allMessages { Framing.appendFrame(message.encoded(), to: &stream) }

    var whole = FrameDecoder()
    whole.append(stream)
    var wholeMessages: [Message] = []
    while let body = try whole.next() { wholeMessages.append(try #require(try Message.decode(body))) }

    var bytewise = FrameDecoder()
    var byteMessages: [Message] = []
    for byte in stream {
        bytewise.append([byte])
        while let body = try bytewise.next() { byteMessages.append(try #require(try Message.decode(body))) }
    }
    #expect(wholeMessages == allMessages)
    #expect(byteMessages == allMessages)
    #expect(bytewise.bufferedByteCount == 0)
}

@Test func numbersPastTheWireLimitsAreMalformed() {
    for (message, field) in [(Message.resize(viewer: 0, cols: 1001, rows: 24), "field 2 (cols) is 1001, more than 1000"),
                             (.hello(Hello(role: .viewer, codecs: ["none"], cols: 80, rows: 65535)), "field 7 (rows) is 65535, more than 1000"),
                             (.output(seq: WireLimits.maxStreamOffset + 1, bytes: []), "field 1 (stream offset)"),
                             (.keyframe(Keyframe(seq: 0, cols: 2000, rows: 1, bytes: [])), "field 2 (cols) is 2000")] {
        #expect {
            try Message.decode(message.encoded())
        } throws: { error in
            (error as? SwiftMateError).map { $0.code == .malformedMessage && $0.message.contains(field) } ?? false
        }
    }
}

@Test func oversizedFrameIsAnErrorBeforeItsBodyArrives() {
    var decoder = FrameDecoder(maxFrameSize: 1000)
    decoder.append([0x00, 0x00, 0x03, 0xe9]) // 1001
    #expect(throws: SwiftMateError.self) { try decoder.next() }
}

@Test func truncatedFrameWaitsThenTheReceiverReportsIt() async throws {
    var decoder = FrameDecoder()
    let frame = Framing.frame(Message.notice("hello").encoded())
    decoder.append(frame.dropLast())
    #expect(try decoder.next() == nil)

    let (a, b) = InMemoryPair.make()
    let receiver = MessageReceiver(b)
    try await a.outbound.write(Array(frame.dropLast()))
    await a.outbound.close()
    await #expect(throws: SwiftMateError.self) { try await receiver.next() }
}

@Test func garbageBodiesAreErrors() {
    let bodies: [[UInt8]] = [
        [],                                  // nothing
        [0xc1],                              // never-used tag
        [0x93, 0x03],                        // array of 3 with 1 element
        [0xdd, 0xff, 0xff, 0xff, 0xff],      // array claiming 4 billion elements (msgpack-c would allocate)
        [0xdf, 0x00, 0x10, 0x00, 0x00],      // map claiming a million pairs
        [0x92, 0x03, 0xc4, 0xff],            // bin longer than the body
        [0x03],                              // not an array
        [0x92, 0x03, 0x01],                  // output with a missing field
        [0x93, 0x03, 0xa1, 0x41, 0xc4, 0x00], // seq is a string
        [0x91, 0x03, 0x00],                  // trailing bytes
    ]
    for body in bodies {
        #expect(throws: SwiftMateError.self, "\(body)") { try Message.decode(body) }
    }
}

@Test func unknownMessageTypesAreSkipped() throws {
    #expect(try Message.decode([0x93, 0xcc, 0xc8, 0x01, 0xa1, 0x78]) == nil) // type 200
    // Extra trailing fields from a newer peer are ignored.
    #expect(try Message.decode([0x93, 0x0a, 0xa2, 0x68, 0x69, 0x05]) == .notice("hi"))
}

@Test func tokensAreLongRandomAndBase62() {
    let tokens = (0..<200).map { _ in Tokens.make() }
    #expect(Set(tokens).count == tokens.count)
    for t in tokens {
        #expect(t.count == 22) // 22 * log2(62) ≈ 131 bits
        #expect(Tokens.isWellFormed(t))
    }
}

@Test func endpointsParse() throws {
    let e = try Endpoint(parsing: "tcp://relay.example.com:7022/TOKEN123")
    #expect(e == Endpoint(scheme: "tcp", host: "relay.example.com", port: 7022, path: "TOKEN123"))
    #expect(try Endpoint(parsing: "ssh://[::1]:22").host == "::1")
    #expect(throws: SwiftMateError.self) { try Endpoint(parsing: "relay:22") }
    #expect(throws: SwiftMateError.self) { try Endpoint(parsing: "tcp://host:99999") }
    #expect(throws: SwiftMateError.self) { try Endpoint(parsing: "tcp://host") }
}
