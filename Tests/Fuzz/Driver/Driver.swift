// swiftmate-fuzz: libFuzzer's driver for the fuzz targets (built by benchmarks/fuzz.sh), or, in a plain build,
// a replayer that runs saved inputs through a target (`swiftmate-fuzz TARGET FILE|DIR...`).
import Foundation
import SwiftMateFuzzTargets

#if SWIFTMATE_FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                                 _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                 _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The target chosen by `SWIFTMATE_FUZZ_TARGET`.
private let chosen: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SWIFTMATE_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget.named(name) else {
        FileHandle.standardError.write(Data("set SWIFTMATE_FUZZ_TARGET to one of: \(FuzzTarget.all.map(\.name).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer calls this for every input.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    chosen.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// SwiftPM names an executable's entry point after its module; libFuzzer's driver runs from there.
@_cdecl("swiftmate_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if ProcessInfo.processInfo.environment["SWIFTMATE_FUZZ_LIST"] != nil {
        for t in FuzzTarget.all { print("\(t.name)\t\(t.summary)") }
        return 0
    }
    _ = chosen
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector, fuzzOne)
}
#else
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, name != "--help" else {
            print("usage: swiftmate-fuzz TARGET FILE|DIR...   (runs saved inputs through a fuzz target)")
            print("       swiftmate-fuzz --list")
            print("The libFuzzer build: benchmarks/fuzz.sh")
            return
        }
        if name == "--list" {
            for t in FuzzTarget.all { print("\(t.name)\t\(t.summary)") }
            return
        }
        guard let target = FuzzTarget.named(name) else {
            FileHandle.standardError.write(Data("unknown fuzz target '\(name)'; known: \(FuzzTarget.all.map(\.name).joined(separator: ", "))\n".utf8))
            exit(64)
        }
        var count = 0
        for path in args.dropFirst() {
            for file in FuzzCorpus.files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                target.run(Array(data))
                count += 1
            }
        }
        print("\(name): \(count) inputs ran")
    }
}
#endif
