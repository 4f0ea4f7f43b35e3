// swift-tools-version:6.0
// SwiftMate: instant terminal sharing. The package layout follows docs/ARCHITECTURE.md.
import PackageDescription
import Foundation

/// msgpack-c is `msgpack` (libmsgpack-dev) on Debian 12 and `msgpack-c` (libmsgpack-c-dev) on
/// Debian 13 / Ubuntu 24.04. The module map names no library; pkg-config supplies the right one.
let msgpackPkgConfig: String = {
    let dirs = ["/usr/lib/x86_64-linux-gnu/pkgconfig", "/usr/lib/aarch64-linux-gnu/pkgconfig",
                "/usr/lib/pkgconfig", "/usr/share/pkgconfig", "/usr/local/lib/pkgconfig"]
    for dir in dirs where FileManager.default.fileExists(atPath: dir + "/msgpack-c.pc") {
        return "msgpack-c"
    }
    return "msgpack"
}()

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "SwiftMate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swiftmate", targets: ["swiftmate"]),
        .library(name: "SwiftMate", targets: ["SwiftMate"]),
        .library(name: "SwiftMateCore", targets: ["SwiftMateCore"]),
        .library(name: "SwiftMateSystem", targets: ["SwiftMateSystem"]),
        .library(name: "SwiftMateCodecs", targets: ["SwiftMateCodecs"]),
        .library(name: "SwiftMateTCP", targets: ["SwiftMateTCP"]),
        .library(name: "SwiftMateSSH", targets: ["SwiftMateSSH"]),
        .library(name: "SwiftMateRecorder", targets: ["SwiftMateRecorder"]),
        .library(name: "SwiftMateANSI", targets: ["SwiftMateANSI"]),
        .library(name: "SwiftMateTestSupport", targets: ["SwiftMateTestSupport"]),
        .plugin(name: "SwiftMateScaffold", targets: ["SwiftMateScaffold"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // HMAC-SHA256 for the relay's resume tickets (and, later, signed webhooks): about 1.5 min of clean build.
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C libraries from Debian packages.
        .systemLibrary(name: "CMsgPack", path: "Sources/Core/CMsgPack", pkgConfig: msgpackPkgConfig,
                       providers: [.apt(["libmsgpack-dev"])]),
        .systemLibrary(name: "CVTerm", path: "Sources/Core/CVTerm", pkgConfig: "vterm",
                       providers: [.apt(["libvterm-dev"])]),
        .systemLibrary(name: "CPTY", path: "Sources/Core/CPTY"),
        .systemLibrary(name: "CLoop", path: "Sources/Core/CLoop"),
        .systemLibrary(name: "CLZ4", path: "Sources/Codecs/CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/Codecs/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CLibSSH", path: "Sources/Transports/CLibSSH", pkgConfig: "libssh",
                       providers: [.apt(["libssh-dev"])]),

        // Core: plugin protocols, wire protocol, registry, config, session engine.
        .target(name: "SwiftMateCore",
                dependencies: ["CMsgPack", "CLoop", .product(name: "Logging", package: "swift-log"),
                               .product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")],
                path: "Sources/Core/SwiftMateCore", swiftSettings: strict),
        // PTYs, raw terminals, signals: the operating-system side of a host and a join client.
        .target(name: "SwiftMateSystem", dependencies: ["SwiftMateCore", "CPTY", .product(name: "Logging", package: "swift-log")],
                path: "Sources/Core/System", swiftSettings: strict),
        // Contract suites every plugin passes, and an in-memory transport pair.
        .target(name: "SwiftMateTestSupport", dependencies: ["SwiftMateCore"],
                path: "Sources/Core/TestSupport", swiftSettings: strict),

        .target(name: "SwiftMateCodecs", dependencies: ["SwiftMateCore", "CLZ4", "CZlib"],
                path: "Sources/Codecs/Codecs", swiftSettings: strict),
        .target(name: "SwiftMateTCP",
                dependencies: ["SwiftMateCore", .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio")],
                path: "Sources/Transports/TCP", swiftSettings: strict),

        .target(name: "SwiftMateSSH",
                dependencies: ["SwiftMateCore", "CLibSSH", .product(name: "Logging", package: "swift-log")],
                path: "Sources/Transports/SSH", swiftSettings: strict),

        // Frontends.
        .target(name: "SwiftMateRecorder", dependencies: ["SwiftMateCore"],
                path: "Sources/Frontends/Recorder", swiftSettings: strict),
        .target(name: "SwiftMateANSI", dependencies: ["SwiftMateCore"],
                path: "Sources/Frontends/ANSI", swiftSettings: strict),

        // The embedding library: built-in plugins, checked setup, in-process host and relay (a composition root).
        .target(name: "SwiftMate",
                dependencies: ["SwiftMateCore", "SwiftMateSystem", "SwiftMateCodecs", "SwiftMateTCP", "SwiftMateSSH", "SwiftMateRecorder", "SwiftMateANSI",
                               .product(name: "Logging", package: "swift-log")],
                path: "Sources/SwiftMate", swiftSettings: strict),

        .executableTarget(name: "swiftmate",
                          dependencies: ["SwiftMate", "SwiftMateCore", "SwiftMateSystem", "SwiftMateRecorder", "SwiftMateANSI", "SwiftMateSSH",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                         .product(name: "Logging", package: "swift-log"),
                                         .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "NIOPosix", package: "swift-nio")],
                          path: "Sources/swiftmate", swiftSettings: strict),
        .executableTarget(name: "swiftmate-bench", dependencies: ["SwiftMateSystem", "SwiftMateCore", "SwiftMateRecorder", "CVTerm", "CLibSSH"],
                          path: "benchmarks/swiftmate-bench", swiftSettings: strict),

        // Fuzz targets (libFuzzer through benchmarks/fuzz.sh; a plain build replays saved inputs).
        .target(name: "SwiftMateFuzzTargets", dependencies: ["SwiftMateCore", "SwiftMateCodecs", "SwiftMateRecorder", "SwiftMateANSI",
                                                     .product(name: "Logging", package: "swift-log")],
                path: "Tests/Fuzz/Targets", swiftSettings: strict),
        .executableTarget(name: "swiftmate-fuzz", dependencies: ["SwiftMateFuzzTargets"],
                          path: "Tests/Fuzz/Driver", swiftSettings: strict),

        // `swift package swiftmate-scaffold frontend|transport|codec NAME`: a new plugin with its contract test.
        .plugin(name: "SwiftMateScaffold",
                capability: .command(intent: .custom(verb: "swiftmate-scaffold",
                                                     description: "Add a frontend, transport or codec target, registered under a YAML name, with a contract test"),
                                     permissions: [.writeToPackageDirectory(reason: "It adds the new plugin's source and test files and declares their targets in Package.swift")]),
                path: "Plugins/SwiftMateScaffold"),

        .testTarget(name: "CoreTests", dependencies: ["SwiftMateCore", "SwiftMateTestSupport"],
                    exclude: ["Golden"], swiftSettings: strict),
        .testTarget(name: "CodecsTests", dependencies: ["SwiftMateCodecs", "SwiftMateTestSupport", "SwiftMateSystem"],
                    swiftSettings: strict),
        .testTarget(name: "TransportsTests", dependencies: ["SwiftMateTCP", "SwiftMateSSH", "SwiftMateTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "FrontendsTests", dependencies: ["SwiftMateRecorder", "SwiftMateANSI", "SwiftMateTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "FuzzTests", dependencies: ["SwiftMateFuzzTargets"], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["SwiftMateCore", "SwiftMateSystem", "SwiftMateRecorder"],
                    swiftSettings: strict),
    ]
)
