// The stats frontend passes SwiftMate's frontend contract and counts what it is shown.
import Foundation
import StatsFrontend
import SwiftMateCore
import SwiftMateTestSupport
import Testing

@Suite struct StatsFrontendTests {
    private func options(_ yaml: String) throws -> StatsFrontend.Options {
        try StatsFrontend.Options(ConfigNode.parse(yaml: yaml, file: "test.yaml"))
    }

    @Test func passesTheFrontendContract() async throws {
        let path = NSTemporaryDirectory() + "stats-contract-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let frontend = StatsFrontend(options: try options("{path: \(path), alert: contract}"))
        try await FrontendContract.check(frontend)
        let written = try JSONDecoder().decode(SessionStats.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(written.ended && written.exitStatus == 0)
        #expect(written.joins == 1 && written.leaves == 1 && written.viewers == 0)
        #expect(written.cols == 300 && written.rows == 100 && written.resizes == 2)
        #expect(written.outputBytes > 1 << 20)
    }

    @Test func countsAlertsAcrossChunkBoundaries() {
        var carry: [UInt8] = []
        let pattern = Array("ERROR".utf8)
        var total = 0
        for chunk in ["ok ERR", "OR and ERROR", "ERRORERR", "OR", "E", "RROR"] {
            total += StatsFrontend.count(pattern, in: Array(chunk.utf8), carry: &carry)
        }
        #expect(total == 5)
    }

    @Test func badOptionsNameTheKey() {
        #expect(throws: SwiftMateError.self) { try options("{}") }
        #expect(throws: SwiftMateError.self) { try options("{path: /tmp/x, interval_ms: 1}") }
        #expect(throws: SwiftMateError.self) { try options("{path: /tmp/x, colour: red}") }
    }
}
