// The ssh transport passes the transport contract over the swiftmate subsystem, keeps its host keys, pins them.
import Foundation
import Testing
import SwiftMateCore
import SwiftMateSSH
import SwiftMateTestSupport

private func stateDirectory() -> String {
    NSTemporaryDirectory() + "swiftmate-ssh-" + UUID().uuidString.prefix(8)
}

@Test func sshPassesTheTransportContract() async throws {
    let dir = stateDirectory()
    let keys = try SSHHostKeys.loadOrCreate(in: dir)
    var options = SSHTransport.Options(stateDirectory: dir)
    options.fingerprints = keys.keys.map(\.fingerprint)
    try await TransportContract.check(SSHTransport(options: options), endpoint: Endpoint(scheme: "ssh", host: "127.0.0.1", port: 0))
}

@Test func hostKeysAreCreatedOncePrivateAndKept() throws {
    let dir = stateDirectory()
    let first = try SSHHostKeys.loadOrCreate(in: dir)
    #expect(first.keys.map(\.type) == ["ed25519", "rsa"])
    for key in first.keys {
        let mode = (try FileManager.default.attributesOfItem(atPath: key.path)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600, "\(key.path) is \(String(mode, radix: 8))")
        #expect(SSHFingerprint.isWellFormed(key.fingerprint))
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
