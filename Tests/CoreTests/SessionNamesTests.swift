// Named sessions (tmate's -n/-r/-k): NAMESPACE/NAME tokens from the API key's namespace, checked names, and the owner
// connecting again taking the name over.
import Foundation
import Testing
import SwiftMateCore
import SwiftMateTestSupport

private let teamKey = "team-key-0123456789abcdef"
private let otherKey = "other-key-0123456789abcdef"

private func relayOptions() -> RelayOptions {
    var options = RelayOptions()
    options.namespaces = [teamKey: "team", otherKey: "other"]
    return options
}

/// A raw host link that says hello with `options` and returns the relay's answer (the link stays open).
/// (Unchecked: each test uses it from one task at a time.)
private struct NamedHost: @unchecked Sendable {
    let sender: MessageSender
    let receiver: MessageReceiver
    let answer: Message?

    /// With `key`, the link proves that public key (`KEYTYPE BASE64`), as an ssh host link that authenticated with it.
    init(_ h: Harness, _ options: [String: String], key: String? = nil) async throws {
        let memory = try #require(h.transport as? InMemoryTransport)
        let connection = try await memory.connect(to: h.endpoint, provingKey: key)
        sender = MessageSender(connection.outbound)
        receiver = MessageReceiver(connection)
        try await sender.send(.hello(Hello(role: .host, codecs: ["none"], cols: 80, rows: 24, options: options)))
        answer = try await receiver.next()
    }

    var welcome: Welcome? {
        if case .welcome(let w)? = answer { return w }
        return nil
    }

    var refusal: String? {
        if case .refused(_, let reason)? = answer { return reason }
        return nil
    }

    /// The first goodbye the relay sends (other messages skipped), or nil when the link ends without one.
    func goodbye() async -> String? {
        while let message = try? await receiver.next() {
            if case .goodbye(let reason, _) = message { return reason }
        }
        return nil
    }
}

/// Whether `work` finishes within `seconds`.
private func finishes(within seconds: Double, _ work: @escaping @Sendable () async -> Void) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask { await work(); return true }
        group.addTask { try? await Task.sleep(for: .seconds(seconds)); return false }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
}

@Test func namesAreCheckedAsTmateChecksThem() {
    for good in ["a", "build", "ci-42", "A-b-C", String(repeating: "x", count: 50)] {
        #expect(SessionNames.problem(with: good) == nil, "\(good)")
    }
    for bad in ["", "-a", "a-", "a--b", "a b", "a/b", "a_b", "é", String(repeating: "x", count: 51), "a\u{1b}[2J"] {
        #expect(SessionNames.problem(with: bad) != nil, "\(bad)")
    }
    #expect(SessionNames.problem(with: "a\nb")?.contains("\n") == false)
    #expect(SessionNames.namespace(forAPIKey: teamKey, in: [teamKey: "team"]) == "team")
    #expect(SessionNames.namespace(forAPIKey: String(teamKey.dropLast()), in: [teamKey: "team"]) == nil)
    #expect(SessionNames.namespace(forAPIKey: nil, in: [teamKey: "team"]) == nil)
}

@Test func aNamedSessionsTokensComeFromItsKeysNamespace() async throws {
    let h = try await Harness(options: relayOptions())
    let host = try await NamedHost(h, ["api_key": teamKey, SessionNames.nameOption: "build", SessionNames.readOnlyNameOption: "build-ro"])
    let w = try #require(host.welcome, "\(String(describing: host.answer))")
    #expect(w.readWriteToken == "team/build")
    #expect(w.readOnlyToken == "team/build-ro")
    #expect(w.connectionStrings.contains { $0.hasSuffix("/team/build") }, "\(w.connectionStrings)")
    // Without a read-only name the read-only token is random.
    let other = try await NamedHost(h, ["api_key": otherKey, SessionNames.nameOption: "build"])
    let o = try #require(other.welcome)
    #expect(o.readWriteToken == "other/build")
    #expect(!o.readOnlyToken.contains("/") && o.readOnlyToken.count >= 22)
    // Viewers join by the names: a read-only one types nothing.
    let terminal = FakeViewerTerminal()
    let (input, typing) = AsyncStream<[UInt8]>.makeStream()
    let viewer = h.join(token: "team/build-ro", terminal: terminal, input: input)
    try await host.sender.send([.output(seq: 0, bytes: Array("named-output\r\n".utf8))])
    #expect(await eventually { terminal.text.contains("named-output") }, "\(terminal.text)")
    typing.finish()
    viewer.cancel()
    await h.stop()
}

