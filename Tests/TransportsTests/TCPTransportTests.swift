// The TCP transport passes the transport contract on loopback and reports refused connections clearly.
import Testing
import SwiftMateCore
import SwiftMateTCP
import SwiftMateTestSupport

@Test func tcpPassesTheTransportContract() async throws {
    try await TransportContract.check(TCPTransport(), endpoint: Endpoint(scheme: "tcp", host: "127.0.0.1", port: 0))
}

@Test func connectingToAClosedPortIsAClearError() async throws {
    // Port 1 (tcpmux) has no listener here; a port freed by another test could be reused concurrently.
    let endpoint = Endpoint(scheme: "tcp", host: "127.0.0.1", port: 1)
    do {
        let connection = try await TCPTransport().connect(to: endpoint)
        await connection.outbound.close()
        Issue.record("connected to \(endpoint)")
    } catch let error as SwiftMateError {
        #expect(error.code == .connectionLost)
        #expect(error.message == "cannot reach relay 127.0.0.1:1: connection refused", "in words, not swift-nio's values")
    }
}

@Test func theRelayScenariosPassOverTCP() async throws {
    try await RelayScenarios.check(TCPTransport(), endpoint: Endpoint(scheme: "tcp", host: "127.0.0.1", port: 0))
}
