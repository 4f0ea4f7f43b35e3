// YAML configuration: good files load; errors name the key path, the bad value and the allowed ones.
import Testing
import SwiftMateCore
import SwiftMateTestSupport

private func registry() -> PluginRegistry {
    var r = PluginRegistry()
    r.register(transport: "memory") { _ in InMemoryTransport() }
    r.register(codec: "fake") { _ in NoCodec() }
    r.register(frontend: "memory") { _, _ in MemoryFrontend() }
    return r
}

@Test func aFullConfigLoads() throws {
    let yaml = """
    codecs: {fake: {}}
    host:
      relay: memory://relay:7022
      codecs: [fake, none]
      headless_size: 100x30
      command: [bash, -l]
      frontends: [memory, {memory: {x: 1}}]
    relay:
      listen: [memory://0.0.0.0:7022]
      public_host: relay.example.com
      codecs: none
      limits: {viewer_queue_bytes: 1048576, max_viewers: 5}
    """
    let c = try SwiftMateConfig.parse(yaml: yaml, file: "t.yaml", registry: registry())
    #expect(c.hostRelay == Endpoint(scheme: "memory", host: "relay", port: 7022))
    #expect(c.hostCodecs == ["fake", "none"])
    #expect(c.headlessSize == (100, 30))
    #expect(c.command == ["bash", "-l"])
    #expect(c.frontends.map(\.name) == ["memory", "memory"])
    #expect(c.relay.codecs == ["none"])
    #expect(c.relay.maxViewersPerSession == 5)
    #expect(c.relay.publicHost == "relay.example.com")
}

private func message(_ yaml: String) -> String {
    do {
        _ = try SwiftMateConfig.parse(yaml: yaml, file: "bad.yaml", registry: registry())
        return "(no error)"
    } catch let e as SwiftMateError {
        return e.message
    } catch {
        return "\(error)"
    }
}

@Test func errorsNameThePathTheValueAndTheAllowedOnes() {
    #expect(message("host: {codecs: [lz5]}") == "bad.yaml: host.codecs[0]: 'lz5' is not allowed; allowed: fake, none")
    #expect(message("host: {relay: tcp://x:1}").contains("unknown transport 'tcp'"))
    #expect(message("host: {relay: tcp://x:1}").contains("known: memory"))
    #expect(message("host: {colour: red}") == "bad.yaml: host.colour: unknown key 'colour'; allowed here: api_key, codecs, command, foreground_restart, frontends, headless_size, reconnect, record_at_relay, relay, relay_fingerprints, replay_bytes, trust_on_first_use")
    #expect(message("host: {headless_size: big}").contains("'big' is not a size"))
    #expect(message("relay: {limits: {max_viewers: -3}}").contains("relay.limits.max_viewers: '-3' is not a whole number"))
    #expect(message("host: {frontends: [recorder]}").contains("unknown frontend 'recorder'; known: memory"))
    #expect(message("host: [").contains("not valid YAML"))
    #expect(message("codecs: {lz4: {}}").contains("unknown codec 'lz4'; known: fake, none"))
}

@Test func theRegistryNamesTheKnownPluginsForAnUnknownOne() {
    #expect(throws: SwiftMateError(.unknownPlugin, "unknown codec 'lz5'; known: fake, none")) {
        try registry().codec("lz5")
    }
}

@Test func detachNeedsEnterTildeDot() {
    var d = DetachDetector()
    #expect(d.feed(Array("ls~.\r".utf8)) == (Array("ls~.\r".utf8), false))
    #expect(d.feed(Array("~~x".utf8)) == (Array("~x".utf8), false))
    #expect(d.feed(Array("\r~".utf8)) == (Array("\r".utf8), false))
    #expect(d.feed(Array(".".utf8)) == ([], true))
    var e = DetachDetector()
    #expect(e.feed(Array("~a".utf8)) == (Array("~a".utf8), false))
}

@Test func authorizedKeysFilesAreReadLikeOpenSSHDoes() throws {
    let text = "# team\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB alice@x\nno-pty,from=\"10.0.0.1\" ssh-rsa AAAAB3NzaC1yc2E= bob\n"
    #expect(try AuthorizedKeys.parse(text, source: "keys") == ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB", "ssh-rsa AAAAB3NzaC1yc2E="])
    #expect(throws: SwiftMateError.self) { try AuthorizedKeys.parse("# nothing\n", source: "keys") }
    do {
        _ = try AuthorizedKeys.parse("ssh-ed25519 AAAA ok\nnot a key line\n", source: "keys")
        Issue.record("accepted a line without a key")
    } catch let error as SwiftMateError {
        #expect(error.message.hasPrefix("keys:2: no public key on this line"))
    }
}

@Test func aPathsParentIsFoundForAnyTextEvenWhatFoundationTrapsOn() {
    #expect(FilePaths.parent(of: "a/b/c") == "a/b")
    #expect(FilePaths.parent(of: "a//b//") == "a")
    #expect(FilePaths.parent(of: "/c") == "/")
    #expect(FilePaths.parent(of: "/") == "/")
    #expect(FilePaths.parent(of: "c") == "")
    #expect(FilePaths.parent(of: "") == "")
    // What libyaml makes of bytes that are not UTF-8 (NSString.deletingLastPathComponent traps on it).
    let odd = String(decoding: Array("t/var/lib/s".utf8) + [0x93, 0x93] + Array("sh://0.0.0igu.r".utf8), as: UTF8.self)
    #expect(FilePaths.parent(of: odd) == "t/var/lib/s\u{FFFD}\u{FFFD}sh:")
}