@Test func namedSessionsAreRefusedWithWhatToDo() async throws {
    let h = try await Harness(options: relayOptions())
    let cases: [(String, [String: String], String)] = [
        ("no API key", [SessionNames.nameOption: "build"], "named sessions need an API key this relay knows"),
        ("an unknown API key", ["api_key": teamKey + "x", SessionNames.nameOption: "build"], "is not listed in its relay.access.api_keys"),
        ("a bad name", ["api_key": teamKey, SessionNames.nameOption: "a--b"], "single hyphens"),
        ("a read-only name alone", ["api_key": teamKey, SessionNames.readOnlyNameOption: "ro"], "needs a session name"),
        ("the same read-only name", ["api_key": teamKey, SessionNames.nameOption: "x", SessionNames.readOnlyNameOption: "x"], "must differ"),
    ]
    for (label, options, expected) in cases {
        let host = try await NamedHost(h, options)
        #expect(host.refusal?.contains(expected) == true, "\(label): \(String(describing: host.answer))")
    }
    await h.stop()
    // A relay that gives no namespaces says so.
    let plain = try await Harness()
    let host = try await NamedHost(plain, ["api_key": teamKey, SessionNames.nameOption: "build"])
    #expect(host.refusal?.contains("has no named sessions") == true, "\(String(describing: host.answer))")
    await plain.stop()
}

@Test func theOwnerConnectingAgainTakesTheNameOver() async throws {
    let h = try await Harness(options: relayOptions())
    let first = try await NamedHost(h, ["api_key": teamKey, SessionNames.nameOption: "build"])
    let old = try #require(first.welcome)
    let terminal = FakeViewerTerminal()
    let (input, typing) = AsyncStream<[UInt8]>.makeStream()
    let viewer = h.join(token: "team/build", terminal: terminal, input: input)
    try await first.sender.send([.output(seq: 0, bytes: Array("first-host\r\n".utf8))])
    #expect(await eventually { terminal.text.contains("first-host") })

    // The same namespace's key, the same name: the new session has the tokens, the old one's host link and its
    // viewers are told and closed.
    let second = try await NamedHost(h, ["api_key": teamKey, SessionNames.nameOption: "build"])
    let new = try #require(second.welcome, "\(String(describing: second.answer))")
    #expect(new.readWriteToken == "team/build" && new.sessionID != old.sessionID)
    // The old host's link ends (a host that is still there reconnects; a stale one is gone).
    #expect(await finishes(within: 5) { _ = await first.goodbye() }, "the replaced host's link stays open")
    let outcome = try await viewer.value
    #expect(outcome.reason.contains("replaced"), "\(outcome)")
    typing.finish()

    // A viewer joining now sees the new host's session.
    let again = FakeViewerTerminal()
    let (input2, typing2) = AsyncStream<[UInt8]>.makeStream()
    let rejoin = h.join(token: "team/build", terminal: again, input: input2)
    try await second.sender.send([.output(seq: 0, bytes: Array("second-host\r\n".utf8))])
    #expect(await eventually { again.text.contains("second-host") }, "\(again.text)")
    #expect(!again.text.contains("first-host"))
    #expect(await h.relay.sessionCount == 1)
    typing2.finish()
    rejoin.cancel()
    await h.stop()
}

private let aliceKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAliceAliceAliceAliceAliceAliceAliceAlice"
private let malloryKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMalloryMalloryMalloryMalloryMalloryMal"

