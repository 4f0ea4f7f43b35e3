// Fuzz target for the relay: one session driven by a script of host and viewer messages read from the input.
import Dispatch
import Logging
import Synchronization
import SwiftMateCore
import SwiftMateCodecs

/// Runs a relay in memory, on the encoded path a remote host takes (no in-process shortcuts), and plays the
/// input as a script: host output, sizes, keyframes and garbage frames; framed viewers (read-write,
/// read-only, wrong tokens) that type, resize, send garbage and leave; terminal viewers that type and
/// resize. After the script every connection closes and the relay must end the session and return.
enum RelayFuzz {
    /// One scripted session, from async code.
    static func play(_ data: [UInt8]) async {
        var script = Script(data)
        await script.play()
    }

    /// One scripted session, blocking the calling thread (libFuzzer's), with a deadline: a relay that never
    /// finishes is a hang, reported as a failure.
    static func run(_ data: [UInt8]) {
        let done = DispatchSemaphore(value: 0)
        let finished = Mutex(false)
        Task.detached {
            await play(data)
            finished.withLock { $0 = true }
            done.signal()
        }
        if done.wait(timeout: .now() + 20) == .timedOut || !finished.withLock({ $0 }) {
            preconditionFailure("the relay did not finish the scripted session within 20 s")
        }
    }
}

/// Discards what the relay writes to a terminal viewer.
private final class Sink: ByteWriter {
    func write(_ bytes: [UInt8]) async throws {}
    func close() async {}
}

/// Moves a receiver to the one task that reads it from then on (nothing else touches it after).
private struct HandOver: @unchecked Sendable {
    let receiver: MessageReceiver
    init(_ receiver: MessageReceiver) { self.receiver = receiver }
}

private struct Script {
    var input: FuzzInput
    let relay: Relay
    let registry: PluginRegistry
    let codecs = ["none", "lz4", "zlib"]

    init(_ data: [UInt8]) {
        input = FuzzInput(data)
        var codecRegistry = PluginRegistry()
        codecRegistry.registerBuiltinCodecs()
        registry = codecRegistry
        var options = RelayOptions()
        options.viewerQueueBytes = 1 << 16
        options.hostQueueBytes = 1 << 16
        options.tailBytes = 256
        options.maxViewersPerSession = 4
        options.refusalDelayMillis = 0...1
        options.helloTimeoutSeconds = 2
        options.coalesceMicros = 0
        var quiet = Logger(label: "swiftmate.fuzz.relay")
        quiet.logLevel = .critical
        relay = Relay(registry: registry, options: options, logger: quiet)
    }

    /// One end of a link whose other end the relay serves; the encoded path (no local route).
    private func connect(_ tasks: inout [Task<Void, Never>]) -> Connection {
        let (client, server) = LocalLink.pair(limitBytes: 1 << 16)
        let relay = self.relay
        tasks.append(Task { await relay.handle(server) })
        return client
    }

    /// Reads (and drops) what the relay sends, from then on only in the returned task.
    private static func drain(_ receiver: MessageReceiver) -> Task<Void, Never> {
        let handOver = HandOver(receiver)
        return Task { while (try? await handOver.receiver.next()) != nil {} }
    }

    private mutating func message(seq: inout UInt64) -> Message {
        switch input.byte() % 9 {
        case 0, 1, 2:
            let bytes = input.chunk(max: 300)
            let jump = input.byte()
            let at = jump < 240 ? seq : (jump < 250 ? seq &+ UInt64(jump) : input.u64())
            seq = at &+ UInt64(bytes.count)
            return .output(seq: at, bytes: bytes)
        case 3: return .resize(viewer: UInt32(input.byte()), cols: input.u16() % 1200, rows: input.u16() % 1200)
        case 4: return .keyframe(Keyframe(seq: input.byte() < 200 ? seq : input.u64(), cols: input.u16() % 1100, rows: input.u16() % 1100,
                                          bytes: input.chunk(max: 300)))
        case 5: return .input(viewer: UInt32(input.byte()), bytes: input.chunk(max: 64))
        case 6: return .keepalive(millis: input.u64())
        case 7: return .notice(String(decoding: input.chunk(max: 40), as: UTF8.self))
        default: return .viewerLeft(viewer: UInt32(input.byte()), reason: "x", count: UInt32(input.byte()))
        }
    }

