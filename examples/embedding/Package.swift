// swift-tools-version:6.0
// SwiftMate embedding examples: a custom frontend (`stats`) chosen from YAML, a host that registers it, and a
// program that shares one command and prints the join strings. Depends on SwiftMate as another package would.
import PackageDescription

let package = Package(
    name: "SwiftMateExamples",
    platforms: [.macOS(.v15)],
    dependencies: [
        // A real embedder writes .package(url: "https://github.com/…/swiftmate", from: "…").
        .package(name: "SwiftMate", path: "../.."),
    ],
    targets: [
        .target(name: "StatsFrontend", dependencies: [.product(name: "SwiftMateCore", package: "SwiftMate")],
                swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(name: "stats-host",
                          dependencies: ["StatsFrontend", .product(name: "SwiftMate", package: "SwiftMate")],
                          swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(name: "share-command", dependencies: [.product(name: "SwiftMate", package: "SwiftMate")],
                          swiftSettings: [.swiftLanguageMode(.v6)]),
        .testTarget(name: "StatsFrontendTests",
                    dependencies: ["StatsFrontend", .product(name: "SwiftMateTestSupport", package: "SwiftMate")],
                    swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
