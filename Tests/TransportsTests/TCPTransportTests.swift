// The TCP transport passes the transport contract on loopback and reports refused connections clearly.
import Testing
import SwiftMateCore
import SwiftMateTCP
import SwiftMateTestSupport

@Test func tcpPassesTheTransportContract() async throws {
    try await TransportContract.check(TCPTransport(), endpoint: Endpoint(scheme: "tcp", host: "127.0.0.1", port: 0))
}

@Test func connectingToAClosedPortIsAClearError() async throws {
    let listener = try await TCPTransport().listen(on: Endpoint(scheme: "tcp", host: "127.0.0.1", port: 0))
    let endpoint = listener.localEndpoint
    await listener.close()
    do {
        _ = try await TCPTransport().connect(to: endpoint)
        Issue.record("connected to a closed port")
    } catch let error as SwiftMateError {
        #expect(error.message.contains("cannot connect to \(endpoint)"))
    }
}