    mutating func play() async {
        var tasks: [Task<Void, Never>] = []
        let codec = codecs[Int(input.byte()) % codecs.count]
        let hostLink = connect(&tasks)
        let host = MessageSender(hostLink.outbound)
        let hostIn = MessageReceiver(hostLink)
        var options: [String: String] = [:]
        if input.byte() % 4 == 0 { options["authorized_keys"] = String(decoding: input.chunk(max: 200), as: UTF8.self) }
        try? await host.send(.hello(Hello(role: .host, codecs: [codec], cols: input.u16() % 1100, rows: input.u16() % 1100, options: options)))
        guard case .welcome(let welcome)? = try? await hostIn.next(), let chosen = try? registry.codec(welcome.codec) else {
            await hostLink.outbound.close()
            for t in tasks { await t.value }
            return
        }
        try? await host.startCompressing(chosen)
        if let d = try? chosen.makeDecompressor(limit: 1 << 20) { hostIn.startDecompressing(d) }
        let hostDrain = Self.drain(hostIn)

        var viewers: [(sender: MessageSender, link: Connection)] = []
        var terminals: [(keys: AsyncThrowingStream<[UInt8], any Error>.Continuation, sizes: AsyncStream<(cols: UInt16, rows: UInt16)>.Continuation)] = []
        var drains: [Task<Void, Never>] = [hostDrain]
        var seq: UInt64 = 0
        var steps = 0
        while !input.isEmpty && steps < 400 {
            steps += 1
            switch input.byte() % 10 {
            case 0, 1, 2:
                try? await host.send(message(seq: &seq))
            case 3:
                try? await hostLink.outbound.write(Framing.frame(input.chunk(max: 64)))
            case 4:
                let link = connect(&tasks)
                let sender = MessageSender(link.outbound), receiver = MessageReceiver(link)
                let pick = input.byte() % 4
                let token = pick == 0 ? welcome.readWriteToken : pick == 1 ? welcome.readOnlyToken : String(decoding: input.chunk(max: 30), as: UTF8.self)
                try? await sender.send(.hello(Hello(role: .viewer, codecs: [codec], token: token, cols: input.u16() % 1100, rows: input.u16() % 1100)))
                if case .welcome? = try? await receiver.next() {
                    try? await sender.startCompressing(chosen)
                    if let d = try? chosen.makeDecompressor(limit: 1 << 20) { receiver.startDecompressing(d) }
                }
                drains.append(Self.drain(receiver))
                viewers.append((sender, link))
            case 5 where !viewers.isEmpty:
                let v = viewers[Int(input.byte()) % viewers.count]
                if input.byte() % 5 == 0 {
                    try? await v.link.outbound.write(Framing.frame(input.chunk(max: 64)))
                } else {
                    try? await v.sender.send(message(seq: &seq))
                }
            case 6 where !viewers.isEmpty:
                let v = viewers.remove(at: Int(input.byte()) % viewers.count)
                await v.link.outbound.close()
            case 7:
                let (keys, keyFeed) = AsyncThrowingStream.makeStream(of: [UInt8].self)
                let (sizes, sizeFeed) = AsyncStream.makeStream(of: (cols: UInt16, rows: UInt16).self)
                let token = input.byte() % 2 == 0 ? welcome.readWriteToken : welcome.readOnlyToken
                let link = Connection(inbound: keys, outbound: Sink(), peer: "fuzz-ssh",
                                      kind: .terminal(token: token, cols: input.u16(), rows: input.u16()), windowChanges: sizes)
                let relay = self.relay
                tasks.append(Task { await relay.handle(link) })
                terminals.append((keyFeed, sizeFeed))
            case 8 where !terminals.isEmpty:
                let t = terminals[Int(input.byte()) % terminals.count]
                if input.byte() % 3 == 0 { t.sizes.yield((input.u16(), input.u16())) } else { t.keys.yield(input.chunk(max: 32)) }
            default:
                await Task.yield()
            }
        }
        if input.byte() % 2 == 0 { try? await host.send(.goodbye(reason: "done", exitStatus: 0)) }
        await hostLink.outbound.close()
        for v in viewers { await v.link.outbound.close() }
        for t in terminals { t.keys.finish(); t.sizes.finish() }
        for t in tasks { await t.value }
        for d in drains { d.cancel() }
        let left = await relay.sessionCount
        precondition(left == 0, "a session outlived its host's link")
    }
}