@Test func aHostsSSHKeyOwnsTheNamespaceItNamesFirst() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftmate-ns-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var options = relayOptions()
    options.namespaceOwners = try NamespaceOwners(stateDirectory: directory)
    let h = try await Harness(options: options)
    let alice = try await NamedHost(h, [SessionNames.nameOption: "alice/build", SessionNames.readOnlyNameOption: "build-ro"], key: aliceKey + " alice@laptop")
    let w = try #require(alice.welcome, "\(String(describing: alice.answer))")
    #expect(w.readWriteToken == "alice/build" && w.readOnlyToken == "alice/build-ro")
    let terminal = FakeViewerTerminal()
    let (input, typing) = AsyncStream<[UInt8]>.makeStream()
    let viewer = h.join(token: "alice/build-ro", terminal: terminal, input: input)

    // Another key cannot name a session there, nor take Alice's over; a host without a key, a name without a
    // namespace and an API key's namespace are refused saying what to do.
    let cases: [(String, [String: String], String?, String)] = [
        ("another key, the live name", [SessionNames.nameOption: "alice/build"], malloryKey, "owned by another SSH key"),
        ("another key, a new name", [SessionNames.nameOption: "alice/other"], malloryKey, "owned by another SSH key"),
        ("no key", [SessionNames.nameOption: "bob/build"], nil, "proved none"),
        ("no namespace", [SessionNames.nameOption: "build"], malloryKey, "or a namespace of the host's SSH key: -n NAMESPACE/build"),
        ("an API key's namespace", [SessionNames.nameOption: "team/build"], malloryKey, "needs its API key"),
        ("two slashes", [SessionNames.nameOption: "a/b/c"], malloryKey, "more than one '/'"),
        ("a read-only name elsewhere", [SessionNames.nameOption: "mallory/x", SessionNames.readOnlyNameOption: "alice/y"], malloryKey,
         "in the session's namespace"),
    ]
    for (label, options, key, expected) in cases {
        let host = try await NamedHost(h, options, key: key)
        #expect(host.refusal?.contains(expected) == true, "\(label): \(String(describing: host.answer))")
    }
    // Alice's session is untouched: its viewer still gets her output.
    try await alice.sender.send([.output(seq: 0, bytes: Array("alice-output\r\n".utf8))])
    #expect(await eventually { terminal.text.contains("alice-output") }, "\(terminal.text)")
    #expect(await h.relay.sessionCount == 1)
    // Mallory owns a namespace of her own; Alice opens another session in hers (the key, not the comment, counts).
    #expect(try await NamedHost(h, [SessionNames.nameOption: "mallory/x"], key: malloryKey).welcome?.readWriteToken == "mallory/x")
    #expect(try await NamedHost(h, [SessionNames.nameOption: "alice/ci"], key: aliceKey).welcome?.readWriteToken == "alice/ci")
    typing.finish()
    viewer.cancel()
    await h.stop()

    // Ownership is kept in the state directory: a relay started on it again knows the owners.
    let again = try NamespaceOwners(stateDirectory: directory)
    #expect(again.claim("alice", key: malloryKey) == .ownedByAnother)
    #expect(again.claim("alice", key: aliceKey) == .owned)
    #expect(again.claim("mallory", key: malloryKey) == .owned)
    #expect(again.claim("carol", key: aliceKey) == .claimed)
    // A damaged file is an error naming its line, not a namespace silently freed.
    let file = directory + "/namespaces"
    try (try String(contentsOfFile: file, encoding: .utf8) + "carol\n").write(toFile: file, atomically: true, encoding: .utf8)
    #expect(throws: SwiftMateError.self) { try NamespaceOwners(stateDirectory: directory) }
    do { _ = try NamespaceOwners(stateDirectory: directory) } catch let error as SwiftMateError {
        #expect(error.message.contains("namespaces:4:"), "\(error.message)")
    }
}

@Test func aRelayWithoutKeyOwnedNamespacesSaysHowToName() async throws {
    let h = try await Harness(options: relayOptions())
    let host = try await NamedHost(h, [SessionNames.nameOption: "alice/build"], key: aliceKey)
    #expect(host.refusal?.contains("the namespace 'alice' needs its API key") == true, "\(String(describing: host.answer))")
    await h.stop()
    var options = RelayOptions()
    options.namespaceOwners = NamespaceOwners()
    let owned = try await Harness(options: options)
    let bare = try await NamedHost(owned, [SessionNames.nameOption: "build"], key: aliceKey)
    #expect(bare.refusal?.contains("-n NAMESPACE/build") == true, "\(String(describing: bare.answer))")
    await owned.stop()
}
