// Where saved fuzz inputs live, for the replayer and the regression tests.
import Foundation

/// Saved inputs: `Tests/Fuzz/corpus/TARGET/` (grown by libFuzzer, kept small by merging) and
/// `Tests/Fuzz/regressions/TARGET/` (each input that once crashed or broke a property, kept for good).
public enum FuzzCorpus {
    /// The regular files at `path` (a file, or the files of a directory), sorted.
    public static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
    }
}
