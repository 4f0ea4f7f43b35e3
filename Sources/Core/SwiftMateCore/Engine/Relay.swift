// The relay: accepts hosts and viewers on any transport, keeps the session registry, runs each link.
import Foundation
import Logging
import Synchronization

/// The relay engine. Transports hand it connections; it needs no sockets of its own.
///
/// Threading: an actor; `handle(_:)` runs one connection to its end and may be called concurrently.
public actor Relay {
    let registry: PluginRegistry
    let options: RelayOptions
    let logger: Logger
    /// Live sessions by id (`Relay+Sessions.swift` opens and forgets them).
    var sessions: [String: RelaySession] = [:]
    /// Live sessions by token.
    var byToken: [String: (session: RelaySession, readOnly: Bool)] = [:]
    private var advertised: [Endpoint] = []
    /// Schemes of the advertised endpoints whose transport proves viewers' keys (`Transport.provesPublicKeys`).
    private var keyProvingSchemes: Set<String> = []
    private nonisolated let executor: (any TaskExecutor)?
    /// What transports with logins ask during authentication (pass it in the `ListenContext` of `Transport.listen(on:context:)`).
    public nonisolated let access: RelayAccess
    /// What connections still in their handshake may hold, across every listener.
    public nonisolated let handshakes: HandshakeBudget
    /// The connections `handle(_:)` is serving.
    private nonisolated let serving = WaitGroup()
    /// The loop each live token's session is pinned to: its host connection's, when the host's transport runs it on
    /// a loop (see `loop(forToken:)`).
    nonisolated let loopsByToken = Mutex<[String: IOLoop]>([:])

    /// A relay using `registry` for codecs. With `executor`, every connection's tasks run there (an
    /// embedded relay shares its host's thread, so a keystroke crosses no thread between them).
    public init(registry: PluginRegistry, options: RelayOptions = RelayOptions(), logger: Logger = Logger(label: "swiftmate.relay"),
                executor: (any TaskExecutor)? = nil) {
        self.executor = executor
        self.access = RelayAccess(hosts: options.hostAccess)
        self.handshakes = HandshakeBudget(totalBytes: options.handshakeBytes, perAddress: options.handshakesPerAddress,
                                          afterBurst: options.returnFreedMemory)
        self.registry = registry
        self.options = options
        self.logger = logger
    }

    /// The endpoints named in connection strings (the listeners' public addresses).
    public func advertise(_ endpoints: [Endpoint], provingKeys: Set<String> = []) {
        advertised = endpoints
        keyProvingSchemes = provingKeys
    }

    /// Live sessions.
    public var sessionCount: Int { sessions.count }

    /// The connection strings of a session: one pair per advertised endpoint, except, for a session that admits
    /// listed keys only, endpoints whose transport cannot prove a key (their joins would be refused).
    private func connectionStrings(rw: String, ro: String) -> [String] {
        var lines: [String] = []
        let keysOnly = access.requiresPublicKey(token: rw)
        for e in advertised where !keysOnly || keyProvingSchemes.contains(e.scheme) {
            let host = options.publicHost ?? e.host
            let label = e.scheme
            lines.append("\(label) session=\(JoinStrings.command(scheme: e.scheme, host: host, port: e.port, token: rw))")
            lines.append("\(label) session read only=\(JoinStrings.command(scheme: e.scheme, host: host, port: e.port, token: ro))")
        }
        return lines
    }

    /// The loop `token`'s session lives on, if it has one: a transport with logins moves a viewer's connection
    /// there before handing it over (`ListenContext.loopForLogin`), so a session's host link and viewers share one
    /// thread. Any thread; does not block.
    public nonisolated func loop(forToken token: String) -> IOLoop? {
        loopsByToken.withLock { $0[token] }
    }

    /// Runs one accepted connection until it ends. Never throws: failures close that connection only.
    /// `fromThisProcess`: the connection is the in-process host of an embedded relay, which `relay.hosts` does not
    /// apply to (it is the process that runs the relay).
    public nonisolated func handle(_ connection: Connection, fromThisProcess: Bool = false) async {
        serving.enter()
        await withTaskExecutorPreference(executor) { await self.serve(connection, fromThisProcess: fromThisProcess) }
        serving.leave()
    }

    /// Waits until no connection is being served, or `limit` has passed: what a process embedding a relay
    /// does before it exits, so that viewers get the end of a session (its last output, its goodbye).
    public nonisolated func idle(within limit: Duration) async {
        await serving.wait(atMost: limit)
    }

    private nonisolated func serve(_ connection: Connection, fromThisProcess: Bool) async {
        switch connection.kind {
        case .framed:
            await handleFramed(connection, fromThisProcess: fromThisProcess)
        case .terminal(let token, let cols, let rows):
            await handleTerminal(connection, token: token, cols: cols, rows: rows)
        }
        await connection.outbound.close()
    }

    /// Whether `token`'s session admits `connection`'s key: any key (or none) unless it admits only listed keys.
    /// (The transport's own login check is the first line; this is the second.)
    private nonisolated func keyAdmitted(_ connection: Connection, token: String) -> Bool {
        !access.requiresPublicKey(token: token) || (connection.publicKey.map { access.admits(token: token, key: $0) } ?? false)
    }

    /// The fingerprint of the key `connection`'s peer proved (what the host sees of a viewer), or empty.
    private static func keyFingerprint(_ connection: Connection) -> String {
        connection.publicKey.flatMap(HostKeyFingerprint.of(publicKey:)) ?? ""
    }

    private nonisolated func refusalDelay() async {
        let ms = Int.random(in: options.refusalDelayMillis)
        try? await Task.sleep(for: .milliseconds(ms))
    }

    private nonisolated func handleFramed(_ connection: Connection, fromThisProcess: Bool) async {
        let sender = MessageSender(connection.outbound)
        let peer = connection.peer
        var handshake = RelayHandshake(codecs: options.codecs.filter { registry.hasCodec($0) },
                                       handshakesPerAddress: options.handshakesPerAddress)
        var action: RelayHandshake.Action
        // Until its hello is in, a connection may send only a hello-sized frame, and what it holds counts
        // against the relay's handshake budget.
        let receiver = MessageReceiver(connection, maxFrameSize: options.helloBytes)
        if let ticket = handshakes.admit(peer: peer) {
            receiver.handshake = ticket
            let seconds = options.helloTimeoutSeconds
            let watchdog = Task {
                try await Task.sleep(for: .seconds(seconds))
                await connection.outbound.close()
            }
            do {
                action = handshake.received(try await receiver.next())
            } catch {
                action = handshake.failed(error)
            }
            // Cancelled on every way out, so a refused connection is not kept until the timeout.
            watchdog.cancel()
            ticket.release()
            receiver.handshake = nil
            receiver.maxFrameSize = options.maxFrameSize
        } else {
            action = handshake.tooManyFromAddress()
        }
        var viewerSession: (session: RelaySession, readOnly: Bool)?
        while true {
            switch action {
            case .refuse(let code, let reason, let delay, let log):
                if delay { await refusalDelay() }
                if let log { logger.info("\(peer): \(log)") }
                try? await sender.send(.refused(code: code, reason: reason))
                return
            case .close(let log):
                logger.info("\(peer): \(log)")
                return
            case .checkHost(let hello):
                // The in-process host of an embedded relay is this process itself; everyone else proves a key.
                let admitted = fromThisProcess
                    || options.hostAccess?.admits(publicKey: connection.publicKey, apiKey: hello.options["api_key"]) ?? true
                action = handshake.hostChecked(admitted: admitted)
            case .lookUpToken(let token):
                viewerSession = await lookup(token)
                action = handshake.tokenLookedUp(found: viewerSession != nil, keyAdmitted: keyAdmitted(connection, token: token))
            case .openSession(let hello, let codecName):
                guard let codec = try? registry.codec(codecName) else { return }
                await runHost(hello: hello, codec: codec, receiver: receiver, sender: sender, peer: peer,
                              hostKey: connection.publicKey, hostLoop: connection.loop)
                return
            case .join(let hello, let codecName):
                guard let (session, readOnly) = viewerSession, let codec = try? registry.codec(codecName) else { return }
                await runFramedViewer(session: session, readOnly: readOnly, hello: hello, codec: codec,
                                      receiver: receiver, sender: sender, peer: peer, transport: connection.transport,
                                      key: Self.keyFingerprint(connection))
                return
            }
        }
    }

    private nonisolated func runHost(hello: Hello, codec: any Codec, receiver: MessageReceiver, sender: MessageSender, peer: String,
                                     hostKey: String?, hostLoop: IOLoop?) async {
        let opened: OpenedSession?
        do {
            opened = try await createSession(hello: hello, hostKey: hostKey, hostLoop: hostLoop)
        } catch let error as SwiftMateError where error.code == .protocolViolation {
            try? await sender.send(.refused(code: .badRequest, reason: error.message))
            return
        } catch let error as SwiftMateError where error.code == .refused {
            logger.info("\(peer): a named session refused: \(error.message)")
            try? await sender.send(.refused(code: .notAllowed, reason: error.message))
            return
        } catch let error as SwiftMateError where error.code == .cannotResume {
            logger.info("\(peer): a session not resumed: \(error.message)")
            try? await sender.send(.refused(code: .cannotResume, reason: error.message))
            return
        } catch {
            logger.error("\(peer): cannot record the session, so it is refused: \(error)")
            try? await sender.send(.refused(code: .other, reason: "this relay records sessions and cannot record this one (\(error)); tell the relay's operator"))
            return
        }
        guard let opened else {
            try? await sender.send(.refused(code: .overloaded, reason: "this relay has reached its session limit; try again later"))
            return
        }
        let session = opened.session
        // A resumed session's old link is closed: its pump is done before this one starts (one consumer per queue).
        if opened.reattached { await session.hostLinkServing.wait(atMost: .seconds(5)) }
        let link = session.attachHost(generation: opened.generation)
        session.hostLinkServing.enter()
        defer { session.hostLinkServing.leave() }
        let strings = await connectionStrings(rw: session.readWriteToken, ro: session.readOnlyToken)
        let ticket = await ticket(for: session, hello: hello)
        do {
            try await sender.send(.welcome(Welcome(codec: codec.name, sessionID: session.id, readWriteToken: session.readWriteToken,
                                                   readOnlyToken: session.readOnlyToken, connectionStrings: strings, ticket: ticket,
                                                   streamOffset: session.streamOffset)))
            try await startCodec(codec, sender: sender, receiver: receiver, maxFrameSize: options.maxFrameSize)
        } catch {
            await hostLinkEnded(session, link: link, resumable: !ticket.isEmpty, reason: "the handshake with the host failed")
            return
        }
        session.onReplaced { Task { await sender.close() } }
        if opened.reattached {
            session.hostBack()
            logger.info("session \(session.id) resumed by host \(peer) at offset \(session.streamOffset) (codec \(codec.name))")
        } else {
            logger.info("session \(session.id) opened by host \(peer) (codec \(codec.name))")
        }
        if session.frontends != nil {
            session.hostQueue.pushAlways(.notice("this session is recorded by the relay"))
        }
        var endReason = "host disconnected"
        var exitStatus: Int32 = -1
        var ended = false
        await withTaskGroup(of: Void.self) { group in
            // The queue outlives this link (a resumed link takes it over), so the pump does not close it.
            group.addTask { await Self.pump(session.hostQueue, to: sender, pacing: nil, closing: false) }
            do {
                loop: while let message = try await receiver.next() {
                    if try session.hostSent(message) { continue }
                    switch message {
                    case .goodbye(let reason, let status):
                        endReason = reason
                        exitStatus = status
                        ended = true
                        // The session is over: no ticket brings it back.
                        options.resumeTickets?.ended(session.id)
                        break loop
                    case .notice(let text): session.hostNotice(text)
                    case .keepalive: break
                    default:
                        logger.debug("session \(session.id): ignoring \(message.typeNumber) from host")
                    }
                }
            } catch let error as SwiftMateError where error.code == .protocolViolation || error.code == .malformedMessage {
                // The host is told why before its link closes; other sessions never notice.
                endReason = error.message
                ended = true
                logger.warning("session \(session.id): closing the host link from \(peer): \(error.message)")
                try? await sender.send(.goodbye(reason: error.message, exitStatus: -1))
            } catch {
                endReason = "host connection failed: \(error)"
                logger.info("session \(session.id): \(endReason)")
            }
            logger.info("session \(session.id): received \(receiver.bytesReceived) bytes from the host")
            // Ended on purpose (a goodbye, a broken protocol) it is over; lost, it may wait for its host.
            await hostLinkEnded(session, link: link, resumable: !ended && !ticket.isEmpty, reason: endReason, exitStatus: exitStatus)
            group.cancelAll()
            await group.waitForAll()
        }
        await sender.close()
    }

    /// Host link `link` of `session` ended. When it was lost (`resumable`: no goodbye, and the host has a ticket) the
    /// session waits for its host for `resumeGraceSeconds`, viewers staying; otherwise it ends. A link that was
    /// replaced (the host resumed on another) changes nothing.
    private nonisolated func hostLinkEnded(_ session: RelaySession, link: Int, resumable: Bool, reason: String,
                                           exitStatus: Int32 = -1) async {
        guard session.isCurrentHostLink(link) else { return }
        guard resumable, options.resumeGraceSeconds > 0 else {
            await dropSession(session)
            await session.end(reason: reason, exitStatus: exitStatus)
            return
        }
        session.hostAway()
        let grace = options.resumeGraceSeconds
        Task {
            try? await Task.sleep(for: .seconds(grace))
            guard session.isCurrentHostLink(link), session.hostIsAway else { return }
            await self.dropSession(session)
            await session.end(reason: "the host did not come back within \(grace) s (\(reason))", exitStatus: -1)
        }
    }

    /// Sends everything from `queue` until it closes (letting bulk output gather with `pacing`), the link fails or the
    /// task is cancelled; then closes the queue unless it outlives the link (`closing` false: a host's).
    private static func pump(_ queue: OutboundQueue<Message>, to sender: MessageSender, pacing: BulkPacing?, closing: Bool = true) async {
        var pacing = pacing ?? BulkPacing(pause: .zero)
        while let batch = await queue.popAll(pacing: &pacing), !Task.isCancelled {
            do { try await sender.send(batch) } catch { break }
        }
        if closing { queue.close() }
    }

    private nonisolated func runFramedViewer(session: RelaySession, readOnly: Bool, hello: Hello, codec: any Codec,
                                             receiver: MessageReceiver, sender: MessageSender, peer: String,
                                             transport: String, key: String) async {
        do {
            try await sender.send(.welcome(Welcome(codec: codec.name, sessionID: session.id, readOnly: readOnly)))
            try await startCodec(codec, sender: sender, receiver: receiver, maxFrameSize: options.maxFrameSize)
        } catch { return }
        // A join client coming back says how far it had shown the output (`resume_offset`).
        let resumeFrom = hello.options[JoinClient.resumeOption].flatMap { UInt64($0) }.map { min($0, WireLimits.maxStreamOffset) }
        guard let viewer = session.addViewer(readOnly: readOnly, peer: peer, transport: transport, key: key, cols: hello.cols, rows: hello.rows,
                                             resumeFrom: resumeFrom) else {
            try? await sender.send(.goodbye(reason: "this session has reached its viewer limit", exitStatus: -1))
            return
        }
        var reason = "disconnected"
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [options] in
                // Once the queue is done (the session's goodbye sent), the link closes: a viewer that never
                // hangs up does not hold it open.
                await Self.pump(viewer.queue, to: sender, pacing: options.viewerPacing)
                await sender.close()
            }
            do {
                loop: while let message = try await receiver.next() {
                    switch message {
                    case .input(_, let bytes): session.input(from: viewer, bytes: bytes)
                    case .resize(_, let cols, let rows): session.viewerResized(viewer.id, cols: cols, rows: rows)
                    case .goodbye(let why, _):
                        reason = why
                        break loop
                    default: break
                    }
                }
            } catch {
                reason = "connection failed: \(error)"
            }
            session.removeViewer(viewer.id, reason: reason)
            viewer.queue.close()
            await group.waitForAll()
        }
        await sender.close()
    }

    private nonisolated func handleTerminal(_ connection: Connection, token: String, cols: UInt16, rows: UInt16) async {
        let found = await lookup(token)
        if let refusal = RelayHandshake.viewerRefusal(found: found != nil, keyAdmitted: keyAdmitted(connection, token: token)) {
            await refusalDelay()
            logger.info("\(connection.peer): \(refusal.log)")
            await connection.outbound.refuse(Array((refusal.terminalText + "\r\n").utf8))
            return
        }
        guard let (session, readOnly) = found else { return }
        guard let viewer = session.addViewer(readOnly: readOnly, peer: connection.peer, transport: connection.transport,
                                             key: Self.keyFingerprint(connection),
                                             cols: cols, rows: rows, link: .terminal) else {
            await connection.outbound.refuse(Array("This session has reached its viewer limit.\r\n".utf8))
            return
        }
        let source = ChunkSource(connection.inbound)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [options] in await Self.writeTerminal(viewer, of: session, to: connection, window: (cols, rows), options: options) }
            group.addTask {
                for await size in connection.windowChanges {
                    session.viewerResized(viewer.id, cols: size.cols, rows: size.rows)
                }
            }
            do {
                while let chunk = try await source.next() {
                    session.input(from: viewer, bytes: chunk)
                }
            } catch {}
            session.removeViewer(viewer.id, reason: "disconnected")
            viewer.queue.close()
            group.cancelAll()
            await group.waitForAll()
        }
    }

    /// Writes a terminal (ssh) viewer's queue to its link until the session ends or the viewer goes.
    private static func writeTerminal(_ viewer: RelayViewer, of session: RelaySession, to connection: Connection,
                                      window: (cols: UInt16, rows: UInt16), options: RelayOptions) async {
        var writer = TerminalViewerWriter(window: window, makeDisplay: options.viewerScreen)
        var pacing = options.viewerPacing
        let outbound = connection.outbound
        while let batch = await viewer.queue.popAll(pacing: &pacing), !Task.isCancelled {
            let out = writer.bytes(for: batch) { session.currentCatchUp() }
            if !out.isEmpty {
                do { try await outbound.write(out) } catch { break }
            }
        }
        viewer.queue.close()
        // The session ended (or this viewer was dropped): close the link, which ends `inbound` too.
        await outbound.close()
    }
}
