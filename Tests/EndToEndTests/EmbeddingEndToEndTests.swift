// The embedding examples (examples/embedding, its own package): a custom frontend chosen from YAML sees a real
// session; a program that embeds a host prints working join strings; unknown names list built-in and registered ones.
import Foundation
import Testing

/// The repository's root (three levels above this file).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// An executable of the examples package, built by `scripts/test.sh` (`swift build --package-path examples/embedding`).
func exampleBinary(_ name: String) throws -> String {
    let path = repositoryRoot.appendingPathComponent("examples/embedding/.build/debug/\(name)").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw HarnessError("\(path) is missing: build the examples first (swift build --package-path examples/embedding), as scripts/test.sh does")
    }
    return path
}

/// The stats frontend's latest JSON snapshot.
private func stats(_ path: String) -> [String: Any] {
    guard let data = FileManager.default.contents(atPath: path),
          let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
    return json
}

extension EndToEnd { @Suite struct EmbeddingExamples {
    @Test func theCustomFrontendChosenInYAMLSeesOutputResizesJoinsAndLeaves() throws {
        let statsHost = try exampleBinary("stats-host")
        let dir = try scratchDirectory()
        let statsFile = dir + "/stats.json"
        try "host:\n  frontends:\n    - stats: {path: \(statsFile), alert: ALERT, interval_ms: 100}\n"
            .write(toFile: dir + "/stats.yaml", atomically: true, encoding: .utf8)
        let socket = dir + "/host.sock"
        let host = try Background([statsHost, "-f", dir + "/stats.yaml", "-S", socket, "bash", "--norc", "--noprofile"], log: dir + "/host.log")
        defer { host.stop() }
        let strings = try connectionStrings(socket: socket)
        #expect(host.log.contains("tcp session: swiftmate join"), "the example prints the join strings: \(host.log)")

        // A read-write viewer 90x20: the headless host takes its size.
        let viewer = try TmuxPane("\(swiftmateBinary) join \(joinURL(strings["tcp session"]))", cols: 90, rows: 20)
        try viewer.type("echo ALERT-$((40+2))")
        try viewer.send("Enter")
        #expect(viewer.waitFor("\nALERT-42"), "viewer: \(viewer.screen())")
        #expect(waitUntil {
            let s = stats(statsFile)
            return s["joins"] as? Int == 1 && s["viewers"] as? Int == 1 && s["cols"] as? Int == 90 && s["rows"] as? Int == 20
                && (s["resizes"] as? Int ?? 0) >= 1 && (s["outputBytes"] as? Int ?? 0) > 0 && (s["alerts"] as? Int ?? 0) >= 2
        }, "stats after the join, resize and output: \(stats(statsFile))")

        try viewer.send("Enter")
        try viewer.type("~.")
        #expect(viewer.waitFor("[swiftmate: detached]"))
        #expect(waitUntil { stats(statsFile)["leaves"] as? Int == 1 && stats(statsFile)["viewers"] as? Int == 0 },
                "stats after the leave: \(stats(statsFile))")

        host.stop()
        #expect(waitUntil { stats(statsFile)["ended"] as? Bool == true }, "stats at the end: \(stats(statsFile))")
    }

    @Test func anUnknownNameListsTheBuiltInAndRegisteredPlugins() throws {
        let statsHost = try exampleBinary("stats-host")
        let dir = try scratchDirectory()
        try "host:\n  frontends: [{statz: {path: /tmp/x}}]\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
        let result = try run([statsHost, "-f", dir + "/bad.yaml", "--check"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("host.frontends[0]: unknown frontend 'statz'; known: ansi, recorder, stats"), "\(result.stderr)")
        // The example's own YAML passes the same check.
        let good = try run([statsHost, "-f", repositoryRoot.appendingPathComponent("examples/embedding/stats.yaml").path, "--check"])
        #expect(good.status == 0, "\(good.stdout)")
    }

    @Test func aProgramThatEmbedsAHostPrintsWorkingJoinStrings() throws {
        let shareCommand = try exampleBinary("share-command")
        let dir = try scratchDirectory()
        let host = try Background([shareCommand, "sh", "-c", "read line; echo got-$line"], log: dir + "/share.log")
        defer { host.stop() }
        #expect(waitUntil { host.log.contains("tcp session read only:") }, "\(host.log)")
        let url = host.log.split(separator: "\n").first { $0.contains("  tcp session: ") }.map { joinURL(String($0)) } ?? ""
        let viewer = try TmuxPane("\(swiftmateBinary) join \(url)")
        try viewer.type("hello")
        try viewer.send("Enter")
        #expect(viewer.waitFor("got-hello"), "viewer: \(viewer.screen())")
        #expect(host.child.wait(timeout: 20) == 0)
    }
} }
