// `swift package swiftmate-scaffold`: in a fresh package that depends on SwiftMate, each kind of plugin it creates
// builds and passes SwiftMate's contract suite without edits.
import Foundation
import Testing

extension EndToEnd { @Suite struct Scaffold {
    @Test func scaffoldedPluginsBuildAndPassTheirContractSuites() throws {
        let dir = try scratchDirectory()
        try """
            // swift-tools-version:6.0
            import PackageDescription

            let package = Package(
                name: "ThirdPartyPlugins",
                platforms: [.macOS(.v15)],
                dependencies: [.package(path: "\(repositoryRoot.path)")],
                targets: []
            )

            """.write(toFile: dir + "/Package.swift", atomically: true, encoding: .utf8)
        for (kind, name) in [("frontend", "Audit"), ("codec", "Runs"), ("transport", "Pipe")] {
            let made = try run(["swift", "package", "--package-path", dir, "--allow-writing-to-package-directory",
                                "swiftmate-scaffold", kind, name], timeout: 600)
            #expect(made.status == 0, "scaffold \(kind) \(name): \(made.stdout)")
        }
        let again = try run(["swift", "package", "--package-path", dir, "--allow-writing-to-package-directory",
                             "swiftmate-scaffold", "frontend", "Audit"], timeout: 600)
        #expect(again.status != 0 && again.stdout.contains("already exists; nothing was changed"), "\(again.stdout)")
        let bad = try run(["swift", "package", "--package-path", dir, "--allow-writing-to-package-directory",
                           "swiftmate-scaffold", "widget", "X"], timeout: 600)
        #expect(bad.status != 0 && bad.stdout.contains("frontend|transport|codec NAME"), "\(bad.stdout)")

        let tested = try run(["swift", "test", "--package-path", dir], timeout: 1200)
        #expect(tested.status == 0, "\(tested.stdout.suffix(3000))")
        for suite in ["AuditFrontendContractTests", "RunsCodecContractTests", "PipeTransportContractTests"] {
            #expect(tested.stdout.contains("Suite \(suite) passed"), "\(suite) ran: \(tested.stdout.suffix(2000))")
        }
    }
} }
