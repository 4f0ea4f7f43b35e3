// `swiftmate config check`: the shipped examples pass; a bad file names the key path, value and allowed ones.
import Foundation
import Testing

@Test func theExampleConfigsPassConfigCheck() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot.appendingPathComponent("examples").path).filter { $0.hasSuffix(".yaml") }
    #expect(names.count >= 2, "examples/ holds the host and relay configs")
    for name in names {
        let result = try run([swiftmateBinary, "config", "check", repositoryRoot.appendingPathComponent("examples/\(name)").path])
        #expect(result.status == 0, "\(name): \(result.stdout)")
    }
}

@Test func aBadConfigIsExplained() throws {
    let dir = try scratchDirectory()
    let file = dir + "/bad.yaml"
    try "host:\n  codecs: [lz5]\n".write(toFile: file, atomically: true, encoding: .utf8)
    let result = try run([swiftmateBinary, "config", "check", file])
    #expect(result.status == 1)
    #expect(result.stderr.contains("host.codecs[0]: 'lz5' is not allowed; allowed: lz4, none, zlib"), "\(result.stderr)")
    try "relay:\n  listen: [udp://0.0.0.0:1]\n".write(toFile: file, atomically: true, encoding: .utf8)
    let second = try run([swiftmateBinary, "config", "check", file])
    #expect(second.stderr.contains("unknown transport 'udp'"), "\(second.stderr)")
    #expect(second.stderr.contains("known: ssh, tcp"))
}
