// YAML that would balloon or confuse: aliases, deep nesting, duplicate keys, syntax errors; each is one line.
import Testing
import SwiftMateCore

/// "Billion laughs": nine levels of nine aliases each, under 400 bytes, that would expand to 9^9 strings.
private let laughs: String = {
    var lines = [#"a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"#]
    var previous = "a"
    for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
        lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]")
        previous = name
    }
    return lines.joined(separator: "\n") + "\n"
}()

/// Each file, and the one line its error must be.
private let badFiles: [(yaml: String, error: String)] = [
    (laughs, "t.yaml:1:4: anchors and aliases (&name, *name) are not allowed in SwiftMate configuration; write the value out in full"),
    // An alias as a key: Yams would hash the whole expansion (minutes of CPU) before any check of ours.
    (laughs + "? *i\n: x\n", "t.yaml:1:4: anchors and aliases (&name, *name) are not allowed in SwiftMate configuration; write the value out in full"),
    ("host:\n  command: &c [bash]\n", "t.yaml:2:12: anchors and aliases (&name, *name) are not allowed in SwiftMate configuration; write the value out in full"),
    ("host: " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "\n",
     "t.yaml:1:23: nested more than 16 levels deep; a SwiftMate configuration is far shallower"),
    // Past libyaml's own limit (1000), which stops it where the nesting starts.
    ("host: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n",
     "t.yaml:1:8: nested more than 16 levels deep; a SwiftMate configuration is far shallower"),
    ("host:\n  reconnect: true\n  reconnect: false\n", "t.yaml:2:3: the key 'reconnect' appears more than once in one mapping; keep one of them"),
    ("host:\n  codecs: [lz4, zlib\n  reconnect: true\n",
     "t.yaml:3:12: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 11); fix the YAML there (`swiftmate config check FILE` checks it)"),
    ("host:\n\treconnect: true\n",
     "t.yaml:2:1: not valid YAML: found character that cannot start any token (while scanning for the next token at line 2, column 1); fix the YAML there (`swiftmate config check FILE` checks it)"),
    ("host: {reconnect: true}\n---\nhost: {}\n",
     "t.yaml:2:1: not valid YAML: but found another document (expected a single document in the stream at line 1, column 1); fix the YAML there (`swiftmate config check FILE` checks it)"),
    ("host:\n  [a, b]: 1\n", "t.yaml:2:3: host: a key must be plain text, not a list, a mapping or an alias"),
]

@Test(arguments: 0..<badFiles.count)
func badYAMLIsRefusedInOneLine(_ index: Int) {
    let (yaml, expected) = badFiles[index]
    let start = ContinuousClock.now
    do {
        _ = try SwiftMateConfig.parse(yaml: yaml, file: "t.yaml", registry: PluginRegistry())
        Issue.record("accepted: \(yaml.prefix(60))")
    } catch let error as SwiftMateError {
        #expect(error.code == .badConfig)
        #expect(error.message == expected)
        #expect(!error.message.contains("\n"))
    } catch {
        Issue.record("not a SwiftMateError: \(error)")
    }
    // Refused at once, not after expanding anything (a generous bound for a debug build on a busy machine).
    #expect(ContinuousClock.now - start < .seconds(2))
}

@Test func tooManyValuesAreRefused() {
    let yaml = "host:\n  command: [" + Array(repeating: "x", count: ConfigNode.maxNodes + 10).joined(separator: ", ") + "]\n"
    #expect(throws: SwiftMateError.self) { try SwiftMateConfig.parse(yaml: yaml, file: "t.yaml", registry: PluginRegistry()) }
}

@Test func aValueWithLineBreaksIsQuotedOnOneLine() {
    // Found by the yaml fuzz target: a plain scalar over several lines, quoted in "expected a mapping".
    for yaml in ["_\n\nes :t\u{e0}\n", "host:\n  relay: \"tcp://a\\nb:1\"\n", "host: {codecs: [\"l\\u001bz4\"]}\n"] {
        do {
            _ = try SwiftMateConfig.parse(yaml: yaml, file: "t.yaml", registry: PluginRegistry())
            Issue.record("accepted \(yaml.debugDescription)")
        } catch let error as SwiftMateError {
            #expect(!error.message.contains("\n") && !error.message.contains("\u{1b}"), "\(error.message.debugDescription)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
