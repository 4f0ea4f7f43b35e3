// A relay that lists its hosts (relay.hosts) lets only those open sessions; viewers and the embedded host are unaffected.
import Testing
import SwiftMateCore
import SwiftMateTestSupport

private let listedKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOfTheListedHost000000000000000000"
private let apiKey = "k3y-0f-the-listed-h0st-abcdef"

/// A host link to `relay` as a remote host's (no in-process route), proving `publicKey` if given.
private func hostHello(_ relay: Relay, publicKey: String?, apiKey: String?) async throws -> Message? {
    var (client, server) = LocalLink.pair(peerA: "10.1.1.1:4000", peerB: "relay")
    // (no in-process route: the relay checks this host as a remote one)
    server.publicKey = publicKey
    Task { await relay.handle(server) }
    let sender = MessageSender(client.outbound), receiver = MessageReceiver(client)
    try await sender.send(.hello(Hello(role: .host, codecs: ["none"], options: apiKey.map { ["api_key": $0] } ?? [:])))
    let answer = try await receiver.next()
    await client.outbound.close()
    return answer
}

@Test func onlyListedHostsOpenSessions() async throws {
    var options = RelayOptions()
    options.hostAccess = HostAccess(keys: [listedKey], apiKeys: [apiKey])
    let h = try await Harness(options: options)
    let cases: [(String, String?, String?, Bool)] = [
        ("no key", nil, nil, false),
        ("a wrong API key", nil, apiKey + "x", false),
        ("a prefix of the API key", nil, String(apiKey.dropLast()), false),
        ("an unlisted ssh key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther", nil, false),
        ("the API key", nil, apiKey, true),
        ("the listed ssh key", listedKey, nil, true),
    ]
    for (label, key, api, admitted) in cases {
        let answer = try await hostHello(h.relay, publicKey: key, apiKey: api)
        switch answer {
        case .welcome?: #expect(admitted, "\(label) was admitted")
        case .refused(let code, let reason)?:
            #expect(!admitted, "\(label) was refused")
            #expect(code == .notAllowed)
            #expect(reason.contains("relay.hosts"))
        default: Issue.record("\(label): \(String(describing: answer))")
        }
    }
    await h.stop()
}

@Test func theEmbeddedHostNeedsNoKeyAndViewersAreUnaffected() async throws {
    var options = RelayOptions()
    options.hostAccess = HostAccess(apiKeys: [apiKey])
    // The harness's host links with the in-process route, as an embedded relay's host does.
    let h = try await Harness(options: options, embeddedHost: true)
    let status = HostStatus()
    let host = h.startHost(FakeHostTerminal(), status: status)
    await status.waitReady()
    host.upstream.push(.output(seq: 0, bytes: Array("hosted\r\n".utf8)))
    let view = FakeViewerTerminal()
    let viewer = h.join(token: await h.token(status, readOnly: false), terminal: view, input: AsyncStream { _ in })
    #expect(await eventually { view.text.contains("hosted") })
    host.finish(exitStatus: 0)
    _ = try await viewer.value
    await h.stop()
}

@Test func theHostLoginMustOfferAKeyOnlyWhenKeysAreTheOnlyWay() {
    let keysOnly = RelayAccess(hosts: HostAccess(keys: [listedKey]))
    #expect(keysOnly.requiresPublicKey(token: RelayAccess.hostLogin))
    #expect(keysOnly.admits(token: RelayAccess.hostLogin, key: listedKey))
    #expect(!keysOnly.admits(token: RelayAccess.hostLogin, key: "ssh-ed25519 AAAAother"))
    let either = RelayAccess(hosts: HostAccess(keys: [listedKey], apiKeys: [apiKey]))
    #expect(!either.requiresPublicKey(token: RelayAccess.hostLogin), "an API key may come with a login without a key")
    #expect(!RelayAccess().requiresPublicKey(token: RelayAccess.hostLogin))
}
