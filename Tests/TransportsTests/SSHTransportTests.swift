// The ssh transport passes the transport contract over the swiftmate subsystem, keeps its host keys, pins them.
import Foundation
import Glibc
import Testing
import SwiftMateCore
import SwiftMateSSH
import SwiftMateTestSupport

private func stateDirectory() -> String {
    NSTemporaryDirectory() + "swiftmate-ssh-" + UUID().uuidString.prefix(8)
}

/// An ssh transport with fresh host keys that its own client side pins.
private func pinnedTransport() throws -> SSHTransport {
    let dir = stateDirectory()
    let keys = try SSHHostKeys.loadOrCreate(in: dir)
    var options = SSHTransport.Options(stateDirectory: dir)
    options.fingerprints = keys.keys.map(\.fingerprint)
    return SSHTransport(options: options)
}

private let loopback = Endpoint(scheme: "ssh", host: "127.0.0.1", port: 0)

@Test func sshPassesTheTransportContract() async throws {
    try await TransportContract.check(try pinnedTransport(), endpoint: loopback)
}

@Test func hostKeysAreCreatedOncePrivateAndKept() throws {
    let dir = stateDirectory()
    let first = try SSHHostKeys.loadOrCreate(in: dir)
    #expect(first.keys.map(\.type) == ["ed25519", "rsa"])
    for key in first.keys {
        let mode = (try FileManager.default.attributesOfItem(atPath: key.path)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600, "\(key.path) is \(String(mode, radix: 8))")
        #expect(HostKeyFingerprint.isWellFormed(key.fingerprint))
    }
    #expect(try SSHHostKeys.loadOrCreate(in: dir).keys == first.keys, "the same keys after a restart")
}

@Test func anUnpinnedRelayIsRefusedNamingBothFingerprints() async throws {
    let dir = stateDirectory()
    let keys = try SSHHostKeys.loadOrCreate(in: dir)
    let listener = try await SSHTransport(options: .init(stateDirectory: dir)).listen(on: Endpoint(scheme: "ssh", host: "127.0.0.1", port: 0))
    let serving = Task { try? await listener.run { await $0.outbound.close() } }
    defer { serving.cancel() }
    var options = SSHTransport.Options(stateDirectory: stateDirectory())
    options.fingerprints = ["SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"]
    do {
        let connection = try await SSHTransport(options: options).connect(to: listener.localEndpoint)
        await connection.outbound.close()
        Issue.record("connected to a relay whose key is not pinned")
    } catch let error as SwiftMateError {
        #expect(error.code == .refused)
        #expect(error.message.contains(keys.keys[0].fingerprint) || error.message.contains(keys.keys[1].fingerprint))
        #expect(error.message.contains("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    }
    await listener.close()
}

/// A TCP connection to `endpoint` that says nothing (it stays in the ssh key exchange).
private func silentConnection(to endpoint: Endpoint) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_port = in_port_t(UInt16(endpoint.port).bigEndian)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    return fd
}

@Test func oneAddressMayHoldOnlySoManyUnfinishedSSHLogins() async throws {
    let dir = stateDirectory()
    let keys = try SSHHostKeys.loadOrCreate(in: dir)
    var serverOptions = SSHTransport.Options(stateDirectory: dir)
    serverOptions.maxSetupsPerAddress = 3
    let listener = try await SSHTransport(options: serverOptions).listen(on: Endpoint(scheme: "ssh", host: "127.0.0.1", port: 0))
    let serving = Task { try? await listener.run { await $0.outbound.close() } }
    defer { serving.cancel() }
    let silent = (0..<3).map { _ in silentConnection(to: listener.localEndpoint) }
    try await Task.sleep(for: .milliseconds(300))
    // The fourth from the same address is closed at once: it reads end of file, not the server's banner.
    let fourth = silentConnection(to: listener.localEndpoint)
    var byte: UInt8 = 0
    var tv = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fourth, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    #expect(read(fourth, &byte, 1) == 0)
    close(fourth)
    // Once one of them goes (its session thread sees the close and gives the slot back; on a busy machine that
    // can take a moment, and until then a new one is still turned away), a real client logs in.
    close(silent[0])
    var clientOptions = SSHTransport.Options(stateDirectory: stateDirectory())
    clientOptions.fingerprints = keys.keys.map(\.fingerprint)
    var connection: Connection?
    for _ in 0..<40 where connection == nil {
        try await Task.sleep(for: .milliseconds(250))
        connection = try? await SSHTransport(options: clientOptions).connect(to: listener.localEndpoint)
    }
    #expect(connection != nil, "no login within 10 s after a slot was freed")
    await connection?.outbound.close()
    silent.dropFirst().forEach { close($0) }
    await listener.close()
}

