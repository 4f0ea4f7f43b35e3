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
