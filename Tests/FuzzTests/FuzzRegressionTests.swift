// Every saved fuzz input (the grown corpora and each input that once failed) runs through its target again.
import Foundation
import Testing
import SwiftMateFuzzTargets

private let fuzzRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/Tests/Fuzz"
}()

@Test(arguments: FuzzTarget.all.map(\.name))
func savedFuzzInputsStillPass(_ name: String) async throws {
    let target = try #require(FuzzTarget.named(name))
    let files = FuzzCorpus.files(at: "\(fuzzRoot)/regressions/\(name)") + FuzzCorpus.files(at: "\(fuzzRoot)/corpus/\(name)")
    for file in files {
        let input = Array(try #require(FileManager.default.contents(atPath: file), "cannot read \(file)"))
        // Targets that run tasks are awaited, not waited for: other tests may be holding the pool's threads.
        if let play = target.play { await play(input) } else { target.run(input) }
    }
}

@Test func everyFuzzTargetHasACorpus() {
    for t in FuzzTarget.all {
        #expect(!FuzzCorpus.files(at: "\(fuzzRoot)/corpus/\(t.name)").isEmpty, "no saved corpus for fuzz target \(t.name)")
    }
}
