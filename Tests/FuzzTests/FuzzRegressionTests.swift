// Every saved fuzz input (the grown corpora and each input that once failed) runs through its target again.
import Foundation
import Testing
import SwiftMateFuzzTargets

private let fuzzRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path + "/Tests/Fuzz"
}()

/// Runs `body` on a thread of its own: a target may block its thread while it waits (the relay target waits for
/// the relay's tasks), which must not be one of the few threads those tasks need.
private func onOwnThread(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        Thread {
            body()
            done.resume()
        }.start()
    }
}

@Test(arguments: FuzzTarget.all.map(\.name))
func savedFuzzInputsStillPass(_ name: String) async throws {
    let target = try #require(FuzzTarget.named(name))
    let files = FuzzCorpus.files(at: "\(fuzzRoot)/regressions/\(name)") + FuzzCorpus.files(at: "\(fuzzRoot)/corpus/\(name)")
    let inputs = try files.map { Array(try #require(FileManager.default.contents(atPath: $0), "cannot read \($0)")) }
    await onOwnThread { for input in inputs { target.run(input) } }
}

@Test func everyFuzzTargetHasACorpus() {
    for t in FuzzTarget.all {
        #expect(!FuzzCorpus.files(at: "\(fuzzRoot)/corpus/\(t.name)").isEmpty, "no saved corpus for fuzz target \(t.name)")
    }
}