@Suite struct RelayPinningTests {
    private let fingerprint = "SHA256:eDEV4Vo81iSHzYE04X6c1X0rcxpbXSUPc8tE/os2x6k"

    @Test func fingerprintsAreTakenAloneOrBesideTheirKeyType() {
        #expect(HostKeyFingerprint.parse(fingerprint) == fingerprint)
        #expect(HostKeyFingerprint.parse("ed25519 \(fingerprint)") == fingerprint)
        #expect(HostKeyFingerprint.parse("\(fingerprint)\ted25519") == fingerprint)
        for bad in ["", "SHA256:short", "MD5:aa:bb", "ed25519 rsa \(fingerprint)", "\(fingerprint) \(fingerprint)", "SHA256:" + String(repeating: "é", count: 43)] {
            #expect(HostKeyFingerprint.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func knownRelaysKeepTrustedKeysAndNameABadLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("known-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var known = try KnownRelays(path: dir + "/swiftmate/known_relays")
        #expect(known.fingerprints(host: "relay.example", port: 2222).isEmpty)
        try known.add(RelayHostKey(host: "relay.example", port: 2222, type: "ed25519", fingerprint: fingerprint))
        try known.add(RelayHostKey(host: "::1", port: 2222, type: "rsa", fingerprint: fingerprint))
        let again = try KnownRelays(path: dir + "/swiftmate/known_relays")
        #expect(again.fingerprints(host: "relay.example", port: 2222) == [fingerprint])
        #expect(again.fingerprints(host: "relay.example", port: 2223).isEmpty)
        #expect(again.fingerprints(host: "::1", port: 2222) == [fingerprint])
        var info = stat()
        #expect(stat(dir + "/swiftmate/known_relays", &info) == 0 && info.st_mode & 0o777 == 0o600)
        try "# a comment\nrelay.example:2222 not-a-fingerprint\n".write(toFile: dir + "/bad", atomically: true, encoding: .utf8)
        #expect(throws: SwiftMateError.self) { try KnownRelays(path: dir + "/bad") }
        do { _ = try KnownRelays(path: dir + "/bad") } catch let error as SwiftMateError {
            #expect(error.message.hasPrefix("\(dir)/bad:2: expected 'HOST:PORT SHA256:… TYPE'"), "\(error.message)")
        }
    }
}

@Test func theRelayScenariosPassOverSSH() async throws {
    try await RelayScenarios.check(try pinnedTransport(), endpoint: loopback)
}

@Test func aLoginMovesToTheLoopItsTokenBelongsOnAndItsTasksRunThere() async throws {
    let loops = try IOLoopGroup(count: 3, name: "test-ssh")
    defer { loops.stop() }
    let target = loops.loops[2]
    let transport = try pinnedTransport()
    let listener = try await transport.listen(on: loopback, context: ListenContext(
        loops: loops, loopForLogin: { $0 == "swiftmate" ? target : nil }))
    let seen = AsyncStream<(onTarget: Bool, runsThere: Bool)>.makeStream()
    let serving = Task {
        try await listener.run { connection in
            seen.continuation.yield((connection.loop === target, target.inLoop))
            do { for try await _ in connection.inbound {} } catch {}
        }
    }
    let client = try await transport.connect(to: listener.localEndpoint)
    var results = seen.stream.makeAsyncIterator()
    let first = await results.next()
    #expect(first?.onTarget == true, "the connection was moved to its token's loop")
    #expect(first?.runsThere == true, "the relay's work for the connection starts on that loop")
    await client.outbound.close()
    await listener.close()
    serving.cancel()
}
