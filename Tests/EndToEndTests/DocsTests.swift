// docs/EMBEDDING.md's Swift examples are the examples package's code (which CI compiles), character for character.
import Foundation
import Testing

@Test func theEmbeddingGuidesExamplesAreCompiledCode() throws {
    let guide = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/EMBEDDING.md"), encoding: .utf8)
    var checked = 0
    for block in guide.components(separatedBy: "```swift\n").dropFirst() {
        guard let end = block.range(of: "```") else { continue }
        var lines = block[..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, first.hasPrefix("// from ") else { continue }
        let path = String(first.dropFirst("// from ".count))
        lines.removeFirst()
        let code = lines.joined(separator: "\n")
        let source = try String(contentsOf: repositoryRoot.appendingPathComponent(path), encoding: .utf8)
        #expect(source.contains(code), "docs/EMBEDDING.md quotes \(path), but the file no longer contains:\n\(code)")
        checked += 1
    }
    #expect(checked >= 4, "the guide's compiled examples")
}

@Test func theManPageHasConfigurationEnvironmentFilesAndExamplesThatAreTrue() throws {
    let page = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/man/swiftmate.1"), encoding: .utf8)
    for section in ["CONFIGURATION", "ENVIRONMENT", "FILES", "EXAMPLES"] {
        #expect(page.contains(".Sh \(section)\n"), "the man page has \(section) (docs/man/sections.mdoc; scripts/man.sh)")
    }
    // What the sections name is what the code uses.
    let sources = ["Sources/Core/System/ControlSocketDirectory.swift", "Sources/Transports/SSH/RelayPinning.swift",
                   "Sources/Core/SwiftMateCore/Config/SwiftMateConfig.swift", "Sources/SwiftMate/SharedSession.swift"]
        .map { (try? String(contentsOf: repositoryRoot.appendingPathComponent($0), encoding: .utf8)) ?? "" }.joined()
    for name in ["\"SWIFTMATE_SOCKET\"", "\"SWIFTMATE\"", "swiftmate-\\(getuid())", "/host-\\(getpid()).sock", "/swiftmate/known_relays",
                 "\"relay_fingerprints\"", "\"trust_on_first_use\""] {
        #expect(sources.contains(name), "the man page describes \(name), which the code no longer has")
    }
    // Every example's command is one the CLI knows.
    for line in page.split(separator: "\n") where line.hasPrefix(".Dl swiftmate") {
        let arguments = line.split(separator: " ").dropFirst(2).map {
            $0 == "SHA256:..." ? "SHA256:" + String(repeating: "A", count: 43) : $0.replacingOccurrences(of: "'", with: "")
        }
        // (After new-session come the shared command's own arguments: the help goes before them.)
        let flags = arguments.firstIndex(of: "new-session").map { Array(arguments[...$0]) } ?? arguments
        let help = try run([swiftmateBinary] + flags + ["--help"])
        #expect(help.status == 0, "\(line): \(help.stderr)")
    }
}

@Test func installPutsTheBinaryManPageAndCompletionsUnderAPrefix() throws {
    let prefix = try scratchDirectory() + "/prefix"
    let result = try run([repositoryRoot.appendingPathComponent("scripts/install.sh").path, "--prefix", prefix, "--binary", swiftmateBinary], timeout: 120)
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("installed \(prefix)/bin/swiftmate"), "it says where: \(result.stdout)")
    let version = try run([prefix + "/bin/swiftmate", "--version"])
    #expect(version.status == 0 && !version.stdout.isEmpty, "\(version)")
    let man = try String(contentsOfFile: prefix + "/share/man/man1/swiftmate.1", encoding: .utf8)
    #expect(man.contains(".Sh EXAMPLES"))
    let bash = try run(["bash", "-c", "source \(prefix)/share/bash-completion/completions/swiftmate && complete -p swiftmate"])
    #expect(bash.status == 0 && bash.stdout.contains("swiftmate"), "\(bash)")
    for file in ["share/zsh/site-functions/_swiftmate", "share/fish/vendor_completions.d/swiftmate.fish"] {
        let text = (try? String(contentsOfFile: "\(prefix)/\(file)", encoding: .utf8)) ?? ""
        #expect(text.contains("relay-fingerprint"), "\(file) completes the host's flags")
    }
}
