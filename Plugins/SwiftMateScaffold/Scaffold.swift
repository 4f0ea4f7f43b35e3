// `swift package swiftmate-scaffold KIND NAME`: a new frontend, transport or codec target, registered under a
// YAML name, with a test target that runs SwiftMate's contract suite, added to the package's manifest.
import Foundation
import PackagePlugin

@main
struct SwiftMateScaffold: CommandPlugin {
    func performCommand(context: PluginContext, arguments: [String]) async throws {
        let usage = "usage: swift package --allow-writing-to-package-directory swiftmate-scaffold frontend|transport|codec NAME"
        let words = arguments.filter { !$0.hasPrefix("--") }
        guard words.count == 2, let kind = PluginKind(rawValue: words[0]) else { throw ScaffoldError("\(usage)") }
        let name = words[1]
        guard let first = name.unicodeScalars.first, CharacterSet.uppercaseLetters.contains(first),
              name.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII }) else {
            throw ScaffoldError("NAME must be an UpperCamelCase Swift identifier (letters and digits, e.g. Stats); got '\(name)'")
        }
        let package = context.package
        let root = package.directoryURL
        let inSwiftMate = package.products.contains { $0.name == "SwiftMateCore" }
        var swiftMatePackage = ""
        if !inSwiftMate {
            guard let dependency = package.dependencies.first(where: { $0.package.products.contains { $0.name == "SwiftMateCore" } }) else {
                throw ScaffoldError("this package does not depend on SwiftMate: add .package(url: …swiftmate…) to Package.swift first")
            }
            swiftMatePackage = dependency.package.id
        }
        let scaffold = Scaffold(kind: kind, name: name, swiftMatePackage: swiftMatePackage, inSwiftMate: inSwiftMate)
        let files = [(scaffold.sourcePath, scaffold.source), (scaffold.testPath, scaffold.test)]
        for (path, _) in files where FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path) {
            throw ScaffoldError("\(path) already exists; nothing was changed (choose another NAME)")
        }
        let manifest = root.appendingPathComponent("Package.swift")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        guard !text.contains("name: \"\(scaffold.module)\"") else {
            throw ScaffoldError("Package.swift already has a target \(scaffold.module); nothing was changed")
        }
        for (path, contents) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: true, encoding: .utf8)
            print("created \(path)")
        }
        try (text + scaffold.manifestAddition).write(to: manifest, atomically: true, encoding: .utf8)
        print("added \(scaffold.module) (product, target) and \(scaffold.module)Tests to Package.swift")
        print("register it beside the built-ins: SwiftMateSetup.load(configPath: …) { $0.\(scaffold.registerFunction)() }")
        print("choose it in YAML as '\(scaffold.yamlName)'; run its contract test: swift test --filter \(scaffold.module)Tests")
    }
}

struct ScaffoldError: Error, CustomStringConvertible {
    let description: String
    init(_ text: String) { description = text }
}

/// What can be scaffolded.
enum PluginKind: String {
    case frontend, transport, codec

    var suffix: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
    /// Where SwiftMate keeps its own plugins of this kind.
    var folder: String {
        switch self {
        case .frontend: "Frontends"
        case .transport: "Transports"
        case .codec: "Codecs"
        }
    }
}

/// The files and the manifest lines for one new plugin.
struct Scaffold {
    let kind: PluginKind
    let name: String
    let swiftMatePackage: String
    let inSwiftMate: Bool

    var module: String { name + kind.suffix }
    var yamlName: String { name.lowercased() }
    var registerFunction: String { "register\(module)" }
    var sourceFolder: String { inSwiftMate ? "Sources/\(kind.folder)/\(name)" : "Sources/\(module)" }
    var sourcePath: String { "\(sourceFolder)/\(module).swift" }
    var testPath: String { "Tests/\(module)Tests/\(module)ContractTests.swift" }

    private func product(_ name: String) -> String {
        inSwiftMate ? "\"\(name)\"" : ".product(name: \"\(name)\", package: \"\(swiftMatePackage)\")"
    }

    var manifestAddition: String {
        """


        // Added by `swift package swiftmate-scaffold \(kind.rawValue) \(name)`: the `\(yamlName)` \(kind.rawValue) and its contract test.
        package.products += [.library(name: "\(module)", targets: ["\(module)"])]
        package.targets += [
            .target(name: "\(module)", dependencies: [\(product("SwiftMateCore"))], path: "\(sourceFolder)",
                    swiftSettings: [.swiftLanguageMode(.v6)]),
            .testTarget(name: "\(module)Tests", dependencies: ["\(module)", \(product("SwiftMateCore")), \(product("SwiftMateTestSupport"))],
                        path: "Tests/\(module)Tests", swiftSettings: [.swiftLanguageMode(.v6)]),
        ]

        """
    }

    var source: String {
        switch kind {
        case .frontend: Templates.frontend(module: module, yaml: yamlName, register: registerFunction)
        case .transport: Templates.transport(module: module, yaml: yamlName, register: registerFunction)
        case .codec: Templates.codec(module: module, yaml: yamlName, register: registerFunction)
        }
    }

    var test: String { Templates.test(kind: kind, module: module, yaml: yamlName, register: registerFunction) }
}
