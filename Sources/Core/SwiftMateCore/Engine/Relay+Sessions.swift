// The relay's session registry: opening a session (new, named or resumed), its tickets, and forgetting it.
import Foundation

extension Relay {
    /// A session opened for a host link: new, or one it resumed that the relay still has (`reattached`: its viewers are
    /// still there), and the generation the link's tickets carry.
    struct OpenedSession {
        var session: RelaySession
        var reattached: Bool
        var generation: UInt64
    }

    /// Opens the session `hello` asks for: new (random tokens), named (`SessionNames`, the namespace from an API key or
    /// owned by `hostKey`, the key the host's link proved) or resumed (`ResumeTickets`); nil at the session limit; throws
    /// `refused` or `cannotResume` saying why not.
    func createSession(hello: Hello, hostKey: String?, hostLoop: IOLoop?) throws -> OpenedSession? {
        let naming = try SessionNaming.requested(by: hello, keys: options.namespaces, keysOwnNamespaces: options.namespaceOwners != nil,
                                                 publicKey: hostKey)
        let resumed = try resumedTicket(hello, naming: naming)
        if let naming, let key = naming.ownerKey, let owners = options.namespaceOwners {
            let namespace = naming.namespace
            switch owners.claim(namespace, key: key) {
            case .owned: break
            case .claimed: logger.info("namespace \(namespace) is now owned by the key \(NamespaceOwners.keyPart(key).suffix(12))")
            case .ownedByAnother:
                throw SwiftMateError(.refused, "the namespace '\(namespace)' is owned by another SSH key; name the session in a namespace "
                                     + "of your own (-n OTHER/NAME), or share from the host whose key owns it")
            case .full:
                throw SwiftMateError(.refused, "this relay keeps no more namespaces (\(NamespaceOwners.maxNamespaces)); tell its operator")
            }
        }
        let generation = resumed.map { $0.generation + 1 } ?? 1
        if let resumed, let existing = sessions[resumed.sessionID] {
            // The relay still has it (the link was lost, or is stale and closed now): the host takes it back, viewers
            // and all.
            existing.closeHostLink()
            if let hostLoop {
                loopsByToken.withLock { $0[existing.readWriteToken] = hostLoop; $0[existing.readOnlyToken] = hostLoop }
            }
            return OpenedSession(session: existing, reattached: true, generation: generation)
        }
        guard sessions.count < options.maxSessions else { return nil }
        let id = resumed?.sessionID ?? Tokens.make(length: 12)
        let cols = hello.cols == 0 ? 80 : hello.cols, rows = hello.rows == 0 ? 24 : hello.rows
        var hub: FrontendHub?
        if let recording = options.recording, recording.applies(to: hello) {
            let frontend = try registry.frontend(recording.frontend, options: recording.options,
                                                 context: FrontendContext(side: "relay", sessionID: id))
            let logger = self.logger
            let created = FrontendHub(logger: logger) { text in logger.error("session \(id): \(text)") }
            created.start([frontend], injector: ClosureInjector { _ in })
            var environment: [String: String] = [:]
            if let term = hello.options["term"] { environment["TERM"] = term }
            created.publish(.start(SessionInfo(sessionID: id, cols: cols, rows: rows,
                                               command: hello.options["command"].map { [$0] } ?? [], environment: environment)))
            hub = created
        }
        let allowedKeys = try hello.options["authorized_keys"].map { try RelayAccess.parseKeys($0) }
        // A named or resumed session that is live is replaced: its owner (a host with its namespace's key, or with
        // its ticket and secret) connected again, and its old link is stale.
        let tokens = [naming?.readWrite ?? resumed?.readWriteToken, naming?.readOnly ?? resumed?.readOnlyToken].compactMap { $0 }
        for token in tokens {
            guard let (old, _) = byToken[token] else { continue }
            logger.info("session \(old.id) (\(old.readWriteToken)): replaced by a new host connection from its owner")
            dropSession(old)
            old.closeHostLink()
            Task { await old.end(reason: "the session was replaced: its host connected again; reconnect with the same command", exitStatus: -1) }
        }
        let session = RelaySession(id: id, cols: cols, rows: rows, options: options, frontends: hub, logger: logger,
                                   readWriteToken: naming?.readWrite ?? resumed?.readWriteToken,
                                   readOnlyToken: naming?.readOnly ?? resumed?.readOnlyToken, generation: generation,
                                   approveJoiners: hello.options[JoinApproval.option] == "true")
        if let allowedKeys { access.restrict([session.readWriteToken, session.readOnlyToken], to: allowedKeys) }
        sessions[session.id] = session
        byToken[session.readWriteToken] = (session, false)
        byToken[session.readOnlyToken] = (session, true)
        if let hostLoop {
            loopsByToken.withLock { $0[session.readWriteToken] = hostLoop; $0[session.readOnlyToken] = hostLoop }
        }
        return OpenedSession(session: session, reattached: false, generation: generation)
    }

    /// The ticket a resuming host's hello brings, checked (nil: a new session); throws `cannotResume` saying why not.
    func resumedTicket(_ hello: Hello, naming: SessionNaming?) throws -> ResumeTicket? {
        guard let text = hello.options[ResumeTickets.ticketOption] else { return nil }
        guard let book = options.resumeTickets else {
            throw SwiftMateError(.cannotResume, "this relay keeps no resume tickets")
        }
        let ticket = try book.check(text, secret: hello.options[ResumeTickets.secretOption], keys: hello.options["authorized_keys"]).get()
        if let naming, naming.readWrite != ticket.readWriteToken || (naming.readOnly.map { $0 != ticket.readOnlyToken } ?? false) {
            throw SwiftMateError(.cannotResume, "the resume ticket is for another session name")
        }
        return ticket
    }

    /// The ticket for `session`'s next link (empty without a ticket book or a host secret to bind it to).
    func ticket(for session: RelaySession, hello: Hello) -> String {
        guard let book = options.resumeTickets, let secret = hello.options[ResumeTickets.secretOption], !secret.isEmpty else { return "" }
        return book.issue(ResumeTicket(sessionID: session.id, readWriteToken: session.readWriteToken, readOnlyToken: session.readOnlyToken,
                                       keysDigest: ResumeTickets.digest(hello.options["authorized_keys"] ?? ""),
                                       hostDigest: ResumeTickets.digest(secret), generation: session.generation,
                                       issued: UInt64(Date().timeIntervalSince1970)))
    }

    /// Forgets `session` and its tokens (once: a replaced session was dropped when its name was taken over).
    func dropSession(_ session: RelaySession) {
        guard sessions[session.id] === session else { return }
        sessions[session.id] = nil
        byToken[session.readWriteToken] = nil
        byToken[session.readOnlyToken] = nil
        loopsByToken.withLock { $0[session.readWriteToken] = nil; $0[session.readOnlyToken] = nil }
        access.forget([session.readWriteToken, session.readOnlyToken])
    }

    /// The live session `token` names, and whether it is its read-only token.
    func lookup(_ token: String) -> (session: RelaySession, readOnly: Bool)? {
        byToken[token]
    }
}
